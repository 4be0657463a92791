import type { CollectionPage, CollectionQuery } from './collection-query.ts';

/**
 * The audit trail's records and the role of its store (migration 026; store/repositories/audit-store.ts implements it, reached as
 * `store.audit`). An event is Graph beta's `auditEvent` (learn.microsoft.com/graph/api/resources/intune-auditing-auditevent;
 * microsoftgraph/msgraph-metadata beta: auditEvent, auditActor, auditResource, auditProperty), kept as Graph shows it.
 */

/** Graph `roleScopeTagInfo`: OpenMAM has no scope tags, so an actor's list is always empty; declared for the shape. */
export interface RoleScopeTagInfo {
  displayName: string | null;
  roleScopeTagId: string | null;
}

/** Graph `auditActor`: who made the change (a user, or an app with an app-only token), from the verified token. */
export interface AuditActorRecord {
  /** `ItPro` (a signed-in administrator) or `Application` (an app-only token), as Intune writes them. */
  type: string;
  /** The same value: Graph beta added `auditActorType` beside `type`, which it keeps. */
  auditActorType: string;
  /** The app roles the token carried (`OpenMAM.Admin`, `OpenMAM.Reader`). */
  userPermissions: string[];
  /** The client the token was issued to (`azp` or `appid`). */
  applicationId: string | null;
  applicationDisplayName: string | null;
  userPrincipalName: string | null;
  /** An app-only token's client id (Entra's service principal is the app's). */
  servicePrincipalName: string | null;
  ipAddress: string | null;
  /** The token's `oid`: the user's (or the app's service principal's) object id. */
  userId: string | null;
  userRoleScopeTags: RoleScopeTagInfo[];
  remoteTenantId: string | null;
  remoteUserId: string | null;
}

/** Graph `auditProperty`: one changed property, both values as text (empty when absent). */
export interface AuditPropertyRecord {
  displayName: string;
  oldValue: string;
  newValue: string;
}

/** Graph `auditResource`: the object changed, with what changed on it. */
export interface AuditResourceRecord {
  displayName: string | null;
  modifiedProperties: AuditPropertyRecord[];
  /** The Graph entity type, e.g. `windows10CustomConfiguration`. */
  type: string;
  auditResourceType: string;
  resourceId: string;
}

export interface AuditEventRecord {
  tenantId: string;
  /** UUID, time-ordered (v7): inserts append to the page index. */
  id: string;
  displayName: string;
  componentName: string;
  actor: AuditActorRecord;
  activity: string;
  /** Epoch milliseconds. */
  activityDateTime: number;
  activityType: string;
  /** `Create`, `Patch`, `Delete` or `Action`, as Intune writes them. */
  activityOperationType: string;
  /** `Success` or `Failure`. */
  activityResult: string;
  /** The request id (a UUID), answered as `x-request-id`. */
  correlationId: string;
  resources: AuditResourceRecord[];
  category: string;
}

/**
 * The audit trail's store. Append-only: no method changes or deletes an event, except the retention purge.
 */
export interface AuditStore {
  /**
   * Runs `write` (one call of another method of this store) with `event` attached: the event is inserted in the
   * transaction of that call's write, after its work succeeded, so the change and its event commit together or not at
   * all (an undone compare-and-set writes no event; a group commit that runs the work again inserts it again).
   * When the call answered that it wrote nothing (a `stale` or `not_found` outcome, `false`, or an undone write),
   * no event is written; when it returned without any write transaction carrying the event, `internal` (a programming
   * error: the call site attached the event to a call that does not write through the store).
   */
  attach<T>(event: AuditEventRecord, write: () => Promise<T>): Promise<T>;
  /** Inserts `event` in a transaction of its own (a refused request's `Failure`). */
  record(event: AuditEventRecord): Promise<void>;
  /** One page of a tenant's events (collections.ts AUDIT_EVENTS), by keyset. */
  queryAuditEvents(tenantId: string, query: CollectionQuery): Promise<CollectionPage<AuditEventRecord>>;
  getAuditEvent(tenantId: string, id: string): Promise<AuditEventRecord | undefined>;
  /** Deletes at most `limit` of the tenant's events older than `before`, oldest first, in one transaction; answers how many. */
  purgeAuditEventsOlderThan(tenantId: string, before: number, limit: number): Promise<number>;
}
