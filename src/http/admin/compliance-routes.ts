import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { ComplianceReports } from '../../core/compliance/reports.ts';
import type { ComplianceSettingResult, ComplianceStateRecord, CompliancePolicyRecord } from '../../store/compliance-records.ts';
import { expectedVersion, setEntityTag } from '../graph/etag.ts';
import { auditContextOf, collection } from '../graph/graph-api.ts';
import { policyAuditSubject } from '../../core/policies.ts';
import { DEVICE_COMPLIANCE_POLICIES } from '../../core/policy-kinds/collections.ts';
import { recordOperation } from '../graph/metadata-route.ts';
import type { SkipTokens } from '../graph/skip-token.ts';
import { CollectionBody, EntityBody, ERROR_RESPONSES, GuidParams, NO_CONTENT_RESPONSES, NullableString, OpenObject } from '../graph/schemas.ts';

/**
 * Device compliance reports (learn.microsoft.com/graph/api/resources/intune-deviceconfig-devicecompliancepolicystate,
 * -devicecompliancedevicestatus, -devicecompliancedeviceoverview): a device's states per compliance policy with each
 * setting's state and current value (why), a policy's states per device and their counts, and the policy's
 * `scheduledActionsForRule` (Graph serves it as a navigation). All read from the states the evaluator stored.
 */
export interface ComplianceRoutesOptions {
  reports: ComplianceReports;
  baseUrl: string;
  skipTokens: SkipTokens;
}

const POLICIES = 'deviceManagement/deviceCompliancePolicies';
/** Graph's complianceGracePeriodExpirationDateTime when no grace period runs (it is not nullable). */
const NO_GRACE = '9999-12-31T23:59:59Z';
const iso = (time: number): string => new Date(time).toISOString();

const SettingState = Type.Object({
  setting: NullableString(),
  settingName: NullableString(),
  instanceDisplayName: NullableString(),
  state: Type.String(),
  errorCode: Type.Number(),
  errorDescription: NullableString(),
  currentValue: NullableString(),
  userId: NullableString(),
  userName: NullableString(),
  userEmail: NullableString(),
  userPrincipalName: NullableString(),
  sources: Type.Array(OpenObject),
});

const PolicyState = EntityBody({
  id: Type.String(),
  displayName: NullableString(),
  platformType: Type.String(),
  settingCount: Type.Number(),
  settingStates: Type.Array(SettingState),
  state: Type.String(),
  version: Type.Number(),
  '@openmam.currentVersion': Type.Number(),
  '@openmam.evaluatedDateTime': Type.String(),
});

const DeviceStatus = EntityBody({
  id: Type.String(),
  deviceDisplayName: NullableString(),
  deviceModel: NullableString(),
  userName: NullableString(),
  userPrincipalName: NullableString(),
  status: Type.String(),
  lastReportedDateTime: Type.String(),
  complianceGracePeriodExpirationDateTime: Type.String(),
  '@openmam.complianceState': Type.String(),
  '@openmam.evaluatedVersion': Type.Number(),
  '@openmam.settingStates': Type.Array(OpenObject),
});

const Overview = EntityBody({
  id: Type.String(),
  pendingCount: Type.Number(),
  notApplicableCount: Type.Number(),
  successCount: Type.Number(),
  errorCount: Type.Number(),
  failedCount: Type.Number(),
  conflictCount: Type.Number(),
  lastUpdateDateTime: Type.String(),
  configurationVersion: Type.Number(),
});

const ActionItem = EntityBody({ id: Type.String(), actionType: Type.String(), gracePeriodHours: Type.Number(), notificationTemplateId: NullableString(), notificationMessageCCList: Type.Array(Type.String()) });
const ScheduledAction = EntityBody({ id: Type.String(), ruleName: NullableString(), scheduledActionConfigurations: Type.Array(ActionItem) });

/** `scheduleActionsForRules`' body (the rules are read by the policy's validator). */
const ScheduleActionsBody = Type.Object({ deviceComplianceScheduledActionForRules: Type.Array(OpenObject, { maxItems: 16 }) }, { additionalProperties: false });

const StatusesQuery = Type.Object({ $top: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })), $skiptoken: Type.Optional(Type.String({ maxLength: 2048 })) });

function settingState(result: ComplianceSettingResult, state: ComplianceStateRecord, policy: CompliancePolicyRecord | undefined, user: { id: string; upn: string | null }) {
  return {
    setting: `windows10CompliancePolicy.${result.setting}`,
    settingName: result.setting,
    instanceDisplayName: null,
    state: result.state,
    errorCode: 0,
    // Why, in words (the current value and what was required).
    errorDescription: result.reason ?? null,
    currentValue: result.currentValue,
    userId: user.id,
    userName: null,
    userEmail: null,
    userPrincipalName: user.upn,
    sources: [{ id: state.policyId, displayName: (policy?.body['displayName'] as string | undefined) ?? null, sourceType: 'deviceConfiguration' }],
  };
}

export async function complianceRoutes(base: FastifyInstance, options: ComplianceRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { reports, baseUrl } = options;

  app.get('/deviceManagement/managedDevices/:id/deviceCompliancePolicyStates', { schema: { params: GuidParams, response: { 200: CollectionBody(PolicyState), ...ERROR_RESPONSES } } }, async (request) => {
    const { enrollment, states } = await reports.devicePolicyStates(request.caller.tenantId, request.params.id);
    return collection(
      `${baseUrl}/$metadata#deviceManagement/managedDevices('${enrollment.id}')/deviceCompliancePolicyStates`,
      states.map(({ state, policy }) => ({
        '@odata.type': '#microsoft.graph.deviceCompliancePolicyState',
        id: state.policyId,
        displayName: (policy?.body['displayName'] as string | undefined) ?? null,
        platformType: 'windows10AndLater',
        settingCount: state.settings.length,
        settingStates: state.settings.map((result) => settingState(result, state, policy, { id: enrollment.userOid, upn: enrollment.upn })),
        state: state.state,
        version: state.policyVersion,
        // The policy's version now: an older `version` means a re-evaluation is on its way.
        '@openmam.currentVersion': policy?.version ?? state.policyVersion,
        '@openmam.evaluatedDateTime': iso(state.evaluatedAt),
      })),
    );
  });

  app.get(`/${POLICIES}/:id/deviceStatuses`, { config: { odata: ['$top', '$skiptoken'] }, schema: { params: GuidParams, querystring: StatusesQuery, response: { 200: CollectionBody(DeviceStatus), ...ERROR_RESPONSES } } }, async (request) => {
    const top = Math.min(Math.max(Number(request.query.$top ?? 1000), 1), 10_000);
    // The keyset position (the page's last enrollment id) in Graph's opaque token, bound to the tenant and policy.
    const binding = `${request.caller.tenantId}\ncompliance-device-statuses\n${request.params.id.toLowerCase()}`;
    const after = request.query.$skiptoken === undefined ? null : String((await options.skipTokens.read(binding, request.query.$skiptoken))[0]);
    const { policy, rows } = await reports.deviceStatuses(request.caller.tenantId, request.params.id, after, top);
    const body = collection(
      `${baseUrl}/$metadata#${POLICIES}('${policy.id}')/deviceStatuses`,
      rows.map((row) => ({
        '@odata.type': '#microsoft.graph.deviceComplianceDeviceStatus',
        id: row.enrollmentId,
        deviceDisplayName: row.deviceName,
        deviceModel: row.model,
        userName: null,
        userPrincipalName: row.userPrincipalName,
        status: row.state,
        lastReportedDateTime: iso(row.evaluatedAt),
        complianceGracePeriodExpirationDateTime: row.graceUntil === null ? NO_GRACE : iso(row.graceUntil),
        '@openmam.complianceState': row.deviceState,
        '@openmam.evaluatedVersion': row.policyVersion,
        // Why: the settings that did not comply or lack evidence.
        '@openmam.settingStates': row.settings.filter((s) => s.state === 'nonCompliant' || s.state === 'unknown').map((s) => ({ setting: s.setting, state: s.state, currentValue: s.currentValue, reason: s.reason ?? null })),
      })),
    );
    const last = rows[rows.length - 1];
    if (rows.length === top && last !== undefined) {
      const token = await options.skipTokens.issue(binding, [last.enrollmentId]);
      body['@odata.nextLink'] = `${baseUrl}/${POLICIES}/${policy.id}/deviceStatuses?$top=${top}&$skiptoken=${encodeURIComponent(token)}`;
    }
    return body;
  });

  app.get(`/${POLICIES}/:id/deviceStatusOverview`, { schema: { params: GuidParams, response: { 200: Overview, ...ERROR_RESPONSES } } }, async (request) => {
    const { policy, counts, lastEvaluatedAt } = await reports.overview(request.caller.tenantId, request.params.id);
    return {
      '@odata.context': `${baseUrl}/$metadata#${POLICIES}('${policy.id}')/deviceStatusOverview/$entity`,
      '@odata.type': '#microsoft.graph.deviceComplianceDeviceOverview',
      id: `${policy.id}_deviceStatusOverview`,
      // Graph's counts by complianceStatus: unknown (no evidence yet) is pending.
      pendingCount: counts.unknown ?? 0,
      notApplicableCount: counts.notApplicable ?? 0,
      successCount: (counts.compliant ?? 0) + (counts.remediated ?? 0),
      errorCount: counts.error ?? 0,
      failedCount: counts.nonCompliant ?? 0,
      conflictCount: counts.conflict ?? 0,
      lastUpdateDateTime: iso(lastEvaluatedAt ?? policy.updatedAt),
      configurationVersion: policy.version,
    };
  });

  recordOperation(app, {
    kind: 'action',
    name: 'scheduleActionsForRules',
    bindingType: 'deviceCompliancePolicy',
    parameters: [{ name: 'deviceComplianceScheduledActionForRules', type: 'deviceComplianceScheduledActionForRule', collection: true }],
  });
  app.post(`/${POLICIES}/:id/scheduleActionsForRules`, { config: { audit: { ...policyAuditSubject(DEVICE_COMPLIANCE_POLICIES), verb: 'Patch' } }, schema: { params: GuidParams, body: ScheduleActionsBody, response: NO_CONTENT_RESPONSES } }, async (request, reply) => {
    const policy = await reports.scheduleActions(auditContextOf(request), request.params.id, request.body.deviceComplianceScheduledActionForRules, expectedVersion(request));
    return setEntityTag(reply, policy.version).code(204).send(null);
  });

  app.get(`/${POLICIES}/:id/scheduledActionsForRule`, { schema: { params: GuidParams, response: { 200: CollectionBody(ScheduledAction), ...ERROR_RESPONSES } } }, async (request) => {
    const policy = await reports.scheduledActions(request.caller.tenantId, request.params.id);
    const rules = (policy.body['scheduledActionsForRule'] as { id?: string; ruleName?: string | null; scheduledActionConfigurations: Record<string, unknown>[] }[] | undefined) ?? [];
    return collection(
      `${baseUrl}/$metadata#${POLICIES}('${policy.id}')/scheduledActionsForRule`,
      rules.map((rule, i) => ({
        '@odata.type': '#microsoft.graph.deviceComplianceScheduledActionForRule',
        id: rule.id ?? String(i),
        ruleName: rule.ruleName ?? null,
        scheduledActionConfigurations: rule.scheduledActionConfigurations.map((item, j) => ({
          '@odata.type': '#microsoft.graph.deviceComplianceActionItem',
          id: String(item['id'] ?? j),
          actionType: String(item['actionType']),
          gracePeriodHours: Number(item['gracePeriodHours'] ?? 0),
          notificationTemplateId: (item['notificationTemplateId'] as string | null | undefined) ?? null,
          notificationMessageCCList: (item['notificationMessageCCList'] as string[] | null | undefined) ?? [],
        })),
      })),
    );
  });
}
