import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DeviceSimulator } from '../support/device-simulator.ts';
import { CONFIGURATIONS, Cluster, isNetworkError, printFigures, sleep } from './cluster.ts';

/**
 * SIGKILL of a SQLite node with writes acknowledged (issue 11): admins create policies (201) and patch one, devices
 * enroll (answered), concurrently; the node is killed in the middle, several times, and restarted on the same data
 * folder. Every write the node acknowledged before it died is there after the restart.
 */
const ROUNDS = 3;
const WRITERS = 3;

const custom = (name: string): Record<string, unknown> => ({
  '@odata.type': '#microsoft.graph.windows10CustomConfiguration',
  displayName: name,
  omaSettings: [{ '@odata.type': '#microsoft.graph.omaSettingString', displayName: name, omaUri: `./Vendor/MSFT/VPNv2/${name}/ProfileXML`, value: `<VPNProfile>${name}</VPNProfile>` }],
});

describe('fault: SIGKILL of a SQLite node with writes acknowledged', () => {
  let cluster: Cluster;
  let patchedId: string;
  before(async () => {
    cluster = await Cluster.start({ backend: 'sqlite', nodes: 1 });
    patchedId = String((await cluster.graph('POST', CONFIGURATIONS, custom('Patched')))['id']);
  });
  after(async () => {
    await cluster?.close();
  });

  it('every acknowledged policy, PATCH and enrollment survives a SIGKILL and restart', async () => {
    const policies = new Map<string, string>();
    const enrolled: string[] = [];
    /** The highest PATCH counter the node acknowledged. */
    let lastPatch = -1;
    const unexpected: string[] = [];
    const problems: string[] = [];
    let attempts = 0;
    let restartMs = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      let dead = false;
      const deadline = Date.now() + 10_000;
      /** Runs `write` until the node is gone (a network error), bounded. */
      const loop = async (write: (i: number) => Promise<void>): Promise<void> => {
        for (let i = 0; i < 500 && !dead && Date.now() < deadline; i += 1) {
          attempts += 1;
          try {
            await write(i);
          } catch (error) {
            if (!isNetworkError(error)) unexpected.push(error instanceof Error ? error.message.slice(0, 200) : String(error));
            return;
          }
        }
      };
      const writers = [
        ...Array.from({ length: WRITERS }, (_, w) =>
          loop(async (i) => {
            const name = `R${round}W${w}N${i}`;
            const reply = await cluster.call('POST', CONFIGURATIONS, custom(name));
            if (reply.status === 201) policies.set(String(reply.json?.['id']), name);
            else unexpected.push(`POST: ${reply.status}`);
          }),
        ),
        ...Array.from({ length: WRITERS }, () =>
          loop(async () => {
            const device = new DeviceSimulator({ baseUrl: cluster.publicUrl, ca: cluster.ca, token: await cluster.mint({ upn: `u-${randomUUID().slice(0, 8)}@contoso.example`, deviceId: randomUUID() }) });
            try {
              await device.enroll();
              enrolled.push(device.devId);
            } finally {
              device.close();
            }
          }),
        ),
        loop(async () => {
          const value = lastPatch + 1;
          const reply = await cluster.call('PATCH', `${CONFIGURATIONS}/${patchedId}`, { description: String(value) });
          if (reply.status === 200) lastPatch = Math.max(lastPatch, value);
          else unexpected.push(`PATCH: ${reply.status}`);
        }),
      ];
      // Killed once writes are flowing: some acknowledged, some in flight.
      for (let i = 0; i < 100 && policies.size + enrolled.length < (round + 1) * 15; i += 1) await sleep(20);
      await cluster.nodes[0]!.kill();
      dead = true;
      await Promise.all(writers);
      restartMs = await cluster.restartNode(0);

      for (const [id, name] of policies) {
        const read = await cluster.call('GET', `${CONFIGURATIONS}/${id}`);
        if (read.status !== 200 || read.json?.['displayName'] !== name) problems.push(`policy ${name} (201): GET ${read.status}`);
      }
      const listed = new Set((((await cluster.graph('GET', '/graph/beta/deviceManagement/managedDevices'))['value'] as Record<string, unknown>[] | undefined) ?? []).map((d) => String(d['@openmam.devId'])));
      for (const devId of enrolled) if (!listed.has(devId)) problems.push(`enrollment ${devId} (answered) missing`);
      const patched = Number((await cluster.graph('GET', `${CONFIGURATIONS}/${patchedId}`))['description'] ?? -1);
      if (patched < lastPatch) problems.push(`PATCH ${lastPatch} (200) lost: description ${patched}`);
    }

    printFigures('sqlite-sigkill', {
      devices: enrolled.length,
      commands: attempts,
      lost: problems.length,
      duplicated: 0,
      policies: policies.size,
      patches: lastPatch + 1,
      kills: ROUNDS,
      restartMs,
      unexpected: unexpected.length,
    });
    assert.deepEqual(cluster.unexpectedExits(), [], 'the node died only when killed');
    assert.ok(policies.size > 0 && enrolled.length > 0 && lastPatch >= 0, 'writes were acknowledged before the kills');
    assert.deepEqual(problems.slice(0, 10), [], `every acknowledged write survived (${problems.length} lost)`);
    assert.deepEqual(unexpected.slice(0, 10), [], 'no write answered other than 2xx before the node died');
  });
});
