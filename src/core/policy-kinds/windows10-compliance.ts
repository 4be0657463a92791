import { randomUUID } from 'node:crypto';
import { COMPLIANCE_SPECS, WINDOWS10_COMPLIANCE_TYPE, validateWindows10CompliancePolicy, type ComplianceScheduledActionForRule } from '../../policy/compliance.ts';
import { configured } from '../compliance/evaluate.ts';
import { DEVICE_COMPLIANCE_POLICIES } from './collections.ts';
import type { CompliancePolicyKind } from './kind.ts';

/**
 * Windows compliance (Graph `windows10CompliancePolicy`; learn.microsoft.com/graph/api/resources/
 * intune-deviceconfig-windows10compliancepolicy): judged by OpenMAM against what each targeted MAM device reports
 * (core/compliance/). Its rule's actions get an id when the body gives none (Graph's are entities).
 */
export const windows10ComplianceKind: CompliancePolicyKind = {
  kind: 'windows10CompliancePolicy',
  odataType: WINDOWS10_COMPLIANCE_TYPE,
  typeName: 'windows10CompliancePolicy',
  collection: DEVICE_COMPLIANCE_POLICIES,
  specs: COMPLIANCE_SPECS,
  validate: (input, mode) => withIds(validateWindows10CompliancePolicy(input, mode)),
  configures: configured,
};

function withIds(body: Record<string, unknown>): Record<string, unknown> {
  const rules = body['scheduledActionsForRule'] as ComplianceScheduledActionForRule[] | undefined | null;
  if (!Array.isArray(rules)) return body;
  return {
    ...body,
    scheduledActionsForRule: rules.map((rule) => ({
      ...rule,
      id: rule.id ?? randomUUID(),
      scheduledActionConfigurations: rule.scheduledActionConfigurations.map((item) => ({ ...item, id: item.id ?? randomUUID() })),
    })),
  };
}
