import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { DeviceActionService } from '../../core/management/device-actions.ts';
import { DEVICE_ACTION_AUDIT, deviceActionResults } from '../../core/management/device-actions.ts';
import { pascal } from '../../core/audit/audit-trail.ts';
import { auditContextOf } from '../graph/graph-api.ts';
import { RETIRED_DEVICES } from '../../store/collections.ts';
import type { DeviceActionKind, DeviceActionRecord, EnrollmentRecord } from '../../store/records.ts';
import type { EnrollmentStore } from '../../store/roles.ts';
import { collectionRoute } from '../graph/collection-routes.ts';
import { recordOperation } from '../graph/metadata-route.ts';
import { EntityBody, GuidParams, NO_CONTENT_RESPONSES, NullableString, SafeString } from '../graph/schemas.ts';
import type { SkipTokens } from '../graph/skip-token.ts';
import { DeviceActionResult } from './managed-device.ts';

/**
 * Graph's managedDevice actions on a MAM-enrolled device (core/management/device-actions.ts says what each does on a
 * MAM device): `POST deviceManagement/managedDevices/{id}/retire`, `/wipe` and `/syncDevice`, Admin role only, 204
 * like Graph (learn.microsoft.com/graph/api/intune-devices-manageddevice-retire, -wipe, -syncdevice). Another
 * tenant's id is 404; a device that is no longer enrolled, or whose retire or wipe is pending already, is 409. The
 * action reaches the device at its next check-in; its progress is the managedDevice's `managementState` and
 * `deviceActionResults`.
 *
 * Ended enrollments (retired, wiped, unenrolled by their user, retired as stale) stay readable at managedDevices/{id}
 * and are listed, for reports, as beta `deviceManagement/openMamRetiredDevices` (OpenMAM's own: Graph's managedDevices
 * lists only managed devices).
 */
export interface DeviceActionRoutesOptions {
  actions: Pick<DeviceActionService, 'request' | 'resultsOf'>;
  devices: Pick<EnrollmentStore, 'queryRetiredDevices'>;
  baseUrl: string;
  version: 'beta' | 'v1.0';
  skipTokens: SkipTokens;
}

/**
 * Retire and syncDevice take no parameters: no body or `{}`, anything else named and refused. Graph's wipe
 * parameters, each checked by core (checkWipeParameters) against what a MAM wipe can honour.
 */
const NoParameters = Type.Object({}, { additionalProperties: false });
const WipeBody = Type.Object(
  {
    keepEnrollmentData: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    keepUserData: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    macOsUnlockCode: Type.Optional(Type.Union([SafeString({ maxLength: 64 }), Type.Null()])),
    persistEsimDataPlan: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    useProtectedWipe: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  },
  { additionalProperties: false },
);

/** An ended enrollment as `openMamRetiredDevice`. */
const RetiredDevice = EntityBody({
  id: Type.String(),
  deviceName: NullableString(),
  operatingSystem: Type.String(),
  azureADDeviceId: NullableString(),
  userId: Type.String(),
  userPrincipalName: NullableString(),
  managementState: Type.String(),
  enrolledDateTime: Type.String(),
  retiredDateTime: NullableString(),
  /** user (the work account was removed on the device), admin (retire or wipe), stale, compliance. */
  retireReason: NullableString(),
  '@openmam.devId': Type.String(),
  deviceActionResults: Type.Array(DeviceActionResult),
});

function presentRetired(enrollment: EnrollmentRecord, actions: readonly DeviceActionRecord[]): Static<typeof RetiredDevice> {
  return {
    '@odata.type': '#microsoft.graph.openMamRetiredDevice',
    id: enrollment.id,
    deviceName: enrollment.deviceName,
    operatingSystem: 'Windows',
    azureADDeviceId: enrollment.entraDeviceId,
    userId: enrollment.userOid,
    userPrincipalName: enrollment.upn,
    managementState: enrollment.managementState,
    enrolledDateTime: new Date(enrollment.enrolledAt).toISOString(),
    retiredDateTime: enrollment.unenrolledAt === null ? null : new Date(enrollment.unenrolledAt).toISOString(),
    retireReason: enrollment.unenrollReason,
    '@openmam.devId': enrollment.devId,
    deviceActionResults: deviceActionResults(actions),
  };
}

export async function deviceActionRoutes(base: FastifyInstance, options: DeviceActionRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  // Graph's SDKs and scripts POST these actions with no body at all: taken as `{}`, so the schema still refuses anything else.
  const emptyBodyIsNone = async (request: { body: unknown }): Promise<void> => {
    if (request.body === undefined || request.body === null) request.body = {};
  };
  const act = (action: DeviceActionKind, body: typeof NoParameters | typeof WipeBody): void => {
    recordOperation(base, {
      kind: 'action',
      name: action,
      bindingType: 'managedDevice',
      parameters:
        action === 'wipe'
          ? [
              { name: 'keepEnrollmentData', type: 'Edm.Boolean' },
              { name: 'keepUserData', type: 'Edm.Boolean' },
              { name: 'macOsUnlockCode', type: 'Edm.String' },
              { name: 'persistEsimDataPlan', type: 'Edm.Boolean' },
              { name: 'useProtectedWipe', type: 'Edm.Boolean' },
            ]
          : [],
    });
    app.post(
      `/deviceManagement/managedDevices/:id/${action}`,
      { config: { access: 'write', audit: { ...DEVICE_ACTION_AUDIT, verb: pascal(action) } }, preValidation: emptyBodyIsNone, schema: { params: GuidParams, body, response: NO_CONTENT_RESPONSES } },
      async (request, reply) => {
        await options.actions.request(auditContextOf(request), request.params.id.toLowerCase(), action, action === 'wipe' ? (request.body as Static<typeof WipeBody>) : {});
        return reply.code(204).send(null);
      },
    );
  };
  act('retire', NoParameters);
  act('wipe', WipeBody);
  act('syncDevice', NoParameters);

  if (options.version !== 'beta') return;
  collectionRoute<EnrollmentRecord>(
    app,
    {
      path: 'deviceManagement/openMamRetiredDevices',
      entityType: 'openMamRetiredDevice',
      entity: RetiredDevice,
      fields: RETIRED_DEVICES.fields,
      properties: Object.keys(RetiredDevice.properties).filter((name) => !name.startsWith('@')),
      navigations: [],
      defaultOrder: [{ field: 'retiredDateTime', descending: true }],
      pageSize: 100,
      maxPageSize: 1000,
      list: (tenantId, query) => options.devices.queryRetiredDevices(tenantId, query),
      // The page's actions in one read (not one per device).
      present: async (page, tenantId) => {
        const actions = await options.actions.resultsOf(tenantId, page.map((e) => e.id));
        return page.map((e) => presentRetired(e, actions.get(e.id) ?? []));
      },
    },
    { baseUrl: options.baseUrl, skipTokens: options.skipTokens },
  );
}
