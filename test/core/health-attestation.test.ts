import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import {
  AttestationSession,
  ATTESTATION_REFRESH_MS,
  deviceHealthAttestationState,
  healthAttestationFacts,
  healthAttestationFactsOf,
  HealthAttestationValidator,
  NODES,
  NONCE_TTL_MS,
  readHealthAttestationPatch,
  REPLAY_REASON,
 
  type DhaTransport,
} from '../../src/core/management/health-attestation.ts';
import { UndiciDhaTransport } from '../../src/http/dha-client.ts';
import { DHA_VALIDATION_RESPONSE_NS } from '../../src/protocol/health-attestation/dha.ts';
import type { HealthAttestationChange, HealthAttestationRecord, HealthAttestationStore, HealthAttestationVerdict } from '../../src/store/health-attestation-records.ts';
import type { EnrollmentRecord, TenantRecord } from '../../src/store/records.ts';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const ENROLLMENT = { id: 'enr-1', tenantId: 'tenant-1' } as EnrollmentRecord;
const NONCE = 'AABBCCDDEEFF00112233445566778899';
const NOW = 1_800_000_000_000;

function dhaData(blob = 'certificate-1', claimsNonce = NONCE): string {
  return b64(`<HealthCertificateValidationRequest><Claims>${b64(`claims for ${claimsNonce}`)}</Claims><HealthCertificateBlob>${b64(blob)}</HealthCertificateBlob></HealthCertificateValidationRequest>`);
}

function report(secureBoot = true): string {
  return `<HealthCertificateValidationResponse xmlns="${DHA_VALIDATION_RESPONSE_NS}" ErrorCode="0" ProtocolVersion="3"><HealthCertificateProperties>
<Issued>2026-12-07T01:00:00Z</Issued><AIKPresent>true</AIKPresent><ResetCount>1</ResetCount><RestartCount>2</RestartCount><DEPPolicy>1</DEPPolicy>
<BitlockerStatus>1</BitlockerStatus><BootManagerRevListVersion>0</BootManagerRevListVersion><CodeIntegrityRevListVersion>0</CodeIntegrityRevListVersion>
<SecureBootEnabled>${secureBoot}</SecureBootEnabled><BootDebuggingEnabled>false</BootDebuggingEnabled><OSKernelDebuggingEnabled>false</OSKernelDebuggingEnabled>
<CodeIntegrityEnabled>true</CodeIntegrityEnabled><TestSigningEnabled>false</TestSigningEnabled><SafeMode>false</SafeMode><WinPE>false</WinPE>
<ELAMDriverLoaded>true</ELAMDriverLoaded><VSMEnabled>false</VSMEnabled><PCRHashAlgorithmID>0</PCRHashAlgorithmID><BootAppSVN>1</BootAppSVN>
<BootManagerSVN>1</BootManagerSVN><TpmVersion>2</TpmVersion><PCR0>00FF</PCR0></HealthCertificateProperties></HealthCertificateValidationResponse>`;
}

/** The store's contract in memory (the real one is exercised end to end on both databases). */
class MemoryStore implements HealthAttestationStore {
  readonly rows = new Map<string, HealthAttestationRecord>();
  readonly accepted = new Set<string>();

  apply(enrollmentId: string, change: HealthAttestationChange): void {
    const current: HealthAttestationRecord = this.rows.get(enrollmentId) ?? {
      enrollmentId,
      tenantId: change.tenantId,
      phase: 'idle',
      nonce: null,
      nonceIssuedAt: null,
      deviceStatus: null,
      correlationId: null,
      certificate: null,
      state: 'unknown',
      reason: null,
      report: null,
      validatedAt: null,
      attempts: 0,
      nextAttemptAt: null,
      updatedAt: change.updatedAt,
    };
    this.rows.set(enrollmentId, { ...current, ...change });
  }

  async getHealthAttestation(enrollmentId: string): Promise<HealthAttestationRecord | undefined> {
    const row = this.rows.get(enrollmentId);
    return row && { ...row };
  }

  async getHealthAttestationsOf(ids: readonly string[]): Promise<Map<string, HealthAttestationRecord>> {
    return new Map(ids.flatMap((id) => (this.rows.has(id) ? [[id, { ...this.rows.get(id)! }] as const] : [])));
  }

  async isCertificateAccepted(hash: string): Promise<boolean> {
    return this.accepted.has(hash);
  }

  async saveHealthAttestationVerdict(v: HealthAttestationVerdict): Promise<'saved' | 'stale' | 'replayed'> {
    const row = this.rows.get(v.enrollmentId);
    if (!row || row.nonce !== v.nonce || row.phase !== 'retrieved') return 'stale';
    if (v.acceptedHash !== undefined && this.accepted.has(v.acceptedHash)) return 'replayed';
    if (v.acceptedHash !== undefined) this.accepted.add(v.acceptedHash);
    if (v.state === 'unknown') this.rows.set(v.enrollmentId, { ...row, state: v.state, reason: v.reason, attempts: row.attempts + 1, nextAttemptAt: v.nextAttemptAt, updatedAt: v.at });
    else this.rows.set(v.enrollmentId, { ...row, phase: 'idle', certificate: null, state: v.state, reason: v.reason, report: v.state === 'valid' ? v.report : null, validatedAt: v.at, nextAttemptAt: null, updatedAt: v.at });
    return 'saved';
  }

  async dueHealthAttestationValidations(now: number, limit: number): Promise<HealthAttestationRecord[]> {
    return [...this.rows.values()].filter((r) => r.phase === 'retrieved' && r.nextAttemptAt !== null && r.nextAttemptAt <= now).slice(0, limit);
  }
}

/** A DHA service double: validates when the claims name the nonce it is sent; records what it got. */
class FakeDha implements DhaTransport {
  readonly calls: { url: string; body: string }[] = [];
  mode: 'ok' | 'down' | 'throw' | '500' | '400' | 'garbage' | 'refuse' | 'secureBootOff' = 'ok';

  async post(url: string, body: string): Promise<{ status: number; body: string }> {
    this.calls.push({ url, body });
    switch (this.mode) {
      case 'throw':
        throw new Error('connect ECONNREFUSED 127.0.0.1:443');
      case 'down':
      case '500':
        return { status: this.mode === 'down' ? 503 : 500, body: '' };
      case '400':
        return { status: 400, body: '' };
      case 'garbage':
        return { status: 200, body: '<html>hello</html>' };
      case 'refuse':
        return { status: 200, body: `<HealthCertificateValidationResponse xmlns="${DHA_VALIDATION_RESPONSE_NS}" ErrorCode="7" ErrorMessage="invalid certificate" ProtocolVersion="3"/>` };
      default: {
        const nonce = /<Nonce>([^<]*)<\/Nonce>/.exec(body)?.[1] ?? '';
        const claims = Buffer.from(/<Claims>([^<]*)<\/Claims>/.exec(body)?.[1] ?? '', 'base64').toString('utf8');
        if (claims !== `claims for ${nonce}`) return { status: 200, body: `<HealthCertificateValidationResponse xmlns="${DHA_VALIDATION_RESPONSE_NS}" ErrorCode="4" ErrorMessage="nonce mismatch" ProtocolVersion="3"/>` };
        return { status: 200, body: report(this.mode !== 'secureBootOff') };
      }
    }
  }
}

const TENANT = { id: 'tenant-1', settings: { healthAttestation: { enabled: true, serviceUrl: 'https://dha.contoso.example:8443' } } } as unknown as TenantRecord;

function setup(clock = { now: NOW }) {
  const store = new MemoryStore();
  const dha = new FakeDha();
  const events: string[] = [];
  const errors: unknown[] = [];
  const validator = new HealthAttestationValidator({
    store,
    enrollments: { getEnrollment: async (id) => (id === ENROLLMENT.id ? ENROLLMENT : undefined) },
    tenants: { get: async () => TENANT },
    transport: dha,
    clock: () => clock.now,
    onError: (error) => errors.push(error),
    listener: { inventoryChanged: (enrollment) => events.push(enrollment.id) },
    sweepIntervalMs: 0,
  });
  /** The device returned DHA-Data for the stored nonce (as a session would record it). */
  const retrieved = (certificate: string, nonce = NONCE) =>
    store.apply(ENROLLMENT.id, { tenantId: 'tenant-1', updatedAt: clock.now, phase: 'retrieved', nonce, nonceIssuedAt: clock.now, certificate, attempts: 0, nextAttemptAt: clock.now });
  return { store, dha, events, errors, validator, retrieved, clock };
}

describe('health attestation: the session flow', () => {
  const settings = { enabled: true, serviceUrl: null };

  it('a device never attested gets a fresh nonce, VerifyHealth and a Status Get; the nonce is stored with the message', () => {
    const session = new AttestationSession(ENROLLMENT, undefined, settings, NOW, () => NONCE);
    assert.ok(session.due && session.wantsPlanning);
    const commands = session.plan();
    assert.deepEqual(
      commands.map((c) => (c.verb === 'Atomic' ? 'Atomic' : `${c.verb} ${c.item.locUri} ${c.item.value}`.trim())),
      [`Replace ${NODES.nonce} ${NONCE}`, `Exec ${NODES.verifyHealth}`, `Get ${NODES.status}`],
    );
    const change = session.change();
    assert.equal(change?.phase, 'requested');
    assert.equal(change?.nonce, NONCE);
    assert.equal(change?.nonceIssuedAt, NOW);
    assert.equal(change?.tenantId, 'tenant-1');
  });

  it('an on-premises service is given to the device as HASEndpoint (its host and port), before the nonce', () => {
    const session = new AttestationSession(ENROLLMENT, undefined, { enabled: true, serviceUrl: 'https://dha.contoso.example:8443' }, NOW, () => NONCE);
    const first = session.plan()[0]!;
    assert.ok(first.verb === 'Replace');
    assert.equal(first.item.locUri, NODES.hasEndpoint);
    assert.equal(first.item.value, 'dha.contoso.example:8443');
  });

  const requested = { enrollmentId: ENROLLMENT.id, tenantId: 'tenant-1', phase: 'requested', nonce: NONCE, nonceIssuedAt: NOW - 60_000 } as HealthAttestationRecord;

  it('the Result alert (3) makes the device ready: Certificate and CorrelationID are fetched in that session', () => {
    const session = new AttestationSession(ENROLLMENT, requested, settings, NOW);
    assert.ok(!session.due);
    session.onAlert(' 3 ');
    const gets = session.plan();
    assert.deepEqual(gets.map((c) => (c.verb === 'Atomic' ? '' : `${c.verb} ${c.item.locUri} ${c.item.value}`.trim())), [`Replace ${NODES.nonce} ${NONCE}`, `Get ${NODES.certificate}`, `Get ${NODES.correlationId}`]);
    assert.equal(session.change()?.phase, 'ready');
    assert.equal(session.change()?.deviceStatus, '3');
  });

  it('a Status of 3 in a later session queues the pick-up; 1 waits; 2 ends the round as unknown', () => {
    const ready = new AttestationSession(ENROLLMENT, requested, settings, NOW);
    assert.deepEqual(ready.onResult('status', '3').length, 3);
    const waiting = new AttestationSession(ENROLLMENT, requested, settings, NOW);
    assert.deepEqual(waiting.onResult('status', '1'), []);
    assert.equal(waiting.change()?.phase, undefined);
    const failed = new AttestationSession(ENROLLMENT, requested, settings, NOW);
    failed.onResult('status', '2');
    assert.equal(failed.change()?.phase, 'idle');
    assert.equal(failed.change()?.state, 'unknown');
    assert.match(failed.change()?.reason ?? '', /status 2/);
  });

  it('a refused VerifyHealth ends the round; the Certificate is kept for validation behind the session', () => {
    const refused = new AttestationSession(ENROLLMENT, requested, settings, NOW);
    refused.onStatus('verify', '405');
    assert.match(refused.change()?.reason ?? '', /refused VerifyHealth \(status 405\)/);
    const ready = new AttestationSession(ENROLLMENT, { ...requested, phase: 'ready' }, settings, NOW);
    ready.onResult('certificate', dhaData());
    ready.onResult('correlationId', '12345');
    assert.ok(ready.retrieved);
    assert.equal(ready.change()?.phase, 'retrieved');
    assert.equal(ready.change()?.certificate, dhaData());
    assert.equal(ready.change()?.correlationId, '12345');
    // A Certificate nobody asked for (the flow is not ready) is ignored.
    const idle = new AttestationSession(ENROLLMENT, { ...requested, phase: 'idle', nonceIssuedAt: NOW }, settings, NOW);
    idle.onResult('certificate', dhaData());
    assert.equal(idle.change(), undefined);
  });

  it('renews a report after 24 h and gives up an unanswered nonce after its lifetime', () => {
    const validated = { ...requested, phase: 'idle', state: 'valid', nonceIssuedAt: NOW } as HealthAttestationRecord;
    assert.ok(!new AttestationSession(ENROLLMENT, validated, settings, NOW + ATTESTATION_REFRESH_MS - 1).wantsPlanning);
    assert.ok(new AttestationSession(ENROLLMENT, validated, settings, NOW + ATTESTATION_REFRESH_MS).due);
    assert.ok(!new AttestationSession(ENROLLMENT, { ...requested, nonceIssuedAt: NOW }, settings, NOW + NONCE_TTL_MS - 1).due);
    assert.ok(new AttestationSession(ENROLLMENT, { ...requested, nonceIssuedAt: NOW }, settings, NOW + NONCE_TTL_MS).due);
  });
});

describe('health attestation: validation with the DHA service', () => {
  it('keeps the report the service validated for the nonce issued to this enrollment, and tells compliance', async () => {
    const { store, dha, events, validator, retrieved } = setup();
    retrieved(dhaData());
    validator.enqueue(ENROLLMENT.id);
    await validator.idle();
    const record = await store.getHealthAttestation(ENROLLMENT.id);
    assert.equal(record?.state, 'valid');
    assert.equal(record?.phase, 'idle');
    assert.equal(record?.certificate, null);
    assert.equal(dha.calls.length, 1);
    assert.equal(dha.calls[0]!.url, 'https://dha.contoso.example:8443/DeviceHealthAttestation/ValidateHealthCertificate/v3');
    assert.match(dha.calls[0]!.body, new RegExp(`<Nonce>${NONCE}</Nonce>`), 'our nonce, never one the device offers');
    assert.deepEqual(events, [ENROLLMENT.id]);
    const facts = healthAttestationFacts(record);
    assert.deepEqual(facts, {
      state: 'valid',
      validatedAt: NOW,
      bitLockerEnabled: true,
      secureBootEnabled: true,
      codeIntegrityEnabled: true,
      earlyLaunchAntiMalwareDriverEnabled: true,
      bootDebuggingEnabled: false,
      osKernelDebuggingEnabled: false,
      testSigningEnabled: false,
    });
    const batch = await healthAttestationFactsOf(store)([ENROLLMENT.id, 'never-attested']);
    assert.deepEqual([...batch.keys()], [ENROLLMENT.id]);
    assert.deepEqual(batch.get(ENROLLMENT.id), facts);
    const graph = deviceHealthAttestationState(record);
    assert.equal(graph?.['secureBoot'], 'enabled');
    assert.equal(graph?.['bitLockerStatus'], 'enabled');
    assert.equal(graph?.['deviceHealthAttestationStatus'], 'valid');
    assert.equal(graph?.['issuedDateTime'], '2026-12-07T01:00:00Z');
  });

  it('DHA-Data whose claims were made for another nonce is refused by the service: invalid, no report', async () => {
    const { store, validator, retrieved } = setup();
    retrieved(dhaData('certificate-1', '0011223344556677'));
    await validator.validate(ENROLLMENT.id);
    const record = await store.getHealthAttestation(ENROLLMENT.id);
    assert.equal(record?.state, 'invalid');
    assert.match(record?.reason ?? '', /ErrorCode 4: nonce mismatch/);
    assert.equal(record?.report, null);
    assert.equal(healthAttestationFacts(record).secureBootEnabled, undefined, 'no properties without a valid report');
  });

  it('refuses a replayed certificate (accepted before) without asking the service', async () => {
    const { store, dha, validator, retrieved } = setup();
    retrieved(dhaData());
    await validator.validate(ENROLLMENT.id);
    assert.equal((await store.getHealthAttestation(ENROLLMENT.id))?.state, 'valid');
    // The same DHA-Data again, for a new nonce.
    retrieved(dhaData(), '99887766554433221100');
    await validator.validate(ENROLLMENT.id);
    const record = await store.getHealthAttestation(ENROLLMENT.id);
    assert.equal(record?.state, 'invalid');
    assert.equal(record?.reason, REPLAY_REASON);
    assert.equal(dha.calls.length, 1, 'the replay never reached the service');
  });

  it('an unreachable service leaves the state unknown (never valid), keeps the certificate, and a later retry validates it', async () => {
    const { store, dha, validator, retrieved, clock } = setup();
    retrieved(dhaData());
    for (const mode of ['throw', 'down', '500'] as const) {
      dha.mode = mode;
      clock.now += 3600_000;
      assert.equal(await validator.retryDue(), 1);
      const record = await store.getHealthAttestation(ENROLLMENT.id);
      assert.equal(record?.state, 'unknown', mode);
      assert.equal(record?.phase, 'retrieved');
      assert.ok(record?.certificate);
      assert.ok((record?.nextAttemptAt ?? 0) > clock.now, 'tried again later');
      assert.match(record?.reason ?? '', mode === 'throw' ? /could not be reached: connect ECONNREFUSED/ : /unavailable \(HTTP 5\d\d\)/);
    }
    assert.equal(await validator.retryDue(), 0, 'not before its time');
    dha.mode = 'ok';
    clock.now += 2 * 3600_000;
    assert.equal(await validator.retryDue(), 1);
    const record = await store.getHealthAttestation(ENROLLMENT.id);
    assert.equal(record?.state, 'valid');
    assert.equal(record?.attempts, 3);
  });

  it('a certificate the service says is invalid, a 4xx, or an answer that is no report: invalid', async () => {
    for (const [mode, reason] of [
      ['refuse', /found the certificate invalid \(ErrorCode 7: invalid certificate\)/],
      ['400', /refused the certificate \(HTTP 400\)/],
      ['garbage', /answer is not a report/],
    ] as const) {
      const { store, dha, validator, retrieved } = setup();
      dha.mode = mode;
      retrieved(dhaData());
      await validator.validate(ENROLLMENT.id);
      const record = await store.getHealthAttestation(ENROLLMENT.id);
      assert.equal(record?.state, 'invalid', mode);
      assert.match(record?.reason ?? '', reason);
      assert.equal(record?.report, null);
    }
  });

  it('DHA-Data that is not even readable is invalid without a call; a verdict for a nonce no longer current is dropped', async () => {
    const { store, dha, validator, retrieved } = setup();
    retrieved(b64('not xml'));
    await validator.validate(ENROLLMENT.id);
    assert.match((await store.getHealthAttestation(ENROLLMENT.id))?.reason ?? '', /not DHA-Data/);
    assert.equal(dha.calls.length, 0);

    const second = setup();
    second.retrieved(dhaData());
    const judge = second.validator.judge.bind(second.validator);
    // A new round starts while the service is being asked: the old certificate's verdict must not land.
    second.validator.judge = async (...args) => {
      const result = await judge(...args);
      second.store.apply(ENROLLMENT.id, { tenantId: 'tenant-1', updatedAt: NOW, phase: 'requested', nonce: '11111111111111111111', certificate: null });
      return result;
    };
    await second.validator.validate(ENROLLMENT.id);
    const record = await second.store.getHealthAttestation(ENROLLMENT.id);
    assert.equal(record?.state, 'unknown');
    assert.equal(record?.phase, 'requested');
    assert.equal(second.events.length, 0);
  });

  it('a Secure Boot off report is valid (the service vouches for it) and says so in the facts', async () => {
    const { store, dha, validator, retrieved } = setup();
    dha.mode = 'secureBootOff';
    retrieved(dhaData());
    await validator.validate(ENROLLMENT.id);
    const facts = healthAttestationFacts(await store.getHealthAttestation(ENROLLMENT.id));
    assert.equal(facts.state, 'valid');
    assert.equal(facts.secureBootEnabled, false);
  });
});

describe('health attestation: the default transport', () => {
  it('is bounded: a service that does not answer in time is unknown, an oversized answer is invalid', async () => {
    let mode: 'hang' | 'huge' = 'hang';
    const server = createServer((request, response) => {
      request.resume();
      if (mode === 'huge') {
        response.writeHead(200, { 'content-type': 'application/xml' });
        response.end('<x>' + 'a'.repeat(300 * 1024) + '</x>');
      }
      // 'hang': never answers.
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const transport = new UndiciDhaTransport();
    const store = new MemoryStore();
    const validator = new HealthAttestationValidator({
      store,
      enrollments: { getEnrollment: async () => ENROLLMENT },
      tenants: { get: async () => ({ ...TENANT, settings: { healthAttestation: { enabled: true, serviceUrl: url } } }) as unknown as TenantRecord },
      transport,
      clock: () => NOW,
      onError: () => undefined,
      timeoutMs: 300,
      sweepIntervalMs: 0,
    });
    try {
      store.apply(ENROLLMENT.id, { tenantId: 'tenant-1', updatedAt: NOW, phase: 'retrieved', nonce: NONCE, nonceIssuedAt: NOW, certificate: dhaData(), attempts: 0, nextAttemptAt: NOW });
      const started = Date.now();
      const hung = await validator.validate(ENROLLMENT.id);
      assert.equal(hung?.state, 'unknown');
      assert.match(hung?.reason ?? '', /could not be reached/);
      assert.ok(Date.now() - started < 5000, 'bounded by the timeout');
      mode = 'huge';
      const huge = await validator.validate(ENROLLMENT.id);
      assert.equal(huge?.state, 'invalid');
      assert.match(huge?.reason ?? '', /exceeds 262144 bytes/);
    } finally {
      await transport.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('health attestation: the tenant setting', () => {
  it('reads a partial PATCH; refusals name the field', () => {
    assert.deepEqual(readHealthAttestationPatch({ enabled: true }, 'healthAttestation'), { enabled: true });
    assert.deepEqual(readHealthAttestationPatch({ serviceUrl: 'https://dha.contoso.example:8443/' }, 'healthAttestation'), { serviceUrl: 'https://dha.contoso.example:8443' });
    assert.deepEqual(readHealthAttestationPatch({ serviceUrl: null }, 'healthAttestation'), { serviceUrl: null });
    assert.throws(() => readHealthAttestationPatch({ enabled: 'yes' }, 'healthAttestation'), /healthAttestation.enabled: must be true or false/);
    assert.throws(() => readHealthAttestationPatch({ serviceUrl: 'http://dha.contoso.example' }, 'healthAttestation'), /healthAttestation.serviceUrl: must use https/);
    assert.throws(() => readHealthAttestationPatch({ serviceUrl: 'https://dha.contoso.example/path' }, 'healthAttestation'), /healthAttestation.serviceUrl: must be https:\/\/host\[:port\] with no path/);
    assert.throws(() => readHealthAttestationPatch({ serviceUrl: 'https://u:p@dha.contoso.example' }, 'healthAttestation'), /healthAttestation.serviceUrl: must not carry credentials/);
    assert.throws(() => readHealthAttestationPatch({ serviceUrl: 'not a url' }, 'healthAttestation'), /healthAttestation.serviceUrl: must be an https URL/);
    assert.throws(() => readHealthAttestationPatch({ serviceUrl: 7 }, 'healthAttestation'), /healthAttestation.serviceUrl/);
    assert.throws(() => readHealthAttestationPatch({ other: 1 }, 'healthAttestation'), /healthAttestation.other: unknown property/);
    assert.throws(() => readHealthAttestationPatch([], 'healthAttestation'), /healthAttestation: must be an object/);
  });

  it('a device never attested has unknown facts and no Graph state', () => {
    assert.deepEqual(healthAttestationFacts(undefined), { state: 'unknown', reason: 'not attested yet' });
    assert.equal(deviceHealthAttestationState(undefined), null);
  });
});
