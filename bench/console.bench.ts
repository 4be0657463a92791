/**
 * `npm run bench:console`: the console's server time against a big tenant (issue 14: with 100,000 registrations and
 * 10,000 devices, the Home page's API calls together < 300 ms, each list page < 100 ms).
 *
 * A real OpenMAM runtime (test/support/server.ts: the app as `openmam serve` builds it, a fresh store) is seeded
 * through its store: 10,000 MAM enrollments, 100,000 app registrations of 25,000 users (mixed compliance states, 70%
 * holding one of 20 app protection policies created through the admin API, 1% with a pending wipe), a threat report
 * per registered device, 20,000 sign-ins, 500 groups and 30 days of hourly activity. Then the Home page's calls —
 * exactly those of web/src/pages/home/home-requests.ts, for the 30-day range (the largest) — and the first page of
 * each console list (registrations, managed devices, sign-ins, policies, groups, users) are sent in rounds through
 * Fastify's inject (routing, the token check, the query, serialization: the server's time without the network), and
 * each call's median over the rounds is reported. The Home figure is the sum of its calls' medians (the page sends
 * them at once; the sum is what the server spends).
 *
 * Environment: BENCH_STORES (default `sqlite`; `sqlite,postgres` adds PostgreSQL at OPENMAM_TEST_POSTGRES_URL, default
 * postgres://postgres@127.0.0.1:5432/test, in a schema of its own), BENCH_REGISTRATIONS (100000), BENCH_DEVICES
 * (10000), BENCH_ROUNDS (15). The last line is JSON: {"bench":"console",...}; the exit code is 1 when a target is
 * missed.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { allHomeRequests, homeRequests, HOUR_MS, rangeHours } from '../web/src/pages/home/home-requests.ts';
import type { AppOperationRecord, AppRegistrationRecord, ThreatLevel } from '../src/store/app-protection-records.ts';
import { ACTIVITY_COUNTERS, type ActivityCounts } from '../src/store/records.ts';
import type { EnrollmentStore, GroupStore, Store } from '../src/store/roles.ts';
import { registrationRecord } from '../test/support/registrations.ts';
import { signInRecord } from '../test/support/sign-ins.ts';
import { startTestServer, type Backend, type TestServer } from '../test/support/server.ts';
import { withPostgresSchema } from '../test/support/postgres.ts';

const REGISTRATIONS = Number(process.env['BENCH_REGISTRATIONS'] ?? 100_000);
const DEVICES = Number(process.env['BENCH_DEVICES'] ?? 10_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 15);
const STORES = (process.env['BENCH_STORES'] ?? 'sqlite').split(',').map((s) => s.trim()) as Backend[];
const HOME_TARGET_MS = 300;
const LIST_TARGET_MS = 100;
const POLICIES = 20;
const USERS = Math.max(1, Math.floor(REGISTRATIONS / 4));
const SIGN_INS = 20_000;
const GROUPS = 500;

/** The first page of each console list, as PagedTable asks for it (25 rows; counted where the list shows a total). */
const LIST_PAGES: Readonly<Record<string, string>> = {
  registrations: '/deviceAppManagement/managedAppRegistrations?$top=25&$count=true',
  managedDevices: '/deviceManagement/managedDevices?$top=25&$count=true',
  signIns: '/auditLogs/signIns?$top=25',
  policies: '/deviceAppManagement/managedAppPolicies?$top=25',
  groups: '/groups?$top=25',
  users: '/users?$top=25',
};

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round1 = (ms: number): number => Math.round(ms * 10) / 10;

/** Runs `work` over `items`, `width` at a time (the store batches concurrent writes: group commit, the pool). */
async function inParallel<T>(items: readonly T[], width: number, work: (item: T, index: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < items.length; start += width) await Promise.all(items.slice(start, start + width).map((item, i) => work(item, start + i)));
}

async function graph(server: TestServer, token: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await server.runtime.app.server.inject({
    method,
    url: `/graph/beta${path}`,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  if (response.statusCode >= 300) throw new Error(`${method} ${path}: ${response.statusCode} ${response.body}`);
  return response.body === '' ? {} : (JSON.parse(response.body) as Record<string, unknown>);
}

/** App protection policies made as an admin makes them: from the Level 2 template, targeted at Edge, assigned. */
async function createPolicies(server: TestServer, admin: string): Promise<string[]> {
  const protections = '/deviceAppManagement/windowsManagedAppProtections';
  const template = await graph(server, admin, 'GET', `${protections}/templates/level2`);
  const body = Object.fromEntries(Object.entries(template).filter(([name]) => !name.startsWith('@odata')));
  const ids: string[] = [];
  for (let i = 0; i < POLICIES; i++) {
    const id = String((await graph(server, admin, 'POST', protections, { ...body, displayName: `Level 2 - ${i}` }))['id']);
    await graph(server, admin, 'POST', `${protections}/${id}/targetApps`, { apps: [{ mobileAppIdentifier: { '@odata.type': '#microsoft.graph.windowsAppIdentifier', windowsAppId: 'com.microsoft.edge' } }] });
    await graph(server, admin, 'POST', `${protections}/${id}/assign`, { assignments: [{ target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } }] });
    ids.push(id);
  }
  return ids;
}

async function seed(server: TestServer, admin: string): Promise<void> {
  const store: EnrollmentStore & GroupStore & Pick<Store, 'appProtection' | 'signIns' | 'activity'> = server.runtime.app.store;
  const tenantId = server.tenantId;
  const now = Date.now();
  let t0 = performance.now();
  const policies = await createPolicies(server, admin);
  const connectorId = String((await graph(server, admin, 'POST', '/deviceManagement/mobileThreatDefenseConnectors', { partnerState: 'enabled', windowsMobileApplicationManagementEnabled: true, partnerUnresponsivenessThresholdInDays: 7 }))['id']);

  const users = Array.from({ length: USERS }, () => randomUUID());
  await inParallel(Array.from({ length: DEVICES }, (_, i) => i), 256, (i) =>
    store.enroll(
      {
        id: randomUUID(),
        tenantId,
        devId: randomUUID().replace(/-/g, '').toUpperCase(),
        userOid: users[i % USERS]!,
        upn: `user${i % USERS}@contoso.example`,
        entraDeviceId: randomUUID(),
        enrollmentType: 'MAM',
        applicationVersion: '10.0.22631.3155',
        requestVersion: '5.0',
        termsAcceptedAt: null,
        hwDevId: null,
        deviceName: `PC-${i}`,
        deviceType: 'CIMClient_Windows',
        osEdition: '72',
        osVersion: '10.0.22631.3155',
        locale: 'en-US',
      },
      now - (DEVICES - i) * 1000,
    ),
  );
  log(`  ${DEVICES} devices in ${round1((performance.now() - t0) / 1000)} s`);

  t0 = performance.now();
  const states: AppRegistrationRecord['complianceState'][] = ['compliant', 'compliant', 'compliant', 'notCompliant', 'unknown'];
  const registrations: AppRegistrationRecord[] = [];
  await inParallel(Array.from({ length: REGISTRATIONS }, (_, i) => i), 256, async (i) => {
    const applied = i % 10 < 7 ? policies[i % POLICIES]! : null;
    const registration = registrationRecord(tenantId, {
      userId: users[i % USERS]!,
      upn: `user${i % USERS}@contoso.example`,
      appId: 'com.microsoft.edge',
      deviceName: `PC-${i}`,
      azureAdDeviceId: randomUUID(),
      azureAdDeviceIdVerified: true,
      createdAt: now - (REGISTRATIONS - i) * 100,
      lastCheckInAt: now - (i % 3600) * 1000,
      appliedPolicyId: applied,
      appliedPolicyVersion: applied === null ? null : 1,
      complianceState: states[i % states.length]!,
    });
    registrations.push(await store.appProtection.upsertRegistration(registration));
  });
  log(`  ${REGISTRATIONS} registrations in ${round1((performance.now() - t0) / 1000)} s`);

  t0 = performance.now();
  const wipes: AppOperationRecord[] = registrations
    .filter((_, i) => i % 100 === 0)
    .map((r) => ({ tenantId, id: randomUUID(), registrationId: r.id, userId: r.userId, kind: 'wipe', reason: 'deviceTag', status: 'pending', detail: null, createdAt: now, completedAt: null, expiresAt: now + 30 * 24 * HOUR_MS }));
  await inParallel(wipes, 256, (wipe) => store.appProtection.addOperations([wipe]));
  // One threat report per registered device of the first DEVICES registrations (a connector reports devices).
  const levels: ThreatLevel[] = ['secured', 'secured', 'secured', 'low', 'medium', 'high'];
  await inParallel(registrations.slice(0, DEVICES), 256, (r, i) =>
    store.appProtection.saveThreatReport({ tenantId, connectorId, userId: r.userId, appId: r.appId, azureAdDeviceId: r.azureAdDeviceId!, healthState: levels[i % levels.length]!, reportedAt: now - i * 1000, receivedAt: now - i * 1000 }),
  );
  const signIns = Array.from({ length: SIGN_INS }, (_, i) => signInRecord(tenantId, { createdAt: now - (SIGN_INS - i) * 100, decision: i % 7 === 0 ? 'deny' : 'allow' }));
  for (let i = 0; i < signIns.length; i += 512) await store.signIns.appendSignIns(signIns.slice(i, i + 512));
  await inParallel(Array.from({ length: GROUPS }, (_, i) => i), 64, (i) => store.createGroup({ tenantId, id: randomUUID(), displayName: `Group ${i}`, description: null, mailNickname: `group${i}`, createdAt: now - i }));
  const hours = rangeHours('30d', now);
  await store.activity.addActivity(
    hours.map((hourStart, i) => {
      const counts = Object.fromEntries(ACTIVITY_COUNTERS.map((c, j) => [c, 1000 + ((i * 37 + j * 11) % 500)])) as ActivityCounts;
      return { tenantId, hourStart, counts };
    }),
  );
  log(`  wipes, threat reports, sign-ins, groups and activity in ${round1((performance.now() - t0) / 1000)} s`);
}

interface Figures {
  store: Backend;
  homeMs: number;
  homeCalls: Record<string, number>;
  listMs: Record<string, number>;
  pass: boolean;
}

async function measure(server: TestServer, token: string): Promise<{ home: Record<string, number>; lists: Record<string, number> }> {
  const named = homeRequests('30d', Date.now());
  // Every Home call there is, by name: allHomeRequests lists the same paths (checked, so that the sum covers them all).
  if (Object.values(named).length !== allHomeRequests('30d', Date.now()).length) throw new Error('home-requests: the named calls and the list differ');
  const samples = new Map<string, number[]>();
  const time = async (key: string, path: string): Promise<void> => {
    const t0 = performance.now();
    await graph(server, token, 'GET', path);
    const ms = performance.now() - t0;
    samples.set(key, [...(samples.get(key) ?? []), ms]);
  };
  // Warm-up rounds (token cache, prepared statements, the tenant snapshot), not counted.
  for (let round = 0; round < ROUNDS + 3; round++) {
    if (round === 3) samples.clear();
    for (const [name, path] of Object.entries(named)) await time(`home.${name}`, path);
    for (const [name, path] of Object.entries(LIST_PAGES)) await time(`list.${name}`, path);
  }
  const medians = (prefix: string): Record<string, number> =>
    Object.fromEntries([...samples].filter(([key]) => key.startsWith(prefix)).map(([key, values]) => [key.slice(prefix.length), round1(median(values))]));
  return { home: medians('home.'), lists: medians('list.') };
}

async function runOn(backend: Backend): Promise<Figures> {
  log(`${backend}: seeding`);
  const server = await startTestServer(backend);
  try {
    const admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
    await seed(server, admin);
    await server.runtime.app.activity.flush();
    if (backend === 'postgres') {
      // Fresh tables have no statistics and no visibility map yet: vacuum and analyze them as autovacuum does after a
      // bulk load (PostgreSQL 13+ vacuums on inserts too), so plans and index-only scans are the steady ones.
      const client = new pg.Client({ connectionString: server.config.databaseUrl });
      await client.connect();
      for (const table of ['enrollments', 'management_state', 'app_registrations', 'app_operations', 'mtd_threat_reports', 'sign_ins', 'groups', 'users', 'activity_hours', 'app_policies']) {
        await client.query(`vacuum analyze ${table}`);
      }
      await client.end();
    }
    const reader = await server.mint({ upn: 'reader@contoso.example', roles: ['OpenMAM.Reader'] });
    log(`${backend}: measuring (${ROUNDS} rounds)`);
    const { home, lists } = await measure(server, reader);
    const homeMs = round1(Object.values(home).reduce((sum, ms) => sum + ms, 0));
    const pass = homeMs < HOME_TARGET_MS && Object.values(lists).every((ms) => ms < LIST_TARGET_MS);
    log(`${backend}: Home ${homeMs} ms (target < ${HOME_TARGET_MS}): ${Object.entries(home).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    log(`${backend}: list first pages (target < ${LIST_TARGET_MS} each): ${Object.entries(lists).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    log(`${backend}: ${pass ? 'PASS' : 'FAIL'}`);
    return { store: backend, homeMs, homeCalls: home, listMs: lists, pass };
  } finally {
    await server.close();
  }
}

const figures: Figures[] = [];
for (const backend of STORES) {
  if (backend === 'postgres') {
    // Fails early and clearly when the server does not answer.
    const probe = await withPostgresSchema().catch((error: unknown) => {
      log(`postgres: skipped (${String(error)})`);
      return undefined;
    });
    if (probe === undefined) continue;
    await probe.drop();
  }
  figures.push(await runOn(backend));
}
process.stdout.write(`${JSON.stringify({ bench: 'console', registrations: REGISTRATIONS, devices: DEVICES, rounds: ROUNDS, targets: { homeMs: HOME_TARGET_MS, listMs: LIST_TARGET_MS }, results: figures })}\n`);
process.exitCode = figures.every((f) => f.pass) ? 0 : 1;
