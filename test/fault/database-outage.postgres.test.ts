import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { DeviceSimulator, EnrollmentHttpError, EnrollmentRefusedError, TryLaterError, type HttpResult } from '../support/device-simulator.ts';
import { postgresSkipReason } from '../support/postgres.ts';

const EXCHANGE = '00000002-0000-0ff1-ce00-000000000000';
import {
  CONFIGURATIONS,
  Cluster,
  MAM_APP,
  MICROSOFT_EDGE_CLIENT_ID,
  isNetworkError,
  missingOn,
  pgCtlcluster,
  postgresAccepts,
  postgresRestartSkipReason,
  printFigures,
  settled,
  sleep,
  syncUntilSettled,
  tryLaterProblem,
  waitForPostgres,
  type Surface,
} from './cluster.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * Database outages (issue 11, items 1 and 5): the cluster's PostgreSQL connections terminated under write traffic
 * (pg_terminate_backend), then the PostgreSQL server stopped and started (only where the machine allows it, once,
 * last). Nodes never exit; while the database is away every surface answers its "try later" (503 + Retry-After, in
 * the protocol's shape) and never another 5xx; within seconds of the database's return every node serves again; the
 * devices then converge on the policy as last acknowledged.
 */
const skip = await postgresSkipReason('the database outage faults');
const restartSkip = postgresRestartSkipReason();
const SURFACES: readonly Surface[] = ['omadm', 'enrollment', 'graph', 'mam', 'access'];
const DEVICES = 6;
const SETTINGS = 4;
/** "Within seconds": a node that needs longer than this after the database's return fails the fault. */
const RECOVERY_LIMIT_MS = 10_000;

const settingsFor = (round: number): Record<string, unknown>[] =>
  Array.from({ length: SETTINGS }, (_, i) => ({ '@odata.type': '#microsoft.graph.omaSettingString', displayName: `wifi ${i}`, omaUri: `./Vendor/MSFT/VPNv2/Outage${i}/ProfileXML`, value: `<VPNProfile>${round}-${i}</VPNProfile>` }));
const desiredFor = (round: number): Map<string, string> => new Map(Array.from({ length: SETTINGS }, (_, i) => [`./Vendor/MSFT/VPNv2/Outage${i}/ProfileXML`, `<VPNProfile>${round}-${i}</VPNProfile>`]));

/** Answers seen during a fault, classified. */
class Tally {
  requests = 0;
  tryLater = 0;
  readonly violations: string[] = [];
  see(surface: Surface, reply: { status: number; headers: HttpResult['headers']; body: string }, strict: boolean): void {
    this.requests += 1;
    if (reply.status === 503) this.tryLater += 1;
    // Outside an outage (strict = false) only a forbidden 5xx counts; inside, any answer but 2xx/try-later does.
    const problem = strict ? tryLaterProblem(surface, reply) : reply.status >= 500 ? tryLaterProblem(surface, reply) : undefined;
    if (problem !== undefined) this.violations.push(problem);
  }
  failed(surface: Surface, error: unknown): void {
    this.requests += 1;
    this.violations.push(`${surface}: ${isNetworkError(error) ? 'no answer (node down?)' : 'error'}: ${error instanceof Error ? error.message.slice(0, 200) : String(error)}`);
  }
}

skippableSuite('fault: database outages (PostgreSQL, two nodes)', { skip: skip ?? false }, () => {
  let cluster: Cluster;
  let policyId: string;
  let round = 0;
  let probeDevice: DeviceSimulator;
  let probeToken: string;
  const devices: DeviceSimulator[] = [];
  let userToken: string;
  /** The user's Edge token for Exchange, as the gateway passes it on. */
  let resourceToken: string;
  let gatewayToken: string;
  let registrationId: string;

  /** One request to `surface` on node `node`; the answer as the client saw it. */
  async function probe(surface: Surface, node: number): Promise<{ status: number; headers: HttpResult['headers']; body: string }> {
    const options = { node, token: userToken };
    switch (surface) {
      case 'omadm': {
        const device = new DeviceSimulator({ baseUrl: cluster.urlOf(node), ca: cluster.ca, token: probeToken, devId: probeDevice.devId });
        try {
          const transcript = await device.sync();
          const last = transcript.messages.at(-1)!;
          return { status: last.status, headers: last.headers, body: last.response };
        } finally {
          device.close();
        }
      }
      case 'enrollment': {
        const device = new DeviceSimulator({ baseUrl: cluster.urlOf(node), ca: cluster.ca, token: await cluster.mint({ upn: `probe-${randomUUID().slice(0, 8)}@contoso.example`, deviceId: randomUUID() }) });
        try {
          await device.enroll();
          return { status: 200, headers: {}, body: '' };
        } catch (error) {
          if (error instanceof EnrollmentHttpError) return error.response;
          // A 503 with Retry-After: the simulator keeps the answer, whose fault shape tryLaterProblem checks.
          if (error instanceof TryLaterError) return { status: error.status, headers: error.response.headers, body: error.response.body ?? '' };
          // HTTP 200 with a fault other than the one for maintenance: not a "try later".
          if (error instanceof EnrollmentRefusedError) return { status: 200, headers: {}, body: `<s:Fault>${error.message}</s:Fault>` };
          throw error;
        } finally {
          device.close();
        }
      }
      case 'graph':
        return cluster.call('GET', CONFIGURATIONS, undefined, { node });
      case 'mam':
        return cluster.call('POST', `/mam/v1/registrations/${registrationId}/checkin`, { appVersion: '120.0.2210.91', sdkVersion: '1.0.0', osVersion: '10.0.22631.3155', policyVersion: null, configurationVersion: null }, options);
      case 'access':
        return cluster.call('POST', '/access/v1/evaluate', { userToken: resourceToken, appId: MAM_APP, resource: EXCHANGE, registrationId }, { node, token: gatewayToken });
    }
  }

  /** Probes every surface of every node once; records what it saw. */
  async function probeAll(tally: Tally, strict: boolean): Promise<void> {
    await Promise.all(
      cluster.nodes.flatMap((node) =>
        SURFACES.map(async (surface) => {
          try {
            tally.see(surface, await probe(surface, node.index), strict);
          } catch (error) {
            tally.failed(surface, error);
          }
        }),
      ),
    );
  }

  /** Milliseconds from `since` until every surface of `node` answers 2xx (polled); undefined past the limit. */
  async function recoveryOf(node: number, since: number): Promise<number | undefined> {
    const pending = new Set<Surface>(SURFACES);
    while (Date.now() - since < RECOVERY_LIMIT_MS + 5_000) {
      await Promise.all(
        [...pending].map(async (surface) => {
          try {
            const reply = await probe(surface, node);
            if (reply.status >= 200 && reply.status < 300 && !(surface === 'enrollment' && reply.body !== '')) pending.delete(surface);
          } catch {
            // Not yet.
          }
        }),
      );
      if (pending.size === 0) return Date.now() - since;
      await sleep(100);
    }
    return undefined;
  }

  /** A policy change, as an admin makes it; an acknowledged one is the round the devices must end with. */
  async function changePolicy(tally: Tally, strict: boolean): Promise<void> {
    const next = round + 1;
    try {
      const reply = await cluster.call('PATCH', `${CONFIGURATIONS}/${policyId}`, { omaSettings: settingsFor(next) });
      tally.see('graph', reply, strict);
      if (reply.status === 200) round = next;
    } catch (error) {
      tally.failed('graph', error);
    }
  }

  before(async () => {
    cluster = await Cluster.start({ backend: 'postgres', nodes: 2 });
    policyId = await cluster.assignedPolicy(CONFIGURATIONS, { '@odata.type': '#microsoft.graph.windows10CustomConfiguration', displayName: 'outage', omaSettings: settingsFor(0) });
    await cluster.appProtectionPolicy();
    const upn = 'outage-user@contoso.example';
    userToken = await cluster.mint({ upn, clientId: MICROSOFT_EDGE_CLIENT_ID });
    resourceToken = await cluster.mint({ upn, clientId: MICROSOFT_EDGE_CLIENT_ID, audience: EXCHANGE });
    await cluster.graph('POST', '/graph/v1.0/servicePrincipals', { displayName: 'Exchange Online', appId: EXCHANGE });
    gatewayToken = await cluster.mint({ upn: 'gateway@contoso.example', roles: ['OpenMAM.Gateway'] });
    const registered = await cluster.graph('POST', '/mam/v1/registrations', { appId: MAM_APP, appVersion: '120.0.2210.91', sdkVersion: '1.0.0', osVersion: '10.0.22631.3155', deviceTag: randomUUID() }, { token: userToken });
    registrationId = String(registered['registrationId']);
    probeToken = await cluster.mint({ upn: 'probe@contoso.example', deviceId: randomUUID() });
    probeDevice = await cluster.device({ token: probeToken });
    for (let i = 0; i < DEVICES; i += 1) devices.push(await cluster.device());
    for (const device of [probeDevice, ...devices]) await syncUntilSettled(device, 4);
  });
  after(async () => {
    for (const device of [probeDevice, ...devices]) device?.close();
    // Whatever happened, leave PostgreSQL running for everyone else.
    if (restartSkip === undefined && !(await postgresAccepts())) await pgCtlcluster('start').catch(() => undefined);
    await cluster?.close();
  });

  /** Devices sync until settled; the desired values (the last acknowledged round) must be on each. */
  async function converge(tally: Tally): Promise<{ sessions: (number | undefined)[]; missing: string[] }> {
    const sessions: (number | undefined)[] = [];
    const missing: string[] = [];
    const desired = desiredFor(round);
    await Promise.all(
      devices.map(async (device) => {
        try {
          sessions.push(await syncUntilSettled(device, 5, (t) => t.messages.forEach((m) => tally.see('omadm', { status: m.status, headers: m.headers, body: m.response }, false))));
        } catch (error) {
          tally.failed('omadm', error);
          sessions.push(undefined);
        }
        missing.push(...missingOn(device, desired));
      }),
    );
    return { sessions, missing };
  }

  it('pg_terminate_backend under write traffic: nodes survive, only 503 + Retry-After, every node serves again within seconds, devices converge', async () => {
    const tally = new Tally();
    let terminated = 0;
    let stop = false;
    /** Per device, when its latest steady check-in (answered, check-in time buffered) started. */
    const steadyAt = new Map<string, number>();
    const deadline = Date.now() + 20_000;
    // Traffic: devices syncing, an admin changing the policy, probes of every surface on both nodes.
    const traffic = [
      ...devices.map(async (device) => {
        for (let i = 0; i < 50 && !stop && Date.now() < deadline; i += 1) {
          try {
            const started = Date.now();
            const transcript = await device.sync();
            if (settled(transcript)) steadyAt.set(device.devId, started);
            for (const m of transcript.messages) tally.see('omadm', { status: m.status, headers: m.headers, body: m.response }, false);
          } catch (error) {
            tally.failed('omadm', error);
          }
          await sleep(50);
        }
      }),
      (async () => {
        for (let i = 0; i < 50 && !stop && Date.now() < deadline; i += 1) {
          await changePolicy(tally, false);
          await sleep(150);
        }
      })(),
      (async () => {
        for (let i = 0; i < 50 && !stop && Date.now() < deadline; i += 1) {
          await probeAll(tally, false);
          await sleep(100);
        }
      })(),
    ];
    for (let i = 0; i < 6; i += 1) {
      await sleep(400);
      terminated += await cluster.terminateBackends();
    }
    const lastTerminate = Date.now();
    const recoveryMs = await Promise.all(cluster.nodes.map((node) => recoveryOf(node.index, lastTerminate)));
    await sleep(500);
    stop = true;
    await Promise.all(traffic);
    // Buffered check-in times are written every second; one whose write met a terminated connection is retried.
    await sleep(2_500);
    const listing = await cluster.call('GET', '/graph/beta/deviceManagement/managedDevices').catch((error: unknown) => {
      tally.failed('graph', error);
      return undefined;
    });
    const listed = (listing?.json?.['value'] as Record<string, unknown>[] | undefined) ?? [];
    const lastSync = new Map(listed.map((d) => [String(d['@openmam.devId']), Date.parse(String(d['lastSyncDateTime']))]));
    const checkinsLost = [...steadyAt].filter(([devId, at]) => !((lastSync.get(devId) ?? 0) >= at)).map(([devId]) => devId);
    const { sessions, missing } = await converge(tally);
    const backends = await cluster.backendCount();

    printFigures('pg-terminate-backend', {
      devices: DEVICES,
      commands: tally.requests,
      lost: missing.length,
      duplicated: 0,
      recoveryMs: recoveryMs.map((ms) => ms ?? -1),
      terminated,
      answered503: tally.tryLater,
      violations: tally.violations.length,
      checkinTimesLost: checkinsLost.length,
      backendsAfter: backends,
      nodesAlive: cluster.nodes.filter((n) => n.alive).length,
    });
    assert.ok(terminated > 0, 'connections of the cluster were terminated');
    assert.deepEqual(cluster.unexpectedExits(), [], 'no node exited');
    assert.ok(backends > 0, 'the nodes hold database connections again');
    assert.deepEqual(tally.violations.slice(0, 10), [], `only 2xx/4xx or a proper 503 (${tally.violations.length} violations)`);
    assert.ok(recoveryMs.every((ms) => ms !== undefined && ms <= RECOVERY_LIMIT_MS), `every node serves every surface again within ${RECOVERY_LIMIT_MS} ms: ${recoveryMs.join(', ')}`);
    assert.deepEqual(missing, [], 'devices hold the last acknowledged policy');
    assert.ok(sessions.every((n) => n !== undefined), `devices settle (${sessions.join(',')})`);
    assert.deepEqual(checkinsLost, [], 'every answered steady check-in has its time recorded');
  });

  // Last: it stops the machine's PostgreSQL for everyone, so once, and it leaves it running.
  it('PostgreSQL stopped and started: every surface answers "try later" meanwhile, every node serves within seconds of its return', { skip: restartSkip ?? false }, async () => {
    // A node the first case left dead is started again: this case is about the outage, not that one.
    const restarted = cluster.nodes.filter((n) => !n.alive).length;
    for (const node of cluster.nodes) if (!node.alive) await node.start();
    const before = cluster.unexpectedExits().length;
    const tally = new Tally();
    const outage = new Tally();
    await pgCtlcluster('stop');
    let accepting: number;

    try {
      const stoppedAt = Date.now();
      // Probes while it is down: each must be a "try later".
      for (let i = 0; i < 5 && Date.now() - stoppedAt < 4_000; i += 1) {
        await probeAll(outage, true);
        await changePolicy(outage, true);
        await sleep(200);
      }
    } finally {
      await pgCtlcluster('start');
      accepting = await waitForPostgres(60_000, 25);
    }
    const recoveryMs = await Promise.all(cluster.nodes.map((node) => recoveryOf(node.index, accepting)));
    const { sessions, missing } = await converge(tally);

    printFigures('postgres-restart', {
      devices: DEVICES,
      commands: outage.requests + tally.requests,
      lost: missing.length,
      duplicated: 0,
      recoveryMs: recoveryMs.map((ms) => ms ?? -1),
      answered503: outage.tryLater,
      violations: outage.violations.length + tally.violations.length,
      nodesRestartedFirst: restarted,
      nodesAlive: cluster.nodes.filter((n) => n.alive).length,
    });
    assert.ok(await postgresAccepts(), 'PostgreSQL is back for everyone');
    assert.deepEqual(cluster.unexpectedExits().slice(before), [], 'no node exited');
    assert.deepEqual(outage.violations.slice(0, 10), [], `during the outage every surface answered its "try later" (${outage.violations.length} violations of ${outage.requests})`);
    assert.ok(recoveryMs.every((ms) => ms !== undefined && ms <= RECOVERY_LIMIT_MS), `every node serves every surface again within ${RECOVERY_LIMIT_MS} ms: ${recoveryMs.join(', ')}`);
    assert.deepEqual(tally.violations.slice(0, 10), [], 'no forbidden 5xx afterwards');
    assert.deepEqual(missing, [], 'devices hold the last acknowledged policy');
    assert.ok(sessions.every((n) => n !== undefined), `devices settle (${sessions.join(',')})`);
  });
});
