/**
 * `npm run bench:policy`: the cost of re-targeting a policy (moving a MAM WIP policy's assignment from one group to
 * another), measured with a few hundred devices in the store (the baseline) and with 1,000,000 (BENCH_DEVICES), in
 * the same run; and the cost of the check-ins that pick the change up afterwards, against a steady-state check-in.
 * Re-targeting writes the policy, its configuration set and one version bump: its time must not depend on the number
 * of devices (target: < 50 ms at 1,000,000). The server runs in this process (SQLite, or PostgreSQL with
 * BENCH_STORE=postgres: bench/bench-store.ts; HTTPS); the devices are the simulator. The steady check-ins' store
 * statements are counted (bench/query-counter.ts: in this process, the server's) per check-in.
 *
 * A device compliance policy is re-targeted the same way, and the run over every device its last change owes is
 * waited for (about 800 s per 1,000,000 devices here). `BENCH_POLICY_COMPLIANCE=0` (default 1) leaves the compliance
 * policy out altogether (none is created, so no run is owed): the WIP re-targeting and the check-ins at sizes where that
 * run would take hours (`BENCH_DEVICES=10000000`). Beyond the bulk insert, the only step whose time grows with the
 * store is the count of enrolled devices after it (one scan, outside the measurements).
 *
 * The last line is JSON: {"bench":"policy","ops_per_s":<re-targetings/s at 1M>,"baseline_ops_per_s":<at the small
 * store>,"ratio":..,"change_ms_small":..,"change_ms_1m":..,"checkin_after_change_ms":..,"steady_checkin_ms":..,
 * "compliance":true|false,"compliance_change_ms_small":..,"compliance_change_ms_1m":..,"compliance_run_s_1m":..} (the
 * three compliance figures null with BENCH_POLICY_COMPLIANCE=0).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Config } from '../src/config.ts';
import { createRuntime, type Runtime } from '../src/main.ts';
import { DeviceSimulator } from '../test/support/device-simulator.ts';
import { openBenchStore } from './bench-store.ts';
import { BENCH_COMPLIANCE_POLICY } from './bulk-devices.ts';
import { describeQueries, installQueryCounter, queryCounts, queryDelta } from './query-counter.ts';
import { DEVICE_COMPLIANCE_POLICIES, WIP_POLICIES, type PolicyCollection } from '../src/core/policy-kinds/index.ts';
import { operatorContext } from '../src/core/audit/audit-trail.ts';

const STORE_DEVICES = Number(process.env['BENCH_DEVICES'] ?? 1_000_000);
const REAL_DEVICES = Number(process.env['BENCH_POLICY_DEVICES'] ?? 200);
const CHANGES = Number(process.env['BENCH_CHANGES'] ?? 50);
const CONCURRENCY = 8;
/** BENCH_POLICY_COMPLIANCE: 1 (default) re-targets a compliance policy too and waits for the run it owes; 0 leaves it out. */
const COMPLIANCE = ((): boolean => {
  const value = process.env['BENCH_POLICY_COMPLIANCE'] ?? '1';
  if (value !== '0' && value !== '1') throw new Error(`BENCH_POLICY_COMPLIANCE must be 0 or 1, not "${value}"`);
  return value === '1';
})();

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function start(config: Config): Promise<{ runtime: Runtime; url: string }> {
  const runtime = await createRuntime(config, { logger: false });
  await runtime.app.server.listen({ port: 0, host: '127.0.0.1' });
  return { runtime, url: `https://127.0.0.1:${(runtime.app.server.server.address() as AddressInfo).port}` };
}

async function pool<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

/** `value` to `digits` decimals; null for a figure not measured (BENCH_POLICY_COMPLIANCE=0). */
const rounded = (value: number | undefined, digits: number): number | null => (value === undefined ? null : Number(value.toFixed(digits)));

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** A group assignment through the bench's device filter (issue 15: filters on while re-targeting). */
const filtered = (groupId: string, filterId: string) => ({
  assignments: [{ target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId, deviceAndAppManagementAssignmentFilterId: filterId, deviceAndAppManagementAssignmentFilterType: 'include' } }],
});

/**
 * Moves the policy's assignment (of `collection`) between the two groups `CHANGES` times, through the filter; answers
 * the median milliseconds per change.
 */
async function retarget(runtime: Runtime, tenantId: string, collection: PolicyCollection, policyId: string, groups: [string, string], filterId: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const groupId = groups[i % 2]!;
    const started = performance.now();
    await runtime.app.policies.assign(operatorContext(tenantId, 'bench'), collection, policyId, filtered(groupId, filterId));
    times.push(performance.now() - started);
  }
  return median(times);
}

async function sessions(devices: readonly DeviceSimulator[]): Promise<{ msPerSession: number; commands: number }> {
  let commands = 0;
  const started = performance.now();
  await pool(devices, async (device) => {
    const transcript = await device.sync();
    if (transcript.headerStatus !== '200') log(`device ${device.devId}: SyncHdr status ${transcript.headerStatus}`);
    commands += transcript.commands.length;
  });
  return { msPerSession: ((performance.now() - started) / devices.length) * CONCURRENCY, commands };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-bench-policy-'));
  const benchStore = await openBenchStore(dataDir);
  const config = loadConfig({}, { OPENMAM_DATA_DIR: dataDir, OPENMAM_PORT: '0', OPENMAM_PUBLIC_URL: 'https://127.0.0.1', OPENMAM_DATABASE_URL: benchStore.databaseUrl });
  // The server runs in this process: its statements are counted here (bench/query-counter.ts).
  installQueryCounter();
  try {
    log(`store: ${benchStore.kind}`);
    let { runtime, url } = await start(config);
    const tenantId = runtime.defaultTenant.id;
    const ca = await readFile(config.tlsCertFile, 'utf8');
    const [from, to] = [randomUUID(), randomUUID()] as [string, string];
    log(`enrolling ${REAL_DEVICES} simulated devices whose users are in group ${to}...`);
    const tokens: string[] = [];
    for (let i = 0; i < REAL_DEVICES; i++) {
      tokens.push(await runtime.devIdp!.mint({ tenantId, upn: `member${i}@contoso.example`, deviceId: randomUUID(), groups: [to], audience: config.appIdUri, expiresInSeconds: 7200, now: Date.now() }));
    }
    const devices = tokens.map((token) => new DeviceSimulator({ baseUrl: url, ca, token }));
    await pool(devices, async (device) => {
      await device.enroll();
      await device.sync();
    });
    const policy = await runtime.app.policies.create(operatorContext(tenantId, 'bench'), WIP_POLICIES, {
      displayName: 'bench',
      enforcementLevel: 'encryptAuditAndBlock',
      enterpriseDomain: 'contoso.com',
      enterpriseProtectedDomainNames: [{ displayName: 'Contoso', resources: ['contoso.com'] }],
      enterpriseIPRanges: [{ displayName: 'HQ', ranges: [{ '@odata.type': '#microsoft.graph.iPv4Range', lowerAddress: '10.0.0.1', upperAddress: '10.0.255.255' }] }],
      pinMinimumLength: 6,
      minutesOfInactivityBeforeDeviceLock: 10,
    });

    // Issue 15's device life on: every assignment goes through a device filter, and (BENCH_POLICY_COMPLIANCE=1) a
    // compliance policy is assigned to the members' group, so the devices' inventory is judged (off the request path).
    const filter = await runtime.app.assignmentFilters.create(operatorContext(tenantId, 'bench'), {
      displayName: 'bench: personal devices',
      platform: 'windows10AndLater',
      rule: '(device.deviceOwnership -eq "Personal")',
      assignmentFilterManagementType: 'devices',
    });
    const compliancePolicy = COMPLIANCE
      ? await runtime.app.policies.create(operatorContext(tenantId, 'bench'), DEVICE_COMPLIANCE_POLICIES, structuredClone(BENCH_COMPLIANCE_POLICY))
      : undefined;
    if (compliancePolicy !== undefined) {
      await runtime.app.policies.assign(operatorContext(tenantId, 'bench'), DEVICE_COMPLIANCE_POLICIES, compliancePolicy.id, filtered(to, filter.id));
      await runtime.app.compliance.settled();
    } else {
      log('compliance policy skipped (BENCH_POLICY_COMPLIANCE=0): none created, no compliance run owed or waited for');
    }

    const small = await retarget(runtime, tenantId, WIP_POLICIES, policy.id, [from, to], filter.id);
    log(`re-targeting with ${REAL_DEVICES} devices in the store: ${small.toFixed(2)} ms (median of ${CHANGES})`);
    await runtime.app.compliance.settled();
    let complianceSmall: number | undefined;
    if (compliancePolicy !== undefined) {
      complianceSmall = await retarget(runtime, tenantId, DEVICE_COMPLIANCE_POLICIES, compliancePolicy.id, [from, to], filter.id);
      log(`re-targeting the compliance policy with ${REAL_DEVICES} devices in the store: ${complianceSmall.toFixed(2)} ms (median of ${CHANGES}; each change owes a re-evaluation run, off the request path)`);
      await runtime.app.compliance.settled();
    }

    await runtime.app.server.close();
    log(`adding devices until the store holds ${STORE_DEVICES}...`);
    await benchStore.bulkInsert(STORE_DEVICES);
    const total = await benchStore.countRows("select count(*) as n from enrollments where state = 'enrolled'");
    ({ runtime, url } = await start(config));
    for (const device of devices) device.close();
    // The same devices (DevIds, tokens) against the restarted server.
    const live = devices.map((d, i) => new DeviceSimulator({ baseUrl: url, ca, token: tokens[i]!, devId: d.devId }));

    const large = await retarget(runtime, tenantId, WIP_POLICIES, policy.id, [from, to], filter.id);
    log(`re-targeting with ${total} devices in the store: ${large.toFixed(2)} ms (median of ${CHANGES})`);
    let complianceLarge: number | undefined;
    let complianceRunSeconds: number | undefined;
    if (compliancePolicy !== undefined) {
      complianceLarge = await retarget(runtime, tenantId, DEVICE_COMPLIANCE_POLICIES, compliancePolicy.id, [from, to], filter.id);
      log(`re-targeting the compliance policy with ${total} devices in the store: ${complianceLarge.toFixed(2)} ms (median of ${CHANGES}; the runs they owe go on behind)`);
    }
    // Leave the policies targeted at the members' group (CHANGES is even, so each last went to `from`): one more change.
    await runtime.app.policies.assign(operatorContext(tenantId, 'bench'), WIP_POLICIES, policy.id, filtered(to, filter.id));
    if (compliancePolicy !== undefined) {
      await runtime.app.policies.assign(operatorContext(tenantId, 'bench'), DEVICE_COMPLIANCE_POLICIES, compliancePolicy.id, filtered(to, filter.id));
      const runStarted = performance.now();
      await runtime.app.compliance.settled();
      complianceRunSeconds = (performance.now() - runStarted) / 1000;
      log(`the compliance run owed to the last change judged the ${total} devices in ${complianceRunSeconds.toFixed(1)} s behind the requests`);
    }
    const after = await sessions(live);
    const queriesBefore = queryCounts();
    const steady = await sessions(live);
    const steadyQueries = queryDelta(queriesBefore, queryCounts());
    log(`steady-state check-ins: ${describeQueries(steadyQueries, live.length)}`);
    for (const { sql, count } of steadyQueries.top) log(`  ${(count / live.length).toFixed(3)} x ${sql}`);
    log(`check-ins that pick the change up: ${after.msPerSession.toFixed(2)} ms per session (${after.commands} commands for ${live.length} devices)`);
    log(`steady-state check-ins afterwards:  ${steady.msPerSession.toFixed(2)} ms per session (${steady.commands} commands)`);
    for (const device of live) device.close();
    await runtime.app.server.close();

    process.stdout.write(
      `${JSON.stringify({
        bench: 'policy',
        ops_per_s: Math.round(1000 / large),
        baseline_ops_per_s: Math.round(1000 / small),
        ratio: Number((small / large).toFixed(3)),
        change_ms_small: Number(small.toFixed(2)),
        change_ms_1m: Number(large.toFixed(2)),
        devices: total,
        checkin_after_change_ms: Number(after.msPerSession.toFixed(2)),
        steady_checkin_ms: Number(steady.msPerSession.toFixed(2)),
        commands_per_changed_device: Number((after.commands / live.length).toFixed(1)),
        compliance: COMPLIANCE,
        compliance_change_ms_small: rounded(complianceSmall, 2),
        compliance_change_ms_1m: rounded(complianceLarge, 2),
        compliance_run_s_1m: rounded(complianceRunSeconds, 1),
        steady_queries_per_checkin: Number((steadyQueries.total / live.length).toFixed(3)),
        store: benchStore.kind,
      })}\n`,
    );
  } finally {
    await benchStore.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
