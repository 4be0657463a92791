import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import { OpenMamError } from '../../errors.ts';
import type { WipLogRequestRecord } from '../records.ts';
import type { WipLogStore } from '../roles.ts';
import { MAX_WIP_LOG_REQUESTS_PER_DEVICE } from '../roles.ts';
import type { Database, WipLogRequestsTable } from '../schema.ts';
import type { StoreContext } from '../store-context.ts';
import { upsertManagementState } from './shared.ts';

/** WIP log requests (Reporting CSP) and the logs retrieved, per device (WipLogStore). */
export class KyselyWipLogRepository implements WipLogStore {
  readonly #db: Kysely<Database>;
  readonly #context: Pick<StoreContext, 'db' | 'track' | 'write'>;

  constructor(context: Pick<StoreContext, 'db' | 'track' | 'write'>) {
    this.#db = context.db;
    this.#context = context;
  }

  requestWipLogs(request: WipLogRequestRecord): Promise<void> {
    return this.#context.track(() =>
      this.#context.write(async (trx) => {
        const enrollment = await trx.selectFrom('enrollments').select('id').where('id', '=', request.enrollmentId).where('tenant_id', '=', request.tenantId).executeTakeFirst();
        if (enrollment === undefined) throw new OpenMamError('not_found', `enrollment ${request.enrollmentId} does not exist`);
        // Unsettled first: the device's next check-in plans the retrieval instead of answering "nothing to do". Its
        // management state row is also the device's lock: concurrent requests for one device queue on it (PostgreSQL,
        // read committed), so each trims with the others' rows committed and in sight, and the bound holds.
        await upsertManagementState(trx, request.enrollmentId, { settled_version: -1 });
        await trx.insertInto('wip_log_requests').values(wipLogRequestToRow(request)).execute();
        // The newest MAX_WIP_LOG_REQUESTS_PER_DEVICE stay; older ones go, a bounded number per write.
        const older = await trx
          .selectFrom('wip_log_requests')
          .select('id')
          .where('enrollment_id', '=', request.enrollmentId)
          .orderBy('requested_at', 'desc')
          .orderBy('id', 'desc')
          .offset(MAX_WIP_LOG_REQUESTS_PER_DEVICE)
          .limit(1024)
          .execute();
        if (older.length > 0) await trx.deleteFrom('wip_log_requests').where('id', 'in', older.map((r) => r.id)).execute();
      }),
    );
  }

  pendingWipLogRequests(enrollmentId: string): Promise<WipLogRequestRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#db
        .selectFrom('wip_log_requests')
        .selectAll()
        .where('enrollment_id', '=', enrollmentId)
        .where('status', '=', sql.lit<WipLogRequestRecord['status']>('pending'))
        .orderBy('requested_at', 'asc')
        .orderBy('id', 'asc')
        .execute();
      return rows.map(wipLogRequestFromRow);
    });
  }

  listWipLogRequests(tenantId: string, enrollmentId: string, limit: number): Promise<WipLogRequestRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#db
        .selectFrom('wip_log_requests')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('enrollment_id', '=', enrollmentId)
        .orderBy('requested_at', 'desc')
        .orderBy('id', 'desc')
        .limit(Math.max(0, Math.floor(limit)))
        .execute();
      return rows.map(wipLogRequestFromRow);
    });
  }
}

function wipLogRequestToRow(request: WipLogRequestRecord): Selectable<WipLogRequestsTable> {
  return {
    id: request.id,
    tenant_id: request.tenantId,
    enrollment_id: request.enrollmentId,
    mode: request.mode,
    start_time: request.startTime,
    stop_time: request.stopTime,
    log_count: request.logCount,
    log_type: request.logType,
    status: request.status,
    status_code: request.statusCode,
    requested_at: request.requestedAt,
    completed_at: request.completedAt,
    logs: request.logs,
    entries: request.entries === null ? null : JSON.stringify(request.entries),
  };
}

function wipLogRequestFromRow(row: Selectable<WipLogRequestsTable>): WipLogRequestRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    enrollmentId: row.enrollment_id,
    mode: row.mode,
    startTime: row.start_time,
    stopTime: row.stop_time,
    logCount: row.log_count,
    logType: row.log_type === 1 ? 1 : 0,
    status: row.status,
    statusCode: row.status_code,
    requestedAt: row.requested_at,
    completedAt: row.completed_at,
    logs: row.logs,
    entries: row.entries === null ? null : (JSON.parse(row.entries) as Record<string, string>[]),
  };
}
