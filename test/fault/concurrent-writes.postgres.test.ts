import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { DeviceSimulator } from '../support/device-simulator.ts';
import { postgresSkipReason } from '../support/postgres.ts';
import { ALL_USERS, CONFIGURATIONS, Cluster, PROTECTIONS, missingOn, printFigures, sleep, syncUntilSettled, type Reply } from './cluster.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * Concurrent admin writes on two nodes (issue 11, item 3): PATCH vs PATCH of different fields, assign vs PATCH, and
 * DELETE vs PATCH of one policy, each pair sent to the two nodes at once. A write may be refused (409 or 412), but a
 * write answered 2xx must show in the final object, and a DELETE answered 204 is never undone (GET stays 404 on both
 * nodes, and devices get the Deletes). Responses carry an ETag; a PATCH with a stale If-Match gets 412, and of two
 * PATCHes with one If-Match exactly one wins. App protection policies follow the same rule.
 */
const skip = await postgresSkipReason('the concurrent admin writes fault');
const ROUNDS = 12;
const DEVICES = 2;
const ok = (reply: Reply): boolean => reply.status >= 200 && reply.status < 300;
/** The second request of a pair leaves 0-3 ms after the first, so that rounds cover several interleavings. */
const late = async <T>(round: number, send: () => Promise<T>): Promise<T> => {
  await sleep(round % 4);
  return send();
};
const refused = (reply: Reply): boolean => reply.status === 409 || reply.status === 412;

function custom(name: string, value: string): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.windows10CustomConfiguration',
    displayName: name,
    description: 'd0',
    omaSettings: [{ '@odata.type': '#microsoft.graph.omaSettingString', displayName: name, omaUri: `./Vendor/MSFT/VPNv2/${name}/ProfileXML`, value }],
  };
}
const nodeOf = (name: string): string => `./Vendor/MSFT/VPNv2/${name}/ProfileXML`;
const valueOf = (policy: Record<string, unknown>): unknown => (policy['omaSettings'] as { value: unknown }[] | undefined)?.[0]?.value;

skippableSuite('fault: concurrent admin writes on two nodes (PostgreSQL, two nodes)', { skip: skip ?? false }, () => {
  let cluster: Cluster;
  let devices: DeviceSimulator[];
  /** Every write answered with an unexpected status (a 5xx, or a 4xx other than 409/412). */
  const unexpected: string[] = [];
  /** 2xx writes whose effect is missing at the end. */
  const lost: string[] = [];
  let writes = 0;
  let refusedWrites = 0;
  /** Answers to a create, a GET or a PATCH that carry no ETag. */
  let withoutEtag = 0;
  const etagged = (reply: Reply): Reply => {
    if (ok(reply) && typeof reply.headers['etag'] !== 'string') withoutEtag += 1;
    return reply;
  };
  const note = (what: string, reply: Reply): void => {
    writes += 1;
    if (refused(reply)) refusedWrites += 1;
    else if (!ok(reply)) unexpected.push(`${what}: ${reply.status} ${reply.body.slice(0, 200)}`);
  };
  /** The policy as each node reads it now (status and body). */
  const readBoth = (id: string): Promise<Reply[]> => Promise.all(cluster.nodes.map(async (n) => etagged(await cluster.call('GET', `${CONFIGURATIONS}/${id}`, undefined, { node: n.index }))));
  const create = async (name: string, value: string, assigned: boolean): Promise<string> => {
    const created = etagged(await cluster.call('POST', CONFIGURATIONS, custom(name, value)));
    assert.equal(created.status, 201, created.body.slice(0, 300));
    const id = String(created.json?.['id']);
    if (assigned) await cluster.graph('POST', `${CONFIGURATIONS}/${id}/assign`, { assignments: [{ target: ALL_USERS }] });
    return id;
  };

  before(async () => {
    cluster = await Cluster.start({ backend: 'postgres', nodes: 2 });
    devices = await Promise.all(Array.from({ length: DEVICES }, () => cluster.device()));
  });
  after(async () => {
    for (const device of devices ?? []) device.close();
    await cluster?.close();
  });

  it('no write answered 2xx is lost; a DELETE answered 204 stays deleted, and devices get its Deletes', async () => {
    // Devices first hold the policies the DELETE races will remove.
    const deleteRaces = await Promise.all(Array.from({ length: ROUNDS }, (_, i) => create(`DeleteRace${i}`, 'v0', true)));
    for (const device of devices) await syncUntilSettled(device, 4);
    const before = devices.map((device) => missingOn(device, new Map(deleteRaces.map((_, i) => [nodeOf(`DeleteRace${i}`), 'v0']))));
    assert.deepEqual(before.flat(), [], 'the devices hold the policies before the races');

    const expected = new Map<string, string>();
    const absent: string[] = [];
    const deletedIds: string[] = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      // PATCH vs PATCH of different fields.
      const both = await create(`PatchRace${i}`, 'v0', false);
      const [name, description] = await Promise.all([
        cluster.call('PATCH', `${CONFIGURATIONS}/${both}`, { displayName: `A${i}` }, { node: 0 }),
        late(i, () => cluster.call('PATCH', `${CONFIGURATIONS}/${both}`, { description: `B${i}` }, { node: 1 })),
      ]);
      note('PATCH displayName', etagged(name));
      note('PATCH description', etagged(description));
      const [afterPatches] = await readBoth(both);
      if (ok(name) && afterPatches!.json?.['displayName'] !== `A${i}`) lost.push(`PATCH displayName A${i} (200) lost: ${String(afterPatches!.json?.['displayName'])}`);
      if (ok(description) && afterPatches!.json?.['description'] !== `B${i}`) lost.push(`PATCH description B${i} (200) lost: ${String(afterPatches!.json?.['description'])}`);

      // assign vs PATCH of the setting.
      const assignRace = await create(`AssignRace${i}`, 'v0', false);
      const [assign, patch] = await Promise.all([
        cluster.call('POST', `${CONFIGURATIONS}/${assignRace}/assign`, { assignments: [{ target: ALL_USERS }] }, { node: 0 }),
        late(i, () => cluster.call('PATCH', `${CONFIGURATIONS}/${assignRace}`, { omaSettings: custom(`AssignRace${i}`, 'v1')['omaSettings'] }, { node: 1 })),
      ]);
      note('assign', assign);
      note('PATCH omaSettings', patch);
      const assignments = await cluster.graph('GET', `${CONFIGURATIONS}/${assignRace}/assignments`);
      const isAssigned = ((assignments['value'] as unknown[] | undefined) ?? []).length > 0;
      const [afterAssign] = await readBoth(assignRace);
      if (ok(assign) && !isAssigned) lost.push(`assign ${i} (204) lost`);
      if (ok(patch) && valueOf(afterAssign!.json ?? {}) !== 'v1') lost.push(`PATCH omaSettings ${i} (200) lost`);
      if (isAssigned) expected.set(nodeOf(`AssignRace${i}`), String(valueOf(afterAssign!.json ?? {})));

      // DELETE vs PATCH of one assigned policy.
      const [deleted, patched] = await Promise.all([
        cluster.call('DELETE', `${CONFIGURATIONS}/${deleteRaces[i]!}`, undefined, { node: 0 }),
        late(i, () => cluster.call('PATCH', `${CONFIGURATIONS}/${deleteRaces[i]!}`, { description: `after-delete-${i}` }, { node: 1 })),
      ]);
      note('DELETE', deleted);
      if (patched.status !== 404) note('PATCH racing DELETE', patched);
      const reads = await readBoth(deleteRaces[i]!);
      if (deleted.status === 204) {
        absent.push(nodeOf(`DeleteRace${i}`));
        if (reads.some((r) => r.status !== 404)) lost.push(`DELETE ${i} (204) undone: GET ${reads.map((r) => r.status).join('/')}`);
        else deletedIds.push(deleteRaces[i]!);
      } else {
        expected.set(nodeOf(`DeleteRace${i}`), String(valueOf(reads[0]!.json ?? {})));
        if (ok(patched) && reads[0]!.json?.['description'] !== `after-delete-${i}`) lost.push(`PATCH racing DELETE ${i} (200) lost`);
      }
    }

    // ETag and If-Match, as Graph does where it supports them.
    const tagged = await create('ETagged', 'v0', false);
    const read = await cluster.call('GET', `${CONFIGURATIONS}/${tagged}`);
    const etag = read.headers['etag'];
    const etagProblems: string[] = [];
    if (typeof etag !== 'string' || etag === '') etagProblems.push('GET has no ETag');
    const fresh = await cluster.call('PATCH', `${CONFIGURATIONS}/${tagged}`, { description: 'fresh' }, { headers: { 'if-match': String(etag) } });
    if (fresh.status !== 200) etagProblems.push(`PATCH with the current If-Match: ${fresh.status}`);
    if (typeof fresh.headers['etag'] !== 'string' || fresh.headers['etag'] === etag) etagProblems.push(`PATCH answered ETag ${String(fresh.headers['etag'])} (was ${String(etag)})`);
    const stale = await cluster.call('PATCH', `${CONFIGURATIONS}/${tagged}`, { description: 'stale' }, { headers: { 'if-match': String(etag) } });
    if (stale.status !== 412) etagProblems.push(`PATCH with a stale If-Match: ${stale.status}, not 412`);
    const final = await cluster.graph('GET', `${CONFIGURATIONS}/${tagged}`);
    if (final['description'] === 'stale') etagProblems.push('the stale PATCH was applied');
    // Two PATCHes with the same (current) If-Match on two nodes at once: one wins, the other gets 412.
    for (let i = 0; i < ROUNDS / 2; i += 1) {
      const current = (await cluster.call('GET', `${CONFIGURATIONS}/${tagged}`)).headers['etag'];
      const match = { 'if-match': String(current) };
      const [a, b] = await Promise.all([
        cluster.call('PATCH', `${CONFIGURATIONS}/${tagged}`, { description: `a${i}` }, { node: 0, headers: match }),
        late(i, () => cluster.call('PATCH', `${CONFIGURATIONS}/${tagged}`, { description: `b${i}` }, { node: 1, headers: match })),
      ]);
      note('conditional PATCH', a);
      note('conditional PATCH', b);
      const statuses = [a.status, b.status].sort().join('/');
      if (statuses !== '200/412') etagProblems.push(`two PATCHes with one If-Match answered ${statuses}, not 200/412`);
      const winner = a.status === 200 ? `a${i}` : `b${i}`;
      const now = await cluster.graph('GET', `${CONFIGURATIONS}/${tagged}`);
      if (statuses === '200/412' && now['description'] !== winner) lost.push(`conditional PATCH ${winner} (200) lost: ${String(now['description'])}`);
    }

    // The app protection service's admin writes follow the same rule.
    const protection = await cluster.appProtectionPolicy();
    for (let i = 0; i < ROUNDS / 2; i += 1) {
      const [name, description] = await Promise.all([
        cluster.call('PATCH', `${PROTECTIONS}/${protection}`, { displayName: `P${i}` }, { node: 0 }),
        late(i, () => cluster.call('PATCH', `${PROTECTIONS}/${protection}`, { description: `Q${i}` }, { node: 1 })),
      ]);
      note('app protection PATCH displayName', etagged(name));
      note('app protection PATCH description', etagged(description));
      const now = await cluster.graph('GET', `${PROTECTIONS}/${protection}`);
      if (ok(name) && now['displayName'] !== `P${i}`) lost.push(`app protection PATCH displayName P${i} (200) lost`);
      if (ok(description) && now['description'] !== `Q${i}`) lost.push(`app protection PATCH description Q${i} (200) lost`);
    }

    // Still deleted once everything has settled (no late write brought one back).
    for (const id of deletedIds) if ((await readBoth(id)).some((r) => r.status !== 404)) lost.push(`DELETE of ${id} (204) undone later`);
    if (withoutEtag > 0) etagProblems.push(`${withoutEtag} answers (201, 200) without an ETag`);

    // Devices converge on what the policies say now: values of assigned ones, and no node of a deleted one.
    const settledIn: (number | undefined)[] = [];
    for (const device of devices) settledIn.push(await syncUntilSettled(device, 4));
    const deviceProblems = devices.flatMap((device) => [...missingOn(device, expected), ...absent.filter((locUri) => device.nodes.has(locUri)).map((locUri) => `${locUri} still on the device`)]);

    printFigures('concurrent-admin-writes', {
      devices: DEVICES,
      commands: writes,
      lost: lost.length,
      duplicated: 0,
      refused: refusedWrites,
      unexpected: unexpected.length,
      deletesAnswered204: absent.length,
      deviceProblems: deviceProblems.length,
      etagProblems: etagProblems.length,
    });
    assert.deepEqual(cluster.unexpectedExits(), [], 'no node exited');
    assert.deepEqual(unexpected, [], 'every write answered 2xx, 409 or 412');
    assert.deepEqual(lost, [], 'no write answered 2xx is lost');
    assert.deepEqual(deviceProblems, [], 'devices hold what the policies say, and nothing of a deleted policy');
    assert.ok(settledIn.every((n) => n !== undefined), 'devices settle');
    assert.deepEqual(etagProblems, [], 'ETag on responses, 412 on a stale If-Match');
  });
});
