import { AsyncLocalStorage } from 'node:async_hooks';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { OpenMamError } from '../../errors.ts';
import type { AuditActorRecord, AuditEventRecord, AuditResourceRecord, AuditStore } from '../audit-records.ts';
import type { CollectionPage, CollectionQuery, CollectionSource } from '../collection-query.ts';
import * as collections from '../collections.ts';
import type { AuditEventsTable, Database } from '../schema.ts';
import { Undo } from '../versioned-write.ts';

type AuditEventRow = Selectable<AuditEventsTable>;
type Work<T> = (trx: Transaction<Database>) => Promise<T>;

/**
 * The audit trail's storage (AuditStore in audit-records.ts), over KyselyStore's database and lifecycle. Its one
 * subtle part is `attach`: the event rides on the change's own transaction.
 *
 * How: `attach` runs the store call inside an AsyncLocalStorage scope holding the event (private to this store:
 * nothing else can see or set it). KyselyStore's single write path passes every write transaction's work through
 * `carry`, which reads the scope when the write is asked for (under group commit the work runs later, from another
 * caller's flush, so the scope is read here and captured, never inside the work) and, when an event waits, inserts it
 * after the work succeeded, inside the same transaction. The event is marked written only once that transaction
 * committed: a batch of group commit that fails is rolled back and each unit run again in its own transaction, and
 * the event is inserted again with its unit.
 */

/** An event waiting for the write that carries it. */
interface Attachment {
  readonly event: AuditEventRecord;
  /** `written`: committed with a write; `nothing`: the store answered that nothing was written. */
  state: 'waiting' | 'written' | 'nothing';
}

/**
 * Answers by which a store method says it wrote nothing, although its transaction committed or was undone: the
 * compare-and-set outcomes (`stale`, `not_found`: VersionedWrite, VersionedDelete) and `false` (nothing to delete,
 * already a member). Such a call carries no event: the caller retries, or answers 404/412 (a failure recorded by the
 * Graph layer).
 */
function answeredNothingWritten(result: unknown): boolean {
  if (result === false) return true;
  if (typeof result !== 'object' || result === null || !('kind' in result) || typeof result.kind !== 'string') return false;
  return NOTHING_WRITTEN.has(result.kind);
}

/**
 * The outcome kinds by which store methods refuse without writing: VersionedWrite/VersionedDelete's `stale` and
 * `not_found`, and DeviceActionRequest's `not_enrolled` and `already_pending` (roles.ts). A new refusal outcome of an
 * audited method belongs here (the audit suite checks each refusal writes no event).
 */
const NOTHING_WRITTEN: ReadonlySet<string> = new Set(['stale', 'not_found', 'not_enrolled', 'already_pending']);

export interface AuditStoreContext {
  readonly db: Kysely<Database>;
  /** The store's raw write transaction (group commit on SQLite), which never carries an attached event itself. */
  write<T>(work: Work<T>): Promise<T>;
  track<T>(work: () => Promise<T>): Promise<T>;
  queryCollection<Row>(source: CollectionSource, tenantId: string, query: CollectionQuery): Promise<CollectionPage<Row>>;
}

export class KyselyAuditStore implements AuditStore {
  readonly #context: AuditStoreContext;
  readonly #attached = new AsyncLocalStorage<Attachment>();
  /** Attaches in flight: the storage is disabled when none is (see attach). */
  #attaching = 0;

  constructor(context: AuditStoreContext) {
    this.#context = context;
  }

  async attach<T>(event: AuditEventRecord, write: () => Promise<T>): Promise<T> {
    if (this.#attached.getStore() !== undefined) throw new OpenMamError('internal', `audit event ${event.activity}: attach inside another attach`);
    const attachment: Attachment = { event, state: 'waiting' };
    let result: T;
    this.#attaching++;
    try {
      result = await this.#attached.run(attachment, write);
    } finally {
      // On Node 20 an enabled AsyncLocalStorage installs a promise hook for the whole process, which made every await
      // about 2x dearer in a micro-benchmark (0.15 µs; hot paths await a lot): it is switched off again as soon as no
      // change is being attached, so only admin changes, and requests concurrent with them, pay for it. run()
      // switches it back on.
      if (--this.#attaching === 0) this.#attached.disable();
    }
    if (attachment.state === 'waiting' && !answeredNothingWritten(result)) {
      throw new OpenMamError('internal', `audit event ${event.activity}: the store call wrote nothing through a write transaction, so the event was not recorded`);
    }
    return result;
  }

  /**
   * The write path of every store call (KyselyStore#write): `work` as given, or, inside `attach`, `work` followed by
   * the event's insert in the same transaction. An `Undo` (a missed compare-and-set) or a `nothing written` answer
   * inserts nothing.
   */
  async carry<T>(work: Work<T>): Promise<T> {
    const attachment = this.#attached.getStore();
    if (attachment === undefined || attachment.state === 'written') return this.#context.write(work);
    const result = await this.#context.write(async (trx) => {
      let answer: T;
      try {
        answer = await work(trx);
      } catch (err) {
        if (err instanceof Undo) attachment.state = 'nothing';
        throw err;
      }
      if (answeredNothingWritten(answer)) {
        attachment.state = 'nothing';
        return answer;
      }
      // Group commit may run this unit again (its batch failed): what an earlier run said is forgotten.
      attachment.state = 'waiting';
      await trx.insertInto('audit_events').values(auditEventToRow(attachment.event)).execute();
      return answer;
    });
    // Committed: the event is in the database with the change.
    if (attachment.state === 'waiting') attachment.state = 'written';
    return result;
  }

  record(event: AuditEventRecord): Promise<void> {
    return this.#context.track(async () => {
      await this.#context.write(async (trx) => {
        await trx.insertInto('audit_events').values(auditEventToRow(event)).execute();
      });
    });
  }

  async queryAuditEvents(tenantId: string, query: CollectionQuery): Promise<CollectionPage<AuditEventRecord>> {
    const page = await this.#context.queryCollection<AuditEventRow>(collections.AUDIT_EVENTS, tenantId, query);
    return { ...page, rows: page.rows.map(auditEventFromRow) };
  }

  getAuditEvent(tenantId: string, id: string): Promise<AuditEventRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#context.db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : auditEventFromRow(row);
    });
  }

  /** Oldest first through `audit_events_page` (no index on the time alone is kept for the purge). */
  purgeAuditEventsOlderThan(tenantId: string, before: number, limit: number): Promise<number> {
    return this.#context.track(async () => {
      const deleted = await this.#context.write((trx) =>
        trx
          .deleteFrom('audit_events')
          .where('tenant_id', '=', tenantId)
          .where('id', 'in', (eb) =>
            eb
              .selectFrom('audit_events')
              .select('id')
              .where('tenant_id', '=', tenantId)
              .where('activity_date_time', '<', before)
              .orderBy('activity_date_time', 'asc')
              .limit(Math.max(0, Math.floor(limit))),
          )
          .executeTakeFirst(),
      );
      return Number(deleted.numDeletedRows);
    });
  }
}

function auditEventToRow(event: AuditEventRecord): AuditEventRow {
  return {
    tenant_id: event.tenantId,
    id: event.id,
    activity_date_time: event.activityDateTime,
    display_name: event.displayName,
    activity: event.activity,
    activity_type: event.activityType,
    activity_operation_type: event.activityOperationType,
    activity_result: event.activityResult,
    category: event.category,
    component_name: event.componentName,
    correlation_id: event.correlationId.toLowerCase(),
    // Lower-case: collections.ts AUDIT_EVENTS compares lower-cased literals with them, on their indexes.
    actor_upn: event.actor.userPrincipalName?.toLowerCase() ?? null,
    actor_user_id: event.actor.userId?.toLowerCase() ?? null,
    actor_app_id: event.actor.applicationId?.toLowerCase() ?? null,
    actor: JSON.stringify(event.actor),
    resources: JSON.stringify(event.resources),
  };
}

function auditEventFromRow(row: AuditEventRow): AuditEventRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    displayName: row.display_name,
    componentName: row.component_name,
    actor: JSON.parse(row.actor) as AuditActorRecord,
    activity: row.activity,
    activityDateTime: Number(row.activity_date_time),
    activityType: row.activity_type,
    activityOperationType: row.activity_operation_type,
    activityResult: row.activity_result,
    correlationId: row.correlation_id,
    resources: JSON.parse(row.resources) as AuditResourceRecord[],
    category: row.category,
  };
}
