import { randomUUID } from 'node:crypto';
import type { AuditActorRecord, AuditEventRecord, AuditStore } from '../../store/audit-records.ts';
import { modifiedProperties } from './modified-properties.ts';

/**
 * The audit trail of admin changes, as Intune keeps it (learn.microsoft.com/mem/intune/fundamentals/monitor-audit-logs;
 * Graph beta deviceManagement/auditEvents, learn.microsoft.com/graph/api/resources/intune-auditing-auditevent).
 *
 * Every admin change is recorded in the transaction of the change itself: a service wraps its one store write with
 * `AuditTrail.attach`, so the event and the change commit together or not at all (store/audit-records.ts AuditStore).
 * Refused writes are recorded by the Graph layer as `Failure` events (`recordFailure`), in a transaction of their own.
 *
 * Names follow Intune's: an activity is "<Verb> <Entity>" ("Create DeviceConfiguration", "Patch DeviceConfiguration",
 * "Delete DeviceConfiguration", "Assign DeviceConfiguration"), where the entity is the Graph collection's base type
 * in Pascal case; `activityOperationType` is `Create`, `Patch`, `Delete` or `Action` (every other verb); the result
 * `Success` or `Failure`; `category` and `componentName` come from the area of the change (AUDIT_AREAS).
 */

/** Who made a change, as the verified token proved it (never what a request body says). */
export interface AuditActor {
  /** `oid`: the user's object id, or the app's service principal's for an app-only token; null: no token (the CLI). */
  objectId: string | null;
  userPrincipalName: string | null;
  /** `azp` / `appid`: the client the token was issued to. */
  applicationId: string | null;
  /** An app-only token (client credentials): no user signed in. */
  appOnly: boolean;
  /** The app roles the token carried. */
  roles: readonly string[];
  /** The request's client address. */
  ipAddress: string | null;
  /** Who ran OpenMAM's CLI on the host (no token proves anyone there: the store is the CLI's own). */
  operator?: string;
}

/** Who, in which tenant, in which request: what every audited service method takes from its route. */
export interface AuditContext {
  tenantId: string;
  actor: AuditActor;
  /** The request id (a UUID, answered as `x-request-id`): Graph's `correlationId`. */
  correlationId: string;
}

/**
 * The areas of OpenMAM an admin changes, with the category and component Intune files them under (Intune's
 * categories, as `getAuditCategories` lists them: DeviceConfiguration, Compliance, Application, Device, Role,
 * Other, ...; OpenMAM's areas with no Intune counterpart are `Other`).
 */
export const AUDIT_AREAS = {
  deviceConfiguration: { category: 'DeviceConfiguration', componentName: 'DeviceConfiguration' },
  compliance: { category: 'Compliance', componentName: 'DeviceCompliance' },
  appProtection: { category: 'Application', componentName: 'ManagedApplications' },
  appCatalogue: { category: 'Application', componentName: 'MobileApps' },
  appRegistrations: { category: 'Application', componentName: 'ManagedAppRegistrations' },
  devices: { category: 'Device', componentName: 'ManagedDevices' },
  groups: { category: 'Other', componentName: 'Groups' },
  assignmentFilters: { category: 'DeviceConfiguration', componentName: 'AssignmentFilters' },
  threatDefense: { category: 'Other', componentName: 'MobileThreatDefense' },
  conditionalAccess: { category: 'Conditional Access', componentName: 'ConditionalAccess' },
  servicePrincipals: { category: 'Other', componentName: 'ServicePrincipals' },
  tenantSettings: { category: 'Other', componentName: 'TenantSettings' },
} as const satisfies Readonly<Record<string, { category: string; componentName: string }>>;

export type AuditArea = keyof typeof AUDIT_AREAS;

/** The verbs whose operation type is their own; every other verb is an `Action`. */
const OPERATIONS: Readonly<Record<string, string>> = { Create: 'Create', Patch: 'Patch', Delete: 'Delete' };

/** What kind of change, on what: an activity of an area. */
export interface AuditActivity {
  readonly area: AuditArea;
  /** The Graph base type in Pascal case, e.g. `DeviceConfiguration`. */
  readonly entity: string;
  /** `Create`, `Patch`, `Delete`, or an action in Pascal case (`Assign`, `TargetApps`, `Retire`, `AddMember`, ...). */
  readonly verb: string;
}

/** The activity's name, as Intune writes it: "Create DeviceConfiguration". */
export function activityName(activity: AuditActivity): string {
  return `${activity.verb} ${activity.entity}`;
}

/** `Create`, `Patch`, `Delete` or `Action` (learn.microsoft.com: "The HTTP operation type of the activity"). */
export function operationTypeOf(verb: string): string {
  return OPERATIONS[verb] ?? 'Action';
}

/** `deviceConfiguration` -> `DeviceConfiguration`. */
export function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** The categories an event may have, in the order of AUDIT_AREAS (Graph `getAuditCategories()`). */
export function auditCategories(): string[] {
  return [...new Set(Object.values(AUDIT_AREAS).map((a) => a.category))];
}

/** One change of one object, as the service knows it. */
export interface AuditChange {
  readonly activity: AuditActivity;
  readonly resourceId: string;
  readonly resourceDisplayName?: string | null;
  /** The resource's Graph type (e.g. `windows10CustomConfiguration`); the activity's entity by default. */
  readonly resourceType?: string;
  /** The Graph body before the change (absent for a Create or an action that changes no properties). */
  readonly before?: object;
  /** The Graph body after the change (absent for a Delete). */
  readonly after?: object;
  /** The kind's write-only properties (masked). */
  readonly writeOnly?: readonly string[];
}

/**
 * Time-ordered UUIDv7 (RFC 9562 §5.7): the millisecond time first, so inserts append to the page index, as the
 * sign-in log's ids do.
 */
export function newAuditEventId(now: number): string {
  const uuid = randomUUID();
  const time = Math.max(0, Math.floor(now)).toString(16).padStart(12, '0').slice(-12);
  return `${time.slice(0, 8)}-${time.slice(8)}-7${uuid.slice(15)}`;
}

/** Graph's auditActor of a verified caller: `ItPro` for a signed-in admin, `Application` for an app-only token. */
export function auditActorRecord(actor: AuditActor): AuditActorRecord {
  const type = actor.operator !== undefined ? 'Operator' : actor.appOnly ? 'Application' : 'ItPro';
  return {
    type,
    auditActorType: type,
    userPermissions: [...actor.roles],
    applicationId: actor.applicationId,
    applicationDisplayName: null,
    userPrincipalName: actor.appOnly ? null : actor.userPrincipalName,
    servicePrincipalName: actor.operator ?? (actor.appOnly ? actor.applicationId : null),
    ipAddress: actor.ipAddress,
    userId: actor.objectId,
    userRoleScopeTags: [],
    remoteTenantId: null,
    remoteUserId: null,
  };
}

/**
 * A change made with OpenMAM's CLI on the host (`openmam tenant set`): actor type `Operator`, the operating system's
 * user and host as its service principal name, the CLI as its application, a fresh correlation id.
 */
export function operatorContext(tenantId: string, operator: string): AuditContext {
  return {
    tenantId,
    actor: { objectId: null, userPrincipalName: null, applicationId: 'openmam-cli', appOnly: true, roles: [], ipAddress: null, operator },
    correlationId: randomUUID(),
  };
}

export class AuditTrail {
  constructor(
    private readonly store: Pick<AuditStore, 'attach' | 'record'>,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The event of a change (`Success`), with its modified properties. */
  event(context: AuditContext, change: AuditChange, result: 'Success' | 'Failure' = 'Success'): AuditEventRecord {
    const now = this.clock();
    const name = activityName(change.activity);
    const area = AUDIT_AREAS[change.activity.area];
    return {
      tenantId: context.tenantId,
      id: newAuditEventId(now),
      displayName: name,
      componentName: area.componentName,
      actor: auditActorRecord(context.actor),
      activity: name,
      activityDateTime: now,
      activityType: name,
      activityOperationType: operationTypeOf(change.activity.verb),
      activityResult: result,
      correlationId: context.correlationId,
      resources: [
        {
          displayName: change.resourceDisplayName ?? null,
          modifiedProperties: result === 'Success' ? modifiedProperties(change.before, change.after, change.writeOnly) : [],
          type: change.resourceType ?? change.activity.entity,
          auditResourceType: change.resourceType ?? change.activity.entity,
          resourceId: change.resourceId,
        },
      ],
      category: area.category,
    };
  }

  /**
   * Runs `write` (one store call) with the change's event attached: written in the same transaction, or not at all
   * (AuditStore.attach). Without a context (a change OpenMAM makes itself: a sweep, the compliance engine), `write`
   * runs alone.
   */
  attach<T>(context: AuditContext | undefined, change: AuditChange, write: () => Promise<T>): Promise<T> {
    if (context === undefined) return write();
    return this.store.attach(this.event(context, change), write);
  }

  /** A refused admin write: `Failure`, no modified properties, in a transaction of its own. */
  recordFailure(context: AuditContext, activity: AuditActivity, resourceId: string | null): Promise<void> {
    return this.store.record(this.event(context, { activity, resourceId: resourceId ?? '' }, 'Failure'));
  }
}

/** Bookkeeping of a stored record that is no property an admin set: left out of the trail's comparison. */
const BOOKKEEPING: ReadonlySet<string> = new Set(['tenantId', 'id', 'version', 'createdAt', 'updatedAt', 'lastHeartbeatAt', 'graphExtras']);

/**
 * A stored record of an admin object as the trail compares it: its properties, with its stored-only Graph
 * properties (`graphExtras`) among them, as the admin wrote them.
 */
export function auditedRecord(record: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record)) if (!BOOKKEEPING.has(name)) out[name] = value;
  const extras = (record as { graphExtras?: unknown }).graphExtras;
  if (typeof extras === 'object' && extras !== null) Object.assign(out, extras);
  return out;
}

/**
 * The change of a versioned admin object (create, PATCH, delete) for the trail: `before` and `after` as stored
 * records, compared by `auditedRecord`.
 */
export function recordChange(subject: Omit<AuditActivity, 'verb'>, verb: 'Create' | 'Patch' | 'Delete', before: { id: string } | undefined, after: { id: string } | undefined, displayName: string | null): AuditChange {
  return {
    activity: { ...subject, verb },
    resourceId: (after ?? before)!.id,
    resourceDisplayName: displayName,
    ...(before === undefined ? {} : { before: auditedRecord(before) }),
    ...(after === undefined ? {} : { after: auditedRecord(after) }),
  };
}
