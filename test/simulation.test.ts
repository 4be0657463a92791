import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { runCli } from '../src/cli/main.ts';
import type { MintRequest } from '../src/identity/dev-idp.ts';
import { MICROSOFT_EDGE, randomDeviceProfile, refuseSomeSettings, SimulatedApp, SimulatedDevice, startSimulation, type Simulation, type TokenSource } from '../src/simulator/index.ts';
import { freePort } from './support/free-port.ts';
import { startTestServer, type TestServer } from './support/server.ts';

/**
 * `openmam simulate` end to end: a small simulated fleet against a real server (real HTTPS, real tokens of the
 * built-in identity provider), on its schedule for a few cycles, then step by step; and the command's refusals.
 */
interface CliRun {
  code: number;
  stderr: string;
}

/** `openmam <args>` in this process (spawning one costs seconds of TypeScript loading), its stderr captured. */
async function openmam(t: TestContext, args: string[]): Promise<CliRun> {
  let stderr = '';
  const write = t.mock.method(process.stderr, 'write', (chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  try {
    return { code: await runCli(args), stderr };
  } finally {
    write.mock.restore();
  }
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('openmam simulate against a running server', () => {
  let server: TestServer;
  let simulation: Simulation;
  let admin: string;
  let tokens: TokenSource;

  before(async () => {
    server = await startTestServer('sqlite');
    admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
    // What the CLI does with the data folder's key: the test server's own identity provider mints.
    tokens = (request) => {
      const mint: Partial<MintRequest> = { tenantId: request.tenantId, roles: request.roles ?? [], groups: request.groups ?? [] };
      if (request.upn !== undefined) mint.upn = request.upn;
      if (request.deviceId !== undefined) mint.deviceId = request.deviceId;
      if (request.clientId !== undefined) mint.clientId = request.clientId;
      if (request.audience !== undefined) mint.audience = request.audience;
      return server.mint(mint);
    };
    // 7200x: a device syncs every half second, an app with a policy checks in every quarter second.
    simulation = await startSimulation({ serverUrl: server.url, ca: server.ca, tenantId: server.tenantId, tokens, devices: 2, apps: 3, setup: true, speed: 7200, seed: 3, failures: false });
  });

  after(async () => {
    await simulation?.stop();
    await server?.close();
  });

  it('enrolls and syncs the devices, registers and checks in the apps, and asks for access decisions, on its schedule', async () => {
    const stats = simulation.stats;
    await until(() => stats.syncs >= 4 && stats.checkIns >= 3 && stats.accessAllowed + stats.accessDenied >= 2, `a few cycles (${JSON.stringify(stats)})`);
    assert.equal(stats.errors, 0, JSON.stringify(stats));
    assert.equal(stats.devicesEnrolled, 2);
    assert.equal(stats.appsRegistered, 3);
    assert.ok(simulation.setup!.created.length >= 5, `the demo objects were made: ${simulation.setup!.created.join(', ')}`);

    const devices = await server.json('GET', '/graph/beta/deviceManagement/managedDevices', admin);
    const listed = devices.body['value'] as { deviceName: string; osVersion: string; userPrincipalName: string }[];
    assert.deepEqual(
      listed.map((d) => `${d.deviceName} ${d.osVersion} ${d.userPrincipalName}`).sort(),
      simulation.devices.map((d) => `${d.profile.deviceName} ${d.profile.osVersion} ${d.upn}`).sort(),
      'the devices are enrolled with their inventory',
    );
    for (const device of simulation.devices) {
      assert.ok(device.syncs >= 1);
      assert.ok([...device.nodes.keys()].some((uri) => uri.includes('/EnterpriseDataProtection/')), `the WIP policy reached ${device.profile.deviceName}`);
    }
    const registrations = await server.json('GET', '/graph/beta/deviceAppManagement/managedAppRegistrations', admin);
    assert.equal((registrations.body['value'] as unknown[]).length, 3);
    assert.deepEqual(simulation.apps.map((a) => a.id).sort(), simulation.apps.map((a) => `${a.device.deviceName}/${a.app.windowsAppId}`).sort());
  });

  it('a high threat report makes an app not compliant and denied; secured again, compliant and allowed', async () => {
    // Windows 10 devices fail the demo policy's minimum OS: the threat is shown on a Windows 11 one.
    const app = simulation.apps.find((a) => !a.device.osVersion.startsWith('10.0.19045.'));
    assert.ok(app, 'seed 3 gives a Windows 11 device');
    assert.equal((await simulation.checkInApp(app.id)).complianceState, 'compliant');
    assert.ok((await simulation.reportThreat(app.device.entraDeviceId, 'high')) >= 1);
    const threatened = await simulation.checkInApp(app.id);
    assert.equal(threatened.complianceState, 'notCompliant');
    assert.ok(threatened.actions.some((a) => a.reason === 'deviceThreatLevel'), JSON.stringify(threatened.actions));
    const denied = await simulation.evaluateAccess(app.id);
    assert.equal(denied.decision, 'deny');
    assert.ok(denied.reasons.includes('deviceThreatLevel'), JSON.stringify(denied));

    // The sign-in log (written behind, every second) shows the denial with its reason.
    const deadline = Date.now() + 8000;
    let logged = false;
    while (!logged && Date.now() < deadline) {
      const signIns = await server.json('GET', '/graph/beta/auditLogs/signIns', admin);
      logged = (signIns.body['value'] as { status: { additionalDetails: string | null } }[]).some((entry) => entry.status.additionalDetails?.includes('deviceThreatLevel'));
      if (!logged) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(logged, 'the denial is in the sign-in log');

    await simulation.reportThreat(app.id, 'secured');
    assert.equal((await simulation.checkInApp(app.id)).complianceState, 'compliant');
    assert.equal((await simulation.evaluateAccess(app.id)).decision, 'allow');
  });

  it('carries out a wipe by device tag and reports it succeeded', async () => {
    const app = simulation.apps[0]!;
    const wipe = await server.json('POST', `/graph/beta/users/${app.userId}/wipeManagedAppRegistrationsByDeviceTag`, admin, { deviceTag: app.device.deviceTag });
    assert.equal(wipe.status, 204, JSON.stringify(wipe.body));
    const before = app.wipes;
    const result = await simulation.checkInApp(app.id);
    assert.ok(result.wipes >= 1 || app.wipes > before, 'the wipe handler ran (at this check-in, or a scheduled one just before)');
    assert.equal(app.wiped, true);
  });

  it('its parts, for precise steps: a device of a given user refuses a setting; an Edge app of that user on that device', async () => {
    const profile = randomDeviceProfile(21);
    const common = { serverUrl: server.url, ca: server.ca, tenantId: server.tenantId, tokens, upn: 'kim.tanaka@contoso.example' };
    const device = new SimulatedDevice({ ...common, profile, refuse: refuseSomeSettings(profile.devId, '405') });
    const app = new SimulatedApp({ ...common, app: MICROSOFT_EDGE, device: profile });
    try {
      await device.enroll();
      const session = await device.sync();
      assert.ok(session.commands.length > 0, 'the WIP policy assigned to all users is sent');
      assert.ok(session.failed.some((c) => c.status === '405'), JSON.stringify(session.failed));
      assert.equal((await device.sync()).commands.filter((c) => c.verb !== 'Get').length, 0, 'a refused setting is not sent again until it changes');

      const registered = await app.register();
      assert.ok(app.registrationId);
      assert.equal(registered.complianceState, profile.osVersion.startsWith('10.0.19045.') ? 'notCompliant' : 'compliant');
      const registrations = await server.json('GET', `/graph/beta/users/${app.userId}/managedAppRegistrations`, admin);
      assert.deepEqual(
        (registrations.body['value'] as { deviceTag: string; deviceName: string }[]).map((r) => `${r.deviceTag} ${r.deviceName}`),
        [`${profile.deviceTag} ${profile.deviceName}`],
      );
    } finally {
      app.stop();
      device.close();
    }
  });

  it('refuses to run without a reachable server, and for a tenant the server does not know', async (t) => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-simulate-'));
    try {
      const port = await freePort();
      const unreachable = await openmam(t, ['simulate', '--server', `https://127.0.0.1:${port}`, '--duration', '1s', '--data-dir', dataDir]);
      assert.equal(unreachable.code, 1, unreachable.stderr);
      assert.match(unreachable.stderr, new RegExp(`^openmam: cannot reach the server at https://127\\.0\\.0\\.1:${port}: ECONNREFUSED`, 'm'));
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
    const tenant = randomUUID();
    const unknown = await openmam(t, ['simulate', '--server', server.url, '--tenant', tenant, '--duration', '1s', '--data-dir', server.config.dataDir]);
    assert.equal(unknown.code, 1, unknown.stderr);
    assert.match(unknown.stderr, new RegExp(`^openmam: tenant ${tenant} is not onboarded`, 'm'));
  });

  it('runs from the command line for a while and stops with a summary', async (t) => {
    const run = await openmam(t, ['simulate', '--server', server.url, '--devices', '1', '--apps', '1', '--duration', '2s', '--speed', '7200', '--seed', '9', '--data-dir', server.config.dataDir]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /devices 1\/1 enrolled, [1-9]\d* syncs/);
    assert.match(run.stderr, /apps 1\/1 registered/);
    assert.match(run.stderr, / 0 errors\n$/);
  });
});
