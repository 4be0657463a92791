import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import type { HealthAttestationChange } from '../../src/store/health-attestation-records.ts';
import type { Store } from '../../src/store/roles.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The contract of HealthAttestationStore (store/health-attestation-records.ts) and of applySyncOutcome's
 * `healthAttestation` change, for every backend: a message's change is upserted field by field, a verdict is a
 * compare-and-set on (nonce, phase retrieved), an accepted DHA-Data hash is never accepted twice (the whole verdict
 * undone), `unknown` keeps the certificate for a retry found by `dueHealthAttestationValidations`.
 */
const T = Date.UTC(2026, 11, 7);

export function healthAttestationConformance(name: string, open: () => Promise<Store>, options: { skip?: string } = {}): void {
  skippableSuite(`health attestation store conformance: ${name}`, { skip: options.skip ?? false }, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });

    const change = (enrollmentId: string, fields: Omit<HealthAttestationChange, 'tenantId' | 'updatedAt'>, at = T) =>
      store.applySyncOutcome({ enrollmentId, now: at, session: { kind: 'none' }, nodeStates: [], forgetNodes: [], inventory: [], healthAttestation: { tenantId: 'tenant-a', updatedAt: at, ...fields } });
    const retrieved = (enrollmentId: string, nonce: string, certificate = 'Q0VSVA==') => change(enrollmentId, { phase: 'retrieved', nonce, nonceIssuedAt: T, certificate, attempts: 0, nextAttemptAt: T });

    it("stores a message's change field by field, creating the row", async () => {
      const id = randomUUID();
      assert.equal(await store.healthAttestation.getHealthAttestation(id), undefined);
      assert.equal(await change(id, { phase: 'requested', nonce: 'AA'.repeat(16), nonceIssuedAt: T }), true);
      await change(id, { deviceStatus: '3', phase: 'ready' }, T + 1000);
      const record = await store.healthAttestation.getHealthAttestation(id);
      const many = await store.healthAttestation.getHealthAttestationsOf([id, randomUUID(), id]);
      assert.deepEqual([...many.keys()], [id], 'absent ones left out');
      assert.deepEqual(many.get(id), record);
      assert.deepEqual(record, {
        enrollmentId: id,
        tenantId: 'tenant-a',
        phase: 'ready',
        nonce: 'AA'.repeat(16),
        nonceIssuedAt: T,
        deviceStatus: '3',
        correlationId: null,
        certificate: null,
        state: 'unknown',
        reason: null,
        report: null,
        validatedAt: null,
        attempts: 0,
        nextAttemptAt: null,
        updatedAt: T + 1000,
      });
    });

    it('writes a verdict only for the nonce in hand, and remembers the accepted DHA-Data', async () => {
      const id = randomUUID();
      const hash = randomUUID().replace(/-/g, '');
      await retrieved(id, 'BB'.repeat(16));
      const verdict = { enrollmentId: id, at: T + 5000, state: 'valid' as const, reason: null, report: '{"secureBootEnabled":true}', nextAttemptAt: null, acceptedHash: hash };
      assert.equal(await store.healthAttestation.saveHealthAttestationVerdict({ ...verdict, nonce: 'CC'.repeat(16) }), 'stale');
      assert.equal(await store.healthAttestation.isCertificateAccepted(hash), false, 'a stale verdict accepts nothing');
      assert.equal(await store.healthAttestation.saveHealthAttestationVerdict({ ...verdict, nonce: 'BB'.repeat(16) }), 'saved');
      const record = await store.healthAttestation.getHealthAttestation(id);
      assert.equal(record?.state, 'valid');
      assert.equal(record?.phase, 'idle');
      assert.equal(record?.certificate, null);
      assert.equal(record?.report, '{"secureBootEnabled":true}');
      assert.equal(record?.validatedAt, T + 5000);
      assert.equal(await store.healthAttestation.isCertificateAccepted(hash), true);
      assert.equal(await store.healthAttestation.saveHealthAttestationVerdict({ ...verdict, nonce: 'BB'.repeat(16) }), 'stale', 'once');

      // The same DHA-Data accepted for another enrollment meanwhile: the verdict is undone whole.
      const other = randomUUID();
      await retrieved(other, 'DD'.repeat(16));
      assert.equal(await store.healthAttestation.saveHealthAttestationVerdict({ ...verdict, enrollmentId: other, nonce: 'DD'.repeat(16) }), 'replayed');
      const untouched = await store.healthAttestation.getHealthAttestation(other);
      assert.equal(untouched?.phase, 'retrieved');
      assert.equal(untouched?.state, 'unknown');
    });

    it('unknown keeps the certificate for a retry, found when due; an invalid verdict keeps no report', async () => {
      const id = randomUUID();
      await retrieved(id, 'EE'.repeat(16), 'RERBLURBVEE=');
      assert.ok((await store.healthAttestation.dueHealthAttestationValidations(T, 1000)).some((r) => r.enrollmentId === id));
      const unknown = { enrollmentId: id, nonce: 'EE'.repeat(16), at: T + 1, state: 'unknown' as const, reason: 'unreachable', report: null, nextAttemptAt: T + 60_000 };
      assert.equal(await store.healthAttestation.saveHealthAttestationVerdict(unknown), 'saved');
      let record = await store.healthAttestation.getHealthAttestation(id);
      assert.equal(record?.phase, 'retrieved');
      assert.equal(record?.certificate, 'RERBLURBVEE=');
      assert.equal(record?.attempts, 1);
      assert.equal(record?.validatedAt, null);
      assert.ok(!(await store.healthAttestation.dueHealthAttestationValidations(T + 59_999, 1000)).some((r) => r.enrollmentId === id), 'not before its time');
      assert.ok((await store.healthAttestation.dueHealthAttestationValidations(T + 60_000, 1000)).some((r) => r.enrollmentId === id));
      assert.equal(await store.healthAttestation.saveHealthAttestationVerdict({ ...unknown, state: 'invalid', reason: 'refused', report: '{"x":1}', nextAttemptAt: null }), 'saved');
      record = await store.healthAttestation.getHealthAttestation(id);
      assert.equal(record?.state, 'invalid');
      assert.equal(record?.report, null);
      assert.equal(record?.nextAttemptAt, null);
      assert.ok(!(await store.healthAttestation.dueHealthAttestationValidations(T + 10 * 60_000, 1000)).some((r) => r.enrollmentId === id));
    });
  });
}
