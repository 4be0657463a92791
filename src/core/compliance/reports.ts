import { OpenMamError } from '../../errors.ts';
import type { CompliancePolicyRecord, ComplianceStateCounts, ComplianceStateRecord } from '../../store/compliance-records.ts';
import type { CompliancePolicyDeviceState, ComplianceStore } from '../../store/compliance-records.ts';
import type { EnrollmentRecord } from '../../store/records.ts';
import type { EnrollmentStore } from '../../store/roles.ts';
import type { PolicyService } from '../policies.ts';
import type { AuditContext } from '../audit/audit-trail.ts';
import { DEVICE_COMPLIANCE_POLICIES } from '../policy-kinds/index.ts';
import type { ExpectedVersion } from '../versioned-write.ts';

/**
 * What admins read of device compliance, from the states the evaluator stored (never computed on the request): a
 * device's states per policy with each setting's result (Graph `deviceCompliancePolicyState`), a policy's states per
 * device (`deviceComplianceDeviceStatus`) and their counts (`deviceComplianceDeviceOverview`).
 */
export class ComplianceReports {
  constructor(
    private readonly store: Pick<ComplianceStore, 'compliancePolicyStatesOf' | 'compliancePolicyDeviceStates' | 'compliancePolicyStateCounts' | 'listCompliancePolicies'>,
    private readonly enrollments: Pick<EnrollmentStore, 'getEnrollment'>,
    private readonly policies: PolicyService,
  ) {}

  /** A device's compliance policy states with the policies they judged; not_found for another tenant's device. */
  async devicePolicyStates(tenantId: string, enrollmentId: string): Promise<{ enrollment: EnrollmentRecord; states: { state: ComplianceStateRecord; policy: CompliancePolicyRecord | undefined }[] }> {
    const enrollment = await this.enrollments.getEnrollment(enrollmentId);
    if (enrollment === undefined || enrollment.tenantId !== tenantId) throw new OpenMamError('not_found', `no managed device with id ${enrollmentId}`);
    const [states, policies] = await Promise.all([this.store.compliancePolicyStatesOf(enrollment.id), this.store.listCompliancePolicies(tenantId)]);
    const byId = new Map(policies.map((p) => [p.id, p]));
    // A deleted policy's rows wait for the tenant's run: not shown meanwhile.
    return { enrollment, states: states.filter((s) => byId.has(s.policyId)).map((state) => ({ state, policy: byId.get(state.policyId) })) };
  }

  async deviceStatuses(tenantId: string, policyId: string, after: string | null, top: number): Promise<{ policy: CompliancePolicyRecord; rows: CompliancePolicyDeviceState[] }> {
    const policy = (await this.policies.get(tenantId, DEVICE_COMPLIANCE_POLICIES, policyId)) as CompliancePolicyRecord;
    return { policy, rows: await this.store.compliancePolicyDeviceStates(tenantId, policy.id, after, top) };
  }

  async overview(tenantId: string, policyId: string): Promise<{ policy: CompliancePolicyRecord; counts: ComplianceStateCounts; lastEvaluatedAt: number | null }> {
    const policy = (await this.policies.get(tenantId, DEVICE_COMPLIANCE_POLICIES, policyId)) as CompliancePolicyRecord;
    return { policy, ...(await this.store.compliancePolicyStateCounts(tenantId, policy.id)) };
  }

  /**
   * Graph `scheduleActionsForRules` (learn.microsoft.com/graph/api/intune-deviceconfig-devicecompliancepolicy-
   * scheduleactionsforrules): replaces the policy's rules, one merge rule with PATCH (validated whole, versioned).
   */
  async scheduleActions(caller: AuditContext, policyId: string, rules: unknown, expected: ExpectedVersion): Promise<CompliancePolicyRecord> {
    // A PATCH of the policy's rules: recorded in the trail as one ("Patch DeviceCompliancePolicy").
    return (await this.policies.update(caller, DEVICE_COMPLIANCE_POLICIES, policyId, { scheduledActionsForRule: rules }, expected)) as CompliancePolicyRecord;
  }

  async scheduledActions(tenantId: string, policyId: string): Promise<CompliancePolicyRecord> {
    return (await this.policies.get(tenantId, DEVICE_COMPLIANCE_POLICIES, policyId)) as CompliancePolicyRecord;
  }
}
