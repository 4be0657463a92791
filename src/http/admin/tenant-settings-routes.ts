import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { healthAttestationSettingsOf } from '../../core/management/health-attestation.ts';
import { auditRetentionDaysOf, complianceRulesOf, TENANT_SETTINGS_AUDIT, type TenantSettingsService } from '../../core/tenant-settings.ts';
import { auditContextOf } from '../graph/graph-api.ts';
import { DEFAULT_CHECKIN_THRESHOLD_DAYS } from '../../core/compliance/evaluate.ts';
import type { TenantRecord } from '../../store/records.ts';
import { EntityBody, ERROR_RESPONSES, OpenObject } from '../graph/schemas.ts';
import { etagAnnotation, expectedVersion } from '../graph/etag.ts';

/**
 * The caller's own tenant settings, as a Graph-flavoured singleton: `GET` and `PATCH`
 * `{graph root}/deviceManagement/openMamTenantSettings`. Graph has no such resource (Intune keeps these settings
 * internally), hence OpenMAM's name for it. There is no tenant id in the path: a token only ever reaches its own
 * tenant. `OpenMAM.Reader` may read, `OpenMAM.Admin` may change. A PATCH sets any subset of `displayName`,
 * `enrollmentAllowed`, `requireTermsOfUse`, `termsOfUseText`, `pollSchedule` (itself partial), the MAM user scope and
 * `staleDeviceRetireAfterDays` (30 to 270, or null: devices silent that long are retired hourly); a changed poll
 * `enrollmentAllowed`, `requireTermsOfUse`, `termsOfUseText`, `pollSchedule` (itself partial) and `healthAttestation`
 * (`enabled`, off by default, and `serviceUrl`: https://host[:port] of an on-premises DHA service, null for Microsoft's
 * DHA-Cloud; core/management/health-attestation.ts), and device compliance's `secureByDefault` (true: devices with no
 * compliance policy are noncompliant, false: compliant, null: unknown, OpenMAM's default) and
 * `deviceComplianceCheckinThresholdDays` (1 to 120, 30 by default: a device silent that long is noncompliant), as Graph's
 * deviceManagementSettings has them (a change re-evaluates the tenant's devices), and `auditEventRetentionDays` (OpenMAM's
 * own: 30 to 3650, 365 by default: audit events older are purged hourly); a changed poll
 * schedule also reaches enrolled devices at their next check-in (core/tenant-settings.ts). Refusals are 400 with the
 * field's JSON path first in the message. Like every admin resource it carries an entity tag (etag.ts): a PATCH with
 * a stale `If-Match` is 412, and concurrent PATCHes of different fields all land.
 *
 * ```json
 * {
 *   "id": "<tenant id>", "displayName": "Contoso", "identityProvider": "entra",
 *   "enrollmentAllowed": true, "requireTermsOfUse": false, "termsOfUseText": "...",
 *   "pollSchedule": { "numberOfFirstRetries": 8, "intervalForFirstSetOfRetries": 15, "numberOfSecondRetries": 5,
 *     "intervalForSecondSetOfRetries": 60, "numberOfRemainingScheduledRetries": 0,
 *     "intervalForRemainingScheduledRetries": 1440, "pollOnLogin": true, "allUsersPollOnFirstLogin": true },
 *   "createdDateTime": "...", "lastModifiedDateTime": "..."
 * }
 * ```
 */
export const TENANT_SETTINGS_PATH = 'deviceManagement/openMamTenantSettings';

/** Terms of Use text goes up to 20,000 characters; a body stays well within this. */
const BODY_LIMIT = 128 * 1024;

export interface TenantSettingsRoutesOptions {
  tenantSettings: Pick<TenantSettingsService, 'get' | 'update'>;
  /** e.g. https://openmam.example/graph/beta */
  baseUrl: string;
}

/** The answer of GET and PATCH (the example above); the PATCH body is core/tenant-settings.ts's to read. */
const TenantSettings = EntityBody({
  id: Type.String(),
  displayName: Type.String(),
  identityProvider: Type.String(),
  enrollmentAllowed: Type.Boolean(),
  requireTermsOfUse: Type.Boolean(),
  termsOfUseText: Type.String(),
  pollSchedule: Type.Object({
    numberOfFirstRetries: Type.Integer(),
    intervalForFirstSetOfRetries: Type.Integer(),
    numberOfSecondRetries: Type.Integer(),
    intervalForSecondSetOfRetries: Type.Integer(),
    numberOfRemainingScheduledRetries: Type.Integer(),
    intervalForRemainingScheduledRetries: Type.Integer(),
    pollOnLogin: Type.Boolean(),
    allUsersPollOnFirstLogin: Type.Boolean(),
  }),
  mamUserScope: Type.String(),
  mamUserScopeGroupIds: Type.Array(Type.String()),
  staleDeviceRetireAfterDays: Type.Union([Type.Integer(), Type.Null()]),
  healthAttestation: Type.Object({ enabled: Type.Boolean(), serviceUrl: Type.Union([Type.String(), Type.Null()]) }),
  secureByDefault: Type.Union([Type.Boolean(), Type.Null()]),
  deviceComplianceCheckinThresholdDays: Type.Integer(),
  auditEventRetentionDays: Type.Integer(),
  createdDateTime: Type.String(),
  lastModifiedDateTime: Type.String(),
});

function present(baseUrl: string, tenant: TenantRecord): Static<typeof TenantSettings> {
  const { settings } = tenant;
  return {
    '@odata.context': `${baseUrl}/$metadata#${TENANT_SETTINGS_PATH}/$entity`,
    ...etagAnnotation(tenant.version),
    id: tenant.id,
    displayName: tenant.name,
    identityProvider: tenant.identityProvider,
    enrollmentAllowed: tenant.enrollmentAllowed,
    requireTermsOfUse: settings.requireTermsOfUse,
    termsOfUseText: settings.termsOfUseText,
    pollSchedule: { ...settings.pollSchedule },
    mamUserScope: settings.mamUserScope ?? 'all',
    mamUserScopeGroupIds: [...(settings.mamUserScopeGroupIds ?? [])],
    staleDeviceRetireAfterDays: settings.staleDeviceRetireAfterDays ?? null,
    healthAttestation: { ...healthAttestationSettingsOf(settings) },
    secureByDefault: settings.secureByDefault ?? null,
    deviceComplianceCheckinThresholdDays: complianceRulesOf(settings).checkinThresholdDays ?? DEFAULT_CHECKIN_THRESHOLD_DAYS,
    auditEventRetentionDays: auditRetentionDaysOf(settings),
    createdDateTime: new Date(tenant.createdAt).toISOString(),
    lastModifiedDateTime: new Date(tenant.updatedAt).toISOString(),
  };
}

export async function tenantSettingsRoutes(base: FastifyInstance, options: TenantSettingsRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const url = `/${TENANT_SETTINGS_PATH}`;
  const response = { 200: TenantSettings, ...ERROR_RESPONSES };
  app.get(url, { schema: { response } }, async (request) => {
    const { caller } = request;
    return present(options.baseUrl, await options.tenantSettings.get(caller.tenantId));
  });
  app.patch(url, { bodyLimit: BODY_LIMIT, config: { audit: { ...TENANT_SETTINGS_AUDIT, verb: 'Patch' } }, schema: { body: OpenObject, response } }, async (request) => {
    return present(options.baseUrl, await options.tenantSettings.update(auditContextOf(request), request.body, expectedVersion(request)));
  });
}
