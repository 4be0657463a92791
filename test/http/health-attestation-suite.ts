import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { selfSignedCertificate } from '../../src/cli/tls.ts';
import { healthAttestationFacts, NODES, REPLAY_REASON } from '../../src/core/management/health-attestation.ts';
import { SimulatedDhaService, SimulatedHealthAttestation, validationNonce, type AttestationMischief, type BootState } from '../../src/simulator/health-attestation.ts';
import { adminTokens, type AdminTokens } from '../support/admin-tokens.ts';
import { DeviceSimulator } from '../support/device-simulator.ts';
import { startTestServer, type Backend, type TestServer } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

const SETTINGS = '/graph/beta/deviceManagement/openMamTenantSettings';

/**
 * Health attestation end to end (HealthAttestation CSP + DHA): the device simulator with its HealthAttestation CSP,
 * a simulated DHA service over HTTPS (trusted by the server through OPENMAM_HEALTH_ATTESTATION_CA_FILE, as an
 * on-premises service with an enterprise CA would be), a real server and store. Run once per store backend.
 */
export function healthAttestationEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`health attestation over HTTPS (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let dha: SimulatedDhaService;
    let tokens: AdminTokens;
    let folder: string;
    let ca: string;
    const closers: (() => void)[] = [];

    before(async () => {
      const tls = await selfSignedCertificate('127.0.0.1');
      ca = tls.cert;
      dha = await SimulatedDhaService.start(tls);
      folder = await mkdtemp(path.join(tmpdir(), 'openmam-dha-'));
      const caFile = path.join(folder, 'dha-ca.pem');
      await writeFile(caFile, tls.cert);
      server = await startTestServer(backend, { OPENMAM_HEALTH_ATTESTATION_CA_FILE: caFile });
      tokens = await adminTokens(server);
    });
    after(async () => {
      for (const close of closers) close();
      await server?.close();
      await dha?.close();
      if (folder) await rm(folder, { recursive: true, force: true });
    });

    const app = () => server.runtime.app;
    async function attestingDevice(options: { boot?: Partial<BootState>; mischief?: AttestationMischief } = {}) {
      const attestation = new SimulatedHealthAttestation({ defaultEndpoint: 'https://127.0.0.1:1', ca, ...options });
      const token = await server.mint({ upn: `user-${randomUUID().slice(0, 8)}@contoso.example`, deviceId: randomUUID() });
      const device = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token, healthAttestation: attestation });
      closers.push(() => device.close(), () => attestation.close());
      await device.enroll();
      const enrollment = (await app().store.getActiveEnrollmentByDevId(device.devId))!;
      return { device, attestation, enrollment };
    }
    /** Two sessions: VerifyHealth, then (after the device got its certificate) the pick-up; then the validation behind. */
    async function attest(device: DeviceSimulator, enrollmentId: string) {
      const first = await device.sync();
      const second = await device.sync();
      await app().healthAttestation.idle();
      return { first, second, record: await app().store.healthAttestation.getHealthAttestation(enrollmentId) };
    }

    it('is off until an admin turns it on: a device is not asked to attest', async () => {
      const read = await server.json('GET', SETTINGS, tokens.reader);
      assert.deepEqual(read.body['healthAttestation'], { enabled: false, serviceUrl: null });
      const { device } = await attestingDevice();
      const session = await device.sync();
      assert.ok(!session.commands.some((c) => c.locUri.startsWith('./Vendor/MSFT/HealthAttestation/')));
    });

    it('refuses settings that are not https://host[:port], naming the field; nothing written', async () => {
      for (const [body, field] of [
        [{ healthAttestation: { serviceUrl: 'http://dha.contoso.example' } }, 'healthAttestation.serviceUrl'],
        [{ healthAttestation: { serviceUrl: 'https://dha.contoso.example/x' } }, 'healthAttestation.serviceUrl'],
        [{ healthAttestation: { enabled: 1 } }, 'healthAttestation.enabled'],
        [{ healthAttestation: { enabled: true, extra: 1 } }, 'healthAttestation.extra'],
        [{ healthAttestation: 'on' }, 'healthAttestation'],
      ] as const) {
        const answer = await server.json('PATCH', SETTINGS, tokens.admin, body);
        assert.equal(answer.status, 400, JSON.stringify(body));
        const message = (answer.body['error'] as { message: string }).message;
        assert.ok(message.startsWith(`${field}:`), message);
      }
      assert.equal((await server.json('PATCH', SETTINGS, tokens.reader, { healthAttestation: { enabled: true } })).status, 403);
      assert.deepEqual((await server.json('GET', SETTINGS, tokens.reader)).body['healthAttestation'], { enabled: false, serviceUrl: null });
    });

    it('a device attests: nonce, HASEndpoint and VerifyHealth, the Result alert, the pick-up, and a valid report with its facts', async () => {
      const patched = await server.json('PATCH', SETTINGS, tokens.admin, { healthAttestation: { enabled: true, serviceUrl: dha.url } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.deepEqual(patched.body['healthAttestation'], { enabled: true, serviceUrl: dha.url });

      const { device, attestation, enrollment } = await attestingDevice();
      const { first, second, record } = await attest(device, enrollment.id);
      const attestationCommands = (transcript: typeof first) => transcript.commands.filter((c) => c.locUri.startsWith('./Vendor/MSFT/HealthAttestation/')).map((c) => `${c.verb} ${c.locUri}`);
      assert.deepEqual(attestationCommands(first), [`Replace ${NODES.hasEndpoint}`, `Replace ${NODES.nonce}`, `Exec ${NODES.verifyHealth}`, `Get ${NODES.status}`]);
      assert.equal(first.commands.find((c) => c.locUri === NODES.hasEndpoint)?.data, new URL(dha.url).host);
      assert.match(second.messages[0]!.request, /com\.microsoft\.mdm:HealthAttestation\.Result/, 'the device raised the Result alert');
      assert.deepEqual(attestationCommands(second), [`Replace ${NODES.nonce}`, `Get ${NODES.certificate}`, `Get ${NODES.correlationId}`]);
      assert.equal(second.commands.find((c) => c.locUri === NODES.nonce)?.data, first.commands.find((c) => c.locUri === NODES.nonce)?.data, 'the same nonce');

      assert.equal(record?.state, 'valid', record?.reason ?? '');
      assert.equal(record?.nonce, attestation.nonce, 'the nonce the device was given is the one kept');
      assert.equal(validationNonce(dha.validations.at(-1)!), attestation.nonce, 'and the one the service was sent');
      assert.ok(record?.correlationId);
      const facts = healthAttestationFacts(record);
      assert.equal(facts.state, 'valid');
      assert.equal(facts.secureBootEnabled, true);
      assert.equal(facts.bitLockerEnabled, true);
      assert.equal(facts.codeIntegrityEnabled, true);
      assert.equal(facts.earlyLaunchAntiMalwareDriverEnabled, true);
      assert.equal(facts.bootDebuggingEnabled, false);

      // The admin API shows it; another tenant's admin does not find the device.
      const route = `/graph/beta/deviceManagement/managedDevices/${enrollment.id}/openMamHealthAttestation`;
      const shown = await server.json('GET', route, tokens.reader);
      assert.equal(shown.status, 200, JSON.stringify(shown.body));
      assert.equal(shown.body['state'], 'valid');
      assert.equal(shown.body['secureBootEnabled'], true);
      assert.equal(shown.body['correlationId'], record?.correlationId);
      const graphState = shown.body['deviceHealthAttestationState'] as Record<string, unknown>;
      assert.equal(graphState['secureBoot'], 'enabled');
      assert.equal(graphState['bitLockerStatus'], 'enabled');
      assert.equal(graphState['deviceHealthAttestationStatus'], 'valid');
      assert.equal((await server.json('GET', route, tokens.intruder)).status, 404);
      // managedDevice's own deviceHealthAttestationState, in the entity and in the collection.
      const entity = await server.json('GET', `/graph/beta/deviceManagement/managedDevices/${enrollment.id}`, tokens.reader);
      assert.equal((entity.body['deviceHealthAttestationState'] as Record<string, unknown>)['secureBoot'], 'enabled');
      const listed = await server.json('GET', `/graph/beta/deviceManagement/managedDevices?$select=id,deviceHealthAttestationState&$top=1000`, tokens.reader);
      const mine = (listed.body['value'] as Record<string, unknown>[]).find((d) => d['id'] === enrollment.id);
      assert.equal((mine?.['deviceHealthAttestationState'] as Record<string, unknown>)['deviceHealthAttestationStatus'], 'valid');
      assert.equal((await server.json('GET', `/graph/beta/deviceManagement/managedDevices/${randomUUID()}/openMamHealthAttestation`, tokens.reader)).status, 404);

      // A recent report: the next check-in is steady again (nothing to attest).
      const third = await device.sync();
      assert.equal(third.commands.filter((c) => c.locUri.startsWith('./Vendor/MSFT/HealthAttestation/')).length, 0);
    });

    it('reports what the device booted with: Secure Boot and BitLocker off are valid facts, not hidden', async () => {
      const { device, enrollment } = await attestingDevice({ boot: { secureBootEnabled: false, bitLockerEnabled: false } });
      const { record } = await attest(device, enrollment.id);
      const facts = healthAttestationFacts(record);
      assert.equal(facts.state, 'valid');
      assert.equal(facts.secureBootEnabled, false);
      assert.equal(facts.bitLockerEnabled, false);
    });

    it('a forged certificate (the service never issued it) is invalid, with no report', async () => {
      const { device, enrollment } = await attestingDevice({ mischief: 'forge' });
      const { record } = await attest(device, enrollment.id);
      assert.equal(record?.state, 'invalid');
      assert.match(record?.reason ?? '', /found the certificate invalid/);
      assert.equal(record?.report, null);
      assert.equal(healthAttestationFacts(record).secureBootEnabled, undefined);
    });

    it('a replayed certificate (DHA-Data accepted before, presented for a new nonce) is invalid without asking the service', async () => {
      const honest = await attestingDevice();
      assert.equal((await attest(honest.device, honest.enrollment.id)).record?.state, 'valid');
      const { device, attestation, enrollment } = await attestingDevice({ mischief: 'replay' });
      attestation.replayWith = honest.attestation.lastData;
      const asked = dha.validations.length;
      const { record } = await attest(device, enrollment.id);
      assert.equal(record?.state, 'invalid');
      assert.equal(record?.reason, REPLAY_REASON);
      assert.equal(dha.validations.length, asked, 'the replay never reached the service');
    });

    it('the service down: unknown (never valid), the certificate kept; valid once the service is back', async () => {
      const { device, enrollment } = await attestingDevice();
      dha.available = false;
      try {
        const { record } = await attest(device, enrollment.id);
        assert.equal(record?.state, 'unknown');
        assert.equal(record?.phase, 'retrieved');
        assert.match(record?.reason ?? '', /unavailable \(HTTP 503\)/);
        assert.ok((record?.nextAttemptAt ?? 0) > Date.now(), 'tried again later');
        assert.equal(healthAttestationFacts(record).secureBootEnabled, undefined);
      } finally {
        dha.available = true;
      }
      const record = await app().healthAttestation.validate(enrollment.id);
      assert.equal(record?.state, 'valid');
      assert.equal(record?.phase, 'idle');
      assert.equal(record?.certificate, null);
    });

    it('a device that refuses VerifyHealth ends the round as unknown and is not asked again within the day', async () => {
      const token = await server.mint({ upn: `user-${randomUUID().slice(0, 8)}@contoso.example`, deviceId: randomUUID() });
      const device = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token, statusFor: (command) => (command.locUri === NODES.verifyHealth ? '405' : '200') });
      closers.push(() => device.close());
      await device.enroll();
      const enrollment = (await app().store.getActiveEnrollmentByDevId(device.devId))!;
      await device.sync();
      const record = await app().store.healthAttestation.getHealthAttestation(enrollment.id);
      assert.equal(record?.state, 'unknown');
      assert.equal(record?.phase, 'idle');
      assert.match(record?.reason ?? '', /refused VerifyHealth \(status 405\)/);
      const again = await device.sync();
      assert.equal(again.commands.filter((c) => c.locUri.startsWith('./Vendor/MSFT/HealthAttestation/')).length, 0);
    });

    it('a service answering something that is not a report: invalid', async () => {
      const { device, enrollment } = await attestingDevice();
      dha.override = () => ({ status: 200, body: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>' });
      try {
        const { record } = await attest(device, enrollment.id);
        assert.equal(record?.state, 'invalid');
        assert.match(record?.reason ?? '', /not a report/);
      } finally {
        dha.override = undefined;
      }
    });
  });
}
