/**
 * `npm run bench:enroll`: MAM enrollments per second on one OpenMAM server process (SQLite, HTTPS), against a bare
 * Fastify HTTPS handler answering a fixed response, measured in the same run. The load generator (autocannon) runs
 * in this process, each server in a child process: two cores, one each.
 *
 * Every request is a complete Windows-shaped RequestSecurityToken with its own device id; users are drawn from a
 * pool of tokens (distinct tokens, so the token cache does not hide signature verification for the first use of
 * each). The last line of output is JSON: {"bench":"enroll","ops_per_s":..,"baseline_ops_per_s":..,"ratio":..,...}.
 * Environment: BENCH_DURATION (seconds, default 10), BENCH_CONNECTIONS (default 16), BENCH_USERS (default 2000).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { loadConfig } from '../src/config.ts';
import { DevIdentityProvider } from '../src/identity/dev-idp.ts';
import { openStore } from '../src/store/open-store.ts';
import { mamEnrollmentRequest } from '../test/support/windows-client.ts';
import { startChildServer, stopChild, type ChildServer } from './child-server.ts';

const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const USERS = Number(process.env['BENCH_USERS'] ?? 2000);
const ENROLL_PATH = '/EnrollmentServer/Enrollment.svc';

type Child = ChildServer<{ port: number; tenantId?: string }>;

const startServer = (kind: 'openmam' | 'baseline', dataDir: string): Promise<Child> => startChildServer(new URL('./servers.ts', import.meta.url), [kind, dataDir]);
const stopServer = (child: Child): Promise<void> => stopChild(child.process);

interface Measured {
  requests: number;
  opsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** Drives `bodies` round-robin for `seconds`. Response bodies are not read here (that would load the client core);
 * whether every request really enrolled is checked afterwards against the store. */
async function load(port: number, bodies: readonly string[], seconds: number): Promise<Measured> {
  let next = 0;
  const result = await autocannon({
    url: `https://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: ENROLL_PATH,
        headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
        setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length]! }),
      },
    ],
  });
  return {
    requests: result['2xx'],
    opsPerSecond: result['2xx'] / (result.duration || seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-bench-'));
  try {
    const openmam = await startServer('openmam', dataDir);
    const config = loadConfig({}, { OPENMAM_DATA_DIR: dataDir, OPENMAM_PUBLIC_URL: 'https://127.0.0.1:8443' });
    const idp = await DevIdentityProvider.open(dataDir, config.publicUrl);
    const tenantId = openmam.info.tenantId!;
    const now = Date.now();
    const tokens = await Promise.all(
      Array.from({ length: USERS }, (_, i) => idp.mint({ tenantId, upn: `user${i}@contoso.example`, deviceId: randomUUID(), audience: config.appIdUri, expiresInSeconds: 3600, now })),
    );
    // One body per request we expect to send: every device is new, so each request is a real insert.
    const expected = Math.ceil(5000 * DURATION);
    const bodies = Array.from({ length: expected }, (_, i) => mamEnrollmentRequest({ token: tokens[i % USERS]!, deviceId: randomUUID().replace(/-/g, '').toUpperCase() }));
    const warmBodies = Array.from({ length: 2000 }, (_, i) => mamEnrollmentRequest({ token: tokens[i % USERS]!, deviceId: `WARM${i}` }));

    process.stderr.write(`warming up OpenMAM (${USERS} users)...\n`);
    await load(openmam.info.port, warmBodies, 3);
    process.stderr.write(`measuring OpenMAM for ${DURATION} s with ${CONNECTIONS} connections...\n`);
    const measured = await load(openmam.info.port, bodies, DURATION);
    await stopServer(openmam);

    // Same TLS material, same request bodies; the baseline's fixed response has the size of a real one.
    const baseline = await startServer('baseline', dataDir);
    await load(baseline.info.port, warmBodies, 3);
    process.stderr.write(`measuring the bare Fastify baseline for ${DURATION} s...\n`);
    const bare = await load(baseline.info.port, bodies, DURATION);
    await stopServer(baseline);

    // Every measured body has a device of its own: each 2xx that did not become a stored enrollment was a fault.
    const store = await openStore(config.databaseUrl);
    const stored = (await store.listEnrollments(tenantId, { limit: 10_000_000 })).filter((e) => !e.devId.startsWith('WARM')).length;
    await store.close();
    const faults = Math.max(0, Math.min(measured.requests, bodies.length) - stored);

    const ratio = measured.opsPerSecond / bare.opsPerSecond;
    process.stdout.write(
      [
        `OpenMAM MAM enrollments: ${measured.opsPerSecond.toFixed(0)}/s (p50 ${measured.p50} ms, p99 ${measured.p99} ms, faults ${faults}, non-2xx ${measured.non2xx}, errors ${measured.errors})`,
        `bare Fastify baseline:   ${bare.opsPerSecond.toFixed(0)}/s (p50 ${bare.p50} ms, p99 ${bare.p99} ms)`,
        `ratio: ${ratio.toFixed(3)}; measured enrollments stored: ${stored}`,
        JSON.stringify({
          bench: 'enroll',
          ops_per_s: Math.round(measured.opsPerSecond),
          baseline_ops_per_s: Math.round(bare.opsPerSecond),
          ratio: Number(ratio.toFixed(3)),
          p50_ms: measured.p50,
          p99_ms: measured.p99,
          faults,
          errors: measured.errors,
          enrollments_stored: stored,
          connections: CONNECTIONS,
          duration_s: DURATION,
          store: 'sqlite',
        }),
      ].join('\n') + '\n',
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
