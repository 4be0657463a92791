import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { activityName, AuditTrail, auditActorRecord, newAuditEventId, operationTypeOf, type AuditContext } from '../../src/core/audit/audit-trail.ts';
import { MASK, MAX_VALUE_LENGTH, modifiedProperties } from '../../src/core/audit/modified-properties.ts';
import { graphApi } from '../../src/http/graph/graph-api.ts';
import type { AuditEventRecord, AuditStore } from '../../src/store/audit-records.ts';
import type { TokenVerifier } from '../../src/identity/identity.ts';

describe('modifiedProperties', () => {
  it('flattens both bodies to dotted names and lists only what changed, old and new as text', () => {
    const before = { displayName: 'A', count: 1, enabled: true, settings: [{ uri: './a', value: 'x' }], same: 'kept' };
    const after = { displayName: 'B', count: 2, enabled: true, settings: [{ uri: './a', value: 'y' }, { uri: './b', value: 'z' }], same: 'kept' };
    assert.deepEqual(modifiedProperties(before, after), [
      { displayName: 'count', oldValue: '1', newValue: '2' },
      { displayName: 'displayName', oldValue: 'A', newValue: 'B' },
      { displayName: 'settings[0].value', oldValue: 'x', newValue: 'y' },
      { displayName: 'settings[1].uri', oldValue: '', newValue: './b' },
      { displayName: 'settings[1].value', oldValue: '', newValue: 'z' },
    ]);
  });

  it('gives a Create empty old values and a Delete empty new values', () => {
    assert.deepEqual(modifiedProperties(undefined, { a: 'x', b: [] }), [
      { displayName: 'a', oldValue: '', newValue: 'x' },
      { displayName: 'b', oldValue: '', newValue: '[]' },
    ]);
    assert.deepEqual(modifiedProperties({ a: 'x' }, undefined), [{ displayName: 'a', oldValue: 'x', newValue: '' }]);
  });

  it("masks the kind's write-only properties and credentials by name, wherever they are, but not settings named like them", () => {
    const before = { password: 'old-secret', nested: { clientSecret: 's1' }, passwordRequired: true, items: [{ challenge: 'c1' }] };
    const after = { password: 'new-secret', nested: { clientSecret: 's2' }, passwordRequired: false, items: [{ challenge: 'c2' }], token: { value: 't' } };
    const changed = modifiedProperties(before, after, ['token.value']);
    assert.deepEqual(changed, [
      { displayName: 'items[0].challenge', oldValue: MASK, newValue: MASK },
      { displayName: 'nested.clientSecret', oldValue: MASK, newValue: MASK },
      { displayName: 'password', oldValue: MASK, newValue: MASK },
      { displayName: 'passwordRequired', oldValue: 'true', newValue: 'false' },
      { displayName: 'token.value', oldValue: '', newValue: MASK },
    ]);
  });

  it('cuts long values and keeps unchanged secrets out', () => {
    const long = 'x'.repeat(MAX_VALUE_LENGTH + 10);
    const [cut] = modifiedProperties({ value: 'short' }, { value: long });
    assert.equal(cut!.newValue.length, MAX_VALUE_LENGTH + 1);
    assert.deepEqual(modifiedProperties({ password: 'same' }, { password: 'same' }), []);
  });
});

describe('activities and actors', () => {
  it("names activities as Intune does, and files verbs by operation type", () => {
    assert.equal(activityName({ area: 'deviceConfiguration', entity: 'DeviceConfiguration', verb: 'Create' }), 'Create DeviceConfiguration');
    assert.deepEqual(['Create', 'Patch', 'Delete', 'Assign', 'Retire'].map(operationTypeOf), ['Create', 'Patch', 'Delete', 'Action', 'Action']);
  });

  it('tells a signed-in admin from an app-only token', () => {
    const user = auditActorRecord({ objectId: 'o', userPrincipalName: 'a@b', applicationId: 'c', appOnly: false, roles: ['OpenMAM.Admin'], ipAddress: '10.0.0.1' });
    assert.equal(user.type, 'ItPro');
    assert.equal(user.userPrincipalName, 'a@b');
    assert.equal(user.servicePrincipalName, null);
    const app = auditActorRecord({ objectId: 'o', userPrincipalName: null, applicationId: 'c', appOnly: true, roles: ['OpenMAM.Admin'], ipAddress: null });
    assert.equal(app.type, 'Application');
    assert.equal(app.servicePrincipalName, 'c');
  });

  it('makes time-ordered UUIDv7 ids', () => {
    const a = newAuditEventId(1_700_000_000_000);
    const b = newAuditEventId(1_700_000_000_001);
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.ok(a < b);
  });

  it('runs the write alone for a change OpenMAM makes itself, and attaches the event for an admin', async () => {
    const attached: AuditEventRecord[] = [];
    const store = { attach: async <T>(event: AuditEventRecord, write: () => Promise<T>): Promise<T> => (attached.push(event), write()), record: async () => undefined } as Pick<AuditStore, 'attach' | 'record'>;
    const trail = new AuditTrail(store, () => 5);
    const change = { activity: { area: 'groups' as const, entity: 'Group', verb: 'Create' }, resourceId: 'g', after: { displayName: 'G' } };
    assert.equal(await trail.attach(undefined, change, async () => 1), 1);
    assert.equal(attached.length, 0);
    const context: AuditContext = { tenantId: 't', actor: { objectId: 'o', userPrincipalName: 'a@b', applicationId: null, appOnly: false, roles: [], ipAddress: null }, correlationId: 'c' };
    assert.equal(await trail.attach(context, change, async () => 2), 2);
    assert.equal(attached[0]?.activityType, 'Create Group');
    assert.equal(attached[0]?.category, 'Other');
    assert.equal(attached[0]?.activityDateTime, 5);
  });
});

describe('the Graph layer', () => {
  it('refuses to register an admin write route that declares no audit activity', async () => {
    const app = Fastify();
    const verifier: TokenVerifier = { verify: () => Promise.reject(new Error('unused')) };
    void app.register(async (scope) => {
      graphApi(scope, { verifier, version: 'beta', audit: new AuditTrail({ attach: (_e, write) => write(), record: async () => undefined }) });
      scope.post('/things', { config: { audit: { area: 'groups', entity: 'Thing', verb: 'Create' } } }, async () => ({}));
      scope.post('/validate', { config: { audit: 'none' } }, async () => ({}));
      scope.post('/other', async () => ({}));
    });
    await assert.rejects(async () => app.ready(), /POST \/other: a write route of the admin API declares no audit activity/);
    await app.close();
  });
});
