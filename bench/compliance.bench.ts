/**
 * `npm run bench:compliance`: device compliance at fleet size (issue 15, H2). A real OpenMAM runtime on SQLite
 * (test/support/server.ts: the app as `openmam serve` builds it) holds BENCH_DEVICES enrolled MAM devices (default
 * 1,000,000), each with the eight DeviceStatus values compliance reads, seeded straight into the database with
 * multi-row INSERTs (a real enrolled device's row is the template; 2% have their firewall off). An admin then creates
 * and assigns a `windows10CompliancePolicy` through the Graph API, and the bench measures the off-path re-evaluation
 * of the whole tenant that the assignment starts (from the `assign` answer until the run is done), the peak RSS and
 * heap above the idle process while it runs, and the steady check-ins of a real simulated device (an OMA-DM session
 * over HTTPS) before and during the run. A PATCH of the policy repeats the measurement (every state rewritten at the
 * new version).
 *
 * Environment: BENCH_DEVICES (1000000), BENCH_BATCH (1000: devices per batch). The last line is JSON:
 * {"bench":"compliance",...}.
 */
import { randomUUID } from 'node:crypto';
import SqliteDatabase from 'better-sqlite3';
import { DEVICE_STATUS_NODES } from '../src/core/devices/device-facts.ts';
import { DeviceSimulator } from '../test/support/device-simulator.ts';
import { startTestServer, type TestServer } from '../test/support/server.ts';

const DEVICES = Number(process.env['BENCH_DEVICES'] ?? 1_000_000);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const round1 = (ms: number): number => Math.round(ms * 10) / 10;
const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;
const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
};

/** DeviceStatus values of a healthy device; the firewall's is set per device. */
const STATUS: Readonly<Record<keyof typeof DEVICE_STATUS_NODES, string>> = {
  edition: '48',
  mode: '0',
  encryption: '1',
  tpm: '2.0',
  antivirus: '0',
  antivirusSignatures: '1',
  antispyware: '0',
  firewall: '0',
};

/** Multi-row INSERTs of `rows` into `table`, `perStatement` rows a statement (prepared once per size). */
function insertMany(db: SqliteDatabase.Database, table: string, columns: readonly string[], rows: readonly unknown[][], perStatement: number): void {
  const statements = new Map<number, SqliteDatabase.Statement>();
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    let statement = statements.get(chunk.length);
    if (statement === undefined) {
      const values = chunk.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
      statement = db.prepare(`insert into ${table} (${columns.join(', ')}) values ${values}`);
      statements.set(chunk.length, statement);
    }
    statement.run(chunk.flat());
  }
}

/** Adds `count` enrolled devices like `templateId`'s (own ids, the tenant's), their management state and DeviceStatus inventory. */
function seed(file: string, templateId: string, count: number): void {
  const db = new SqliteDatabase(file);
  try {
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    const template = db.prepare('select * from enrollments where id = ?').get(templateId) as Record<string, unknown>;
    const device = db.prepare('select * from devices where dev_id = ?').get(template['dev_id']) as Record<string, unknown>;
    const state = db.prepare('select * from management_state where enrollment_id = ?').get(templateId) as Record<string, unknown>;
    const enrollmentColumns = Object.keys(template);
    const deviceColumns = Object.keys(device);
    const stateColumns = Object.keys(state);
    const perRow = (columns: readonly string[]) => Math.max(1, Math.floor(30_000 / columns.length));
    const now = Date.now();
    const CHUNK = 20_000;
    for (let from = 0; from < count; from += CHUNK) {
      const enrollments: unknown[][] = [];
      const devices: unknown[][] = [];
      const states: unknown[][] = [];
      const inventory: unknown[][] = [];
      for (let i = from; i < Math.min(count, from + CHUNK); i++) {
        const n = i.toString(16).padStart(12, '0');
        const id = `00000000-c0c0-4000-8000-${n}`;
        const devId = `C0${n.padStart(30, '0')}`.toUpperCase();
        const entraDeviceId = `22222222-c0c0-4000-8000-${n}`;
        const changed: Record<string, unknown> = { id, dev_id: devId, user_oid: `11111111-c0c0-4000-8000-${n}`, upn: `bulk${i}@contoso.example`, entra_device_id: entraDeviceId, created_at: now, enrolled_at: now, updated_at: now, compliance_state: 'unknown', compliance_grace_until: null };
        enrollments.push(enrollmentColumns.map((c) => (c in changed ? changed[c] : template[c])));
        devices.push(deviceColumns.map((c) => (c === 'dev_id' ? devId : c === 'entra_device_id' ? entraDeviceId : device[c])));
        states.push(stateColumns.map((c) => (c === 'enrollment_id' ? id : state[c])));
        for (const [name, node] of Object.entries(DEVICE_STATUS_NODES)) {
          const value = name === 'firewall' && i % 50 === 0 ? '1' : STATUS[name as keyof typeof STATUS];
          inventory.push([id, node, value, now]);
        }
      }
      db.transaction(() => {
        insertMany(db, 'devices', deviceColumns, devices, perRow(deviceColumns));
        insertMany(db, 'enrollments', enrollmentColumns, enrollments, perRow(enrollmentColumns));
        insertMany(db, 'management_state', stateColumns, states, perRow(stateColumns));
        insertMany(db, 'inventory', ['enrollment_id', 'loc_uri', 'value', 'updated_at'], inventory, 2_000);
      })();
      if ((from / CHUNK) % 10 === 0) log(`  seeded ${Math.min(count, from + CHUNK).toLocaleString('en-US')} devices`);
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.exec('analyze');
  } finally {
    db.close();
  }
}

interface RunMeasurement {
  seconds: number;
  devicesPerSecond: number;
  peakRssMiB: number;
  peakHeapMiB: number;
  checkIns: { count: number; p50Ms: number; p99Ms: number; maxMs: number };
}

/** Steady check-ins of one device, back to back, until `until` resolves; their latencies. */
async function checkInsDuring(device: DeviceSimulator, until: Promise<unknown>): Promise<number[]> {
  let done = false;
  void until.finally(() => (done = true));
  const latencies: number[] = [];
  while (!done) {
    const start = performance.now();
    const session = await device.sync();
    latencies.push(performance.now() - start);
    if (session.commands.length > 0) throw new Error(`not a steady check-in: ${session.commands.map((c) => `${c.verb} ${c.locUri}`).join(', ')}`);
  }
  return latencies;
}

async function measureRun(server: TestServer, device: DeviceSimulator, change: () => Promise<void>): Promise<RunMeasurement> {
  const app = server.runtime.app;
  global.gc?.();
  const idle = process.memoryUsage();
  let peakRss = idle.rss;
  let peakHeap = idle.heapUsed;
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  }, 50);
  const start = performance.now();
  await change();
  // The write kicked this node's evaluator; wait for the run (and any run a poll starts meanwhile).
  const finished = (async () => {
    await app.compliance.settled();
    app.compliance.tenantChanged();
    await app.compliance.settled();
  })();
  const latencies = await checkInsDuring(device, finished);
  await finished;
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  return {
    seconds: round1(seconds),
    devicesPerSecond: Math.round(DEVICES / seconds),
    peakRssMiB: mib(peakRss - idle.rss),
    peakHeapMiB: mib(peakHeap - idle.heapUsed),
    checkIns: { count: latencies.length, p50Ms: round1(percentile(latencies, 0.5)), p99Ms: round1(percentile(latencies, 0.99)), maxMs: round1(Math.max(0, ...latencies)) },
  };
}

async function main(): Promise<void> {
  const server = await startTestServer('sqlite');
  const app = server.runtime.app;
  const admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
  const graph = async (method: 'POST' | 'PATCH', path: string, body: unknown): Promise<Record<string, unknown>> => {
    const response = await app.server.inject({ method, url: `/graph/beta${path}`, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    if (response.statusCode >= 300) throw new Error(`${method} ${path}: ${response.statusCode} ${response.body}`);
    return JSON.parse(response.body) as Record<string, unknown>;
  };
  const device = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ upn: 'steady@contoso.example', deviceId: randomUUID() }) });
  try {
    await device.enroll();
    while ((await device.sync()).commands.length > 0);
    const template = (await app.store.getActiveEnrollmentByDevId(device.devId))!;
    const file = server.config.databaseUrl.slice('sqlite:'.length);
    log(`seeding ${DEVICES.toLocaleString('en-US')} devices`);
    const seedStart = performance.now();
    seed(file, template.id, DEVICES - 1);
    const seedSeconds = round1((performance.now() - seedStart) / 1000);
    log(`  ${seedSeconds} s`);

    const before: number[] = [];
    for (let i = 0; i < 200; i++) {
      const start = performance.now();
      await device.sync();
      before.push(performance.now() - start);
    }
    const steady = { p50Ms: round1(percentile(before, 0.5)), p99Ms: round1(percentile(before, 0.99)) };
    log(`steady check-ins before: p50 ${steady.p50Ms} ms, p99 ${steady.p99Ms} ms`);

    let policyId = '';
    const assign = await measureRun(server, device, async () => {
      const policies = '/deviceManagement/deviceCompliancePolicies';
      policyId = String(
        (await graph('POST', policies, {
          '@odata.type': '#microsoft.graph.windows10CompliancePolicy',
          displayName: 'Bench',
          osMinimumVersion: '10.0.19045.0',
          activeFirewallRequired: true,
          antivirusRequired: true,
          tpmRequired: true,
          scheduledActionsForRule: [{ ruleName: 'PasswordRequired', scheduledActionConfigurations: [{ actionType: 'block', gracePeriodHours: 24 }] }],
        }))['id'],
      );
      await graph('POST', `${policies}/${policyId}/assign`, { assignments: [{ target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } }] });
    });
    log(`assign: ${assign.seconds} s (${assign.devicesPerSecond} devices/s), peak +${assign.peakRssMiB} MiB RSS, +${assign.peakHeapMiB} MiB heap; check-ins meanwhile p50 ${assign.checkIns.p50Ms} ms p99 ${assign.checkIns.p99Ms} ms max ${assign.checkIns.maxMs} ms (${assign.checkIns.count})`);
    const patch = await measureRun(server, device, async () => {
      await graph('PATCH', `/deviceManagement/deviceCompliancePolicies/${policyId}`, { storageRequireEncryption: true });
    });
    log(`patch: ${patch.seconds} s (${patch.devicesPerSecond} devices/s), peak +${patch.peakRssMiB} MiB RSS, +${patch.peakHeapMiB} MiB heap; check-ins meanwhile p50 ${patch.checkIns.p50Ms} ms p99 ${patch.checkIns.p99Ms} ms max ${patch.checkIns.maxMs} ms (${patch.checkIns.count})`);
    const overview = await app.server.inject({ method: 'GET', url: `/graph/beta/deviceManagement/deviceCompliancePolicies/${policyId}/deviceStatusOverview`, headers: { authorization: `Bearer ${admin}` } });
    const counts = JSON.parse(overview.body) as Record<string, unknown>;
    log(`overview: ${counts['successCount']} compliant, ${counts['failedCount']} noncompliant, ${counts['pendingCount']} unknown`);
    process.stdout.write(`${JSON.stringify({ bench: 'compliance', store: 'sqlite', devices: DEVICES, seedSeconds, steadyBefore: steady, assign, patch, overview: { success: counts['successCount'], failed: counts['failedCount'], pending: counts['pendingCount'] } })}\n`);
  } finally {
    device.close();
    await server.close();
  }
}

await main();
