import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Issue 16, part 5: what one device keeps is bounded from now on (core/management/inventory.ts, store/roles.ts);
 * this brings the rows written before the bounds within them, once. The figures are copied, not imported: a shipped
 * migration means what it meant when it ran, whatever the constants become.
 * - inventory: the 15 nodes OpenMAM reads are kept; of any other nodes a device has, its 49 most recently reported.
 * - OMA-DM sessions: a device's 4 newest (by expiry).
 * - WIP log requests: a device's 20 newest.
 * Active app registrations over a user's bound are not touched: they are apps in use; the bound refuses new ones.
 * Rows are ranked with row_number() (SQLite 3.25+, PostgreSQL) and deleted by key, row values (SQLite 3.15+).
 */
const KNOWN_INVENTORY_NODES = [
  './DevInfo/DevId',
  './DevInfo/Man',
  './DevInfo/Mod',
  './DevInfo/DmV',
  './DevInfo/Lang',
  './Vendor/MSFT/DeviceStatus/OS/Edition',
  './Vendor/MSFT/DeviceStatus/OS/Mode',
  './Vendor/MSFT/DeviceStatus/Compliance/EncryptionCompliance',
  './Vendor/MSFT/DeviceStatus/TPM/SpecificationVersion',
  './Vendor/MSFT/DeviceStatus/Antivirus/Status',
  './Vendor/MSFT/DeviceStatus/Antivirus/SignatureStatus',
  './Vendor/MSFT/DeviceStatus/Antispyware/Status',
  './Vendor/MSFT/DeviceStatus/Firewall/Status',
  './Vendor/MSFT/DeviceStatus/UAC/Status',
  './Vendor/MSFT/HealthAttestation/Result',
];
const OTHER_INVENTORY_NODES_KEPT = 49;
const SESSIONS_KEPT = 4;
const WIP_LOG_REQUESTS_KEPT = 20;

export const boundedStores: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const known = sql.join(KNOWN_INVENTORY_NODES.map((node) => sql.lit(node)));
    await sql`delete from inventory where (enrollment_id, loc_uri) in (
        select enrollment_id, loc_uri from (
          select enrollment_id, loc_uri, row_number() over (partition by enrollment_id order by updated_at desc, loc_uri asc) as n
          from inventory where loc_uri not in (${known})
        ) ranked where n > ${sql.lit(OTHER_INVENTORY_NODES_KEPT)})`.execute(db);
    await sql`delete from management_sessions where (enrollment_id, session_id) in (
        select enrollment_id, session_id from (
          select enrollment_id, session_id, row_number() over (partition by enrollment_id order by expires_at desc, session_id desc) as n
          from management_sessions
        ) ranked where n > ${sql.lit(SESSIONS_KEPT)})`.execute(db);
    await sql`delete from wip_log_requests where id in (
        select id from (
          select id, row_number() over (partition by enrollment_id order by requested_at desc, id desc) as n
          from wip_log_requests
        ) ranked where n > ${sql.lit(WIP_LOG_REQUESTS_KEPT)})`.execute(db);
  },

  // What was deleted does not come back; the bounds themselves live in the code.
  async down(): Promise<void> {},
};
