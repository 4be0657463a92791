import type { CspSetting } from '../../csp/compile/setting.ts';
import type { AppPolicyKind } from '../../store/app-protection-records.ts';
import type { CompliancePolicyKindName } from '../../store/compliance-records.ts';
import type { PolicyKind, PolicyRecord } from '../../store/records.ts';

/**
 * What a policy kind is, declared once (one file per kind in this folder, listed in index.ts): its Graph type, the
 * collection that holds it, how its body is read, what of it may be read back, and how it reaches devices. The
 * service (core/policies.ts), the admin routes (http/admin/policy-routes.ts) and `$metadata` are derived from these
 * declarations.
 */

export type GraphVersion = 'v1.0' | 'beta';

/** How a kind reaches devices. */
export type Delivery =
  /** Compiled to CSP settings and delivered over OMA-DM to enrolled devices (a configuration set per policy). */
  | 'omaDm'
  /** Read by managed apps at check-in (the app protection service). */
  | 'checkIn'
  /** Judged by OpenMAM itself against what devices report (core/compliance/): nothing is sent to a device. */
  | 'compliance';

/** A Graph collection of policies: one or more kinds, told apart by `@odata.type`, all delivered the same way. */
export interface PolicyCollection<D extends Delivery = Delivery> {
  /** Under the version root, e.g. `deviceManagement/deviceConfigurations`. */
  readonly path: string;
  /** Graph's entity type of the collection: the base type of its kinds. */
  readonly entityType: string;
  /** The Graph versions that serve it (as Graph does). */
  readonly versions: readonly GraphVersion[];
  readonly delivery: D;
  /** Graph's type of the entity's `version`: deviceConfiguration's is Int32, managedAppPolicy's a String. */
  readonly versionType: 'Int32' | 'String';
  readonly assignment: {
    /** Graph's assignment entity of the collection. */
    readonly entityType: 'targetedManagedAppPolicyAssignment' | 'deviceConfigurationAssignment' | 'deviceCompliancePolicyAssignment';
    /**
     * What `assign` answers: deviceConfiguration's action returns the assignments (200), managedAppPolicy's nothing
     * (204); see each action's Graph reference.
     */
    readonly answer: 'assignments' | 'noContent';
  };
  /** The `targetApps` action and the `apps` navigation (managed app policies); `appGroupType` settable by it or not. */
  readonly targetApps?: { readonly withAppGroupType: boolean };
}

interface PolicyKindBase {
  /** The value of `@odata.type` that names the kind in a body and in answers. */
  readonly odataType: `#microsoft.graph.${string}`;
  /** The Graph type (src/policy/graph-schema) whose properties an answer may carry. */
  readonly typeName: string;
  /**
   * Reads a body: `create` a whole policy (defaults filled in, cross-field rules applied), `update` the properties of
   * a PATCH (each checked, null meaning "clear"). Every refusal names the field (an `OpenMamError`).
   */
  readonly validate: (input: unknown, mode: 'create' | 'update') => Record<string, unknown>;
  /**
   * The properties OpenMAM reads and acts on (the validator's specs, src/policy): a Graph property without one is
   * stored only (shown as not applicable), a spec without a Graph property is one of OpenMAM's additions.
   */
  readonly specs: Readonly<Record<string, unknown>>;
  /** Stored for delivery, never read back: secrets. */
  readonly writeOnly?: readonly string[];
  /**
   * Whether a stored value configures anything, for the not-applicable list; default: any value but null and an empty
   * collection. (Intune exports every property of a compliance policy, `false` for what is not required.)
   */
  readonly configures?: (name: string, value: unknown) => boolean;
}

/** A kind compiled to CSP settings and delivered over OMA-DM. */
export interface DevicePolicyKind extends PolicyKindBase {
  readonly kind: PolicyKind;
  readonly collection: PolicyCollection<'omaDm'>;
  readonly compile: (policy: PolicyRecord, context: { providerId: string }) => CspSetting[];
  /** False for a kind compiled only for checks (MDM WIP, for the MAM-to-MDM handoff): it targets no MAM device. */
  readonly reachesMamDevices: boolean;
}

/** A kind that managed apps read at check-in. */
export interface AppPolicyKindDeclaration extends PolicyKindBase {
  readonly kind: AppPolicyKind;
  readonly collection: PolicyCollection<'checkIn'>;
}

/** A device compliance policy: judged against each targeted device's reported state (core/compliance/). */
export interface CompliancePolicyKind extends PolicyKindBase {
  readonly kind: CompliancePolicyKindName;
  readonly collection: PolicyCollection<'compliance'>;
}

export type PolicyKindDeclaration = DevicePolicyKind | AppPolicyKindDeclaration | CompliancePolicyKind;
