import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parseXml } from '../../src/protocol/xml/reader.ts';
import { startTestServer, type Backend, type TestServer } from '../support/server.ts';
import { hmacWithPublicKey, signedByUnknownKey, unsignedToken } from '../support/tokens.ts';
import { discoverRequest, mamEnrollmentRequest, readFault, readProvisioningDocument, SOAP_HEADERS } from '../support/windows-client.ts';
import { skippableSuite } from '../support/skippable-suite.ts';
import { operatorContext } from '../../src/core/audit/audit-trail.ts';

const ENROLL = '/EnrollmentServer/Enrollment.svc';
const TOU = '/EnrollmentServer/TermsOfUse';
const REDIRECT = 'ms-appx-web://Microsoft.AAD.BrokerPlugin/openmam';

function newDeviceId(): string {
  return randomUUID().replace(/-/g, '').toUpperCase();
}

/**
 * MAM enrollment end to end, over real HTTPS against a real store, with messages shaped as Windows sends them.
 * Run once per store backend (enrollment.sqlite.test.ts, enrollment.postgres.test.ts).
 */
export function enrollmentEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`MAM enrollment over HTTPS (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(backend);
    });
    after(async () => {
      await server?.close();
    });

    const activeEnrollment = (devId: string) => storeOf(server).getActiveEnrollmentByDevId(devId);
    const enroll = (body: string, headers: Record<string, string> = SOAP_HEADERS) => server.request(ENROLL, { method: 'POST', headers, body });

    /** Sends a request that must be refused: asserts the fault, its trace id in the log, nothing stored, and the server still serving. */
    async function expectRefused(body: string, subcode: string, options: { headers?: Record<string, string>; devId?: string; errorType?: string } = {}) {
      const before = await storeOf(server).listEnrollments(server.tenantId, { limit: 1000 });
      const response = await enroll(body, options.headers);
      assert.equal(response.status, 200);
      assert.match(String(response.headers['content-type']), /^application\/soap\+xml/);
      const fault = readFault(response.body);
      assert.ok(fault, `expected a SOAP fault, got: ${response.body.slice(0, 300)}`);
      assert.equal(fault.subcode, subcode, fault.reason);
      if (options.errorType) assert.equal(fault.errorType, options.errorType);
      assert.match(fault.traceId, /^[0-9a-f-]{36}$/);
      assert.ok(
        server.logs.some((line) => line['traceId'] === fault.traceId && line['errorCode'] !== undefined),
        'the fault is logged with its trace id',
      );
      const afterwards = await storeOf(server).listEnrollments(server.tenantId, { limit: 1000 });
      assert.deepEqual(afterwards, before, 'a refused request stores nothing');
      if (options.devId) assert.equal(await activeEnrollment(options.devId), undefined);
      const health = await server.request('/healthz');
      assert.equal(health.status, 200, 'the server keeps serving');
      return fault;
    }

    it('serves /healthz over HTTPS', async () => {
      const response = await server.request('/healthz');
      assert.equal(response.status, 200);
      assert.deepEqual(JSON.parse(response.body), { status: 'ok', version: '0.1.0', database: 'ok' });
      assert.match(String(response.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    });

    it('serves /livez (no database) and /readyz (the database answers), for orchestrators\' probes', async () => {
      const live = await server.request('/livez');
      assert.equal(live.status, 200);
      assert.deepEqual(JSON.parse(live.body), { status: 'ok', version: '0.1.0' });
      const ready = await server.request('/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(JSON.parse(ready.body), { status: 'ok', version: '0.1.0', database: 'ok' });
    });

    it('enrolls a device whose user adds a work account, and answers with a MAM provisioning document', async () => {
      const devId = newDeviceId();
      const entraDeviceId = randomUUID();
      const token = await server.mint({ upn: 'alex@contoso.example', deviceId: entraDeviceId });
      const messageId = `urn:uuid:${randomUUID()}`;
      const response = await enroll(mamEnrollmentRequest({ token, deviceId: devId, messageId }));
      assert.equal(response.status, 200);
      assert.equal(readFault(response.body), undefined, response.body);
      const envelope = parseXml(response.body);
      assert.equal(envelope.local, 'Envelope');
      const doc = readProvisioningDocument(response.body);
      assert.equal(doc.relatesTo, messageId);
      const app = doc.characteristics.get('APPLICATION')!;
      assert.equal(app.get('APPID')?.value, 'w7');
      assert.equal(app.get('PROVIDER-ID')?.value, 'OpenMAM');
      assert.equal(app.get('ADDR')?.value, `${server.config.publicUrl}/ManagementServer/MDM.svc`);
      assert.equal(app.get('DEFAULTENCODING')?.value, 'application/vnd.syncml.dm+xml');
      assert.equal(app.get('NAME')?.value, 'Default tenant');
      assert.ok(app.has('INITIALBACKOFFTIME') && app.has('MAXBACKOFFTIME') && app.has('CONNRETRYFREQ'));
      const poll = doc.characteristics.get('DMClient/Provider/OpenMAM/Poll')!;
      assert.equal(poll.get('IntervalForRemainingScheduledRetries')?.value, '1440');
      assert.equal(poll.get('IntervalForRemainingScheduledRetries')?.datatype, 'integer');
      assert.equal(poll.get('PollOnLogin')?.value, 'true');
      assert.equal(doc.characteristics.get('DMClient/Provider/OpenMAM')!.get('AADResourceID')?.value, server.config.appIdUri);
      assert.ok(![...doc.characteristics.keys()].some((name) => name.startsWith('CertificateStore')), 'MAM has no CertificateStore');

      const enrollment = await activeEnrollment(devId);
      assert.ok(enrollment);
      assert.equal(enrollment.tenantId, server.tenantId);
      assert.equal(enrollment.upn, 'alex@contoso.example');
      assert.equal(enrollment.entraDeviceId, entraDeviceId);
      assert.equal(enrollment.enrollmentType, 'MAM');
      assert.equal(enrollment.state, 'enrolled');
      assert.equal(enrollment.deviceName, 'DESKTOP-OPENMAM');
      assert.equal(enrollment.requestVersion, '5.0');
      assert.ok(enrollment.hwDevId && enrollment.osVersion && enrollment.locale);
      assert.ok(server.logs.some((line) => line['enrollmentId'] === enrollment.id && line['msg'] === 'MAM enrollment created'));
    });

    it('replaces the enrollment when the same user enrolls the same device again', async () => {
      const devId = newDeviceId();
      const token = await server.mint({ upn: 'sam@contoso.example' });
      assert.equal(readFault((await enroll(mamEnrollmentRequest({ token, deviceId: devId }))).body), undefined);
      const first = await activeEnrollment(devId);
      const again = await enroll(mamEnrollmentRequest({ token, deviceId: devId, replaceContext: { DeviceName: 'RENAMED-PC' } }));
      assert.equal(readFault(again.body), undefined);
      const second = await activeEnrollment(devId);
      assert.equal(second?.id, first?.id);
      assert.equal(second?.enrollCount, 2);
      assert.equal(second?.deviceName, 'RENAMED-PC');
      const all = await storeOf(server).listEnrollments(server.tenantId, { limit: 1000 });
      assert.equal(all.filter((e) => e.devId === devId).length, 1);
    });

    it('refuses a second work account on a device with a clear fault, keeping the first', async () => {
      const devId = newDeviceId();
      const first = await server.mint({ upn: 'first@contoso.example' });
      assert.equal(readFault((await enroll(mamEnrollmentRequest({ token: first, deviceId: devId }))).body), undefined);
      const second = await server.mint({ upn: 'second@contoso.example' });
      const fault = await expectRefused(mamEnrollmentRequest({ token: second, deviceId: devId }), 's:Authorization');
      assert.match(fault.reason, /already has a work account/);
      assert.equal((await activeEnrollment(devId))?.upn, 'first@contoso.example');
    });

    it('tolerates any RequestVersion, a missing PKCS#10 and the DeviceEnrollmentUserToken form', async () => {
      const devId = newDeviceId();
      const token = await server.mint({ upn: 'tolerant@contoso.example' });
      const body = mamEnrollmentRequest({ token, deviceId: devId, replaceContext: { RequestVersion: '9.0' } })
        .replace(/<wsse:BinarySecurityToken[^>]*#PKCS10"[^>]*>[^<]*<\/wsse:BinarySecurityToken>/, '')
        .replace('urn:ietf:params:oauth:token-type:jwt', 'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentUserToken');
      assert.ok(!body.includes('#PKCS10"'));
      const response = await enroll(body);
      assert.equal(readFault(response.body), undefined, response.body);
      assert.equal((await activeEnrollment(devId))?.requestVersion, '9.0');
    });

    describe('refuses bad input with the right fault, stores nothing and keeps serving', () => {
      let valid: string;
      before(async () => {
        valid = await server.mint({ upn: 'bad-input@contoso.example' });
      });

      it('malformed XML', async () => {
        await expectRefused('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><a></b></s:Body></s:Envelope>', 's:MessageFormat');
      });

      it('truncated XML', async () => {
        const devId = newDeviceId();
        const body = mamEnrollmentRequest({ token: valid, deviceId: devId });
        await expectRefused(body.slice(0, Math.floor(body.length / 2)), 's:MessageFormat', { devId });
      });

      it('a DOCTYPE with an external entity (XXE)', async () => {
        const devId = newDeviceId();
        const body = withDoctype(
          '<!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
          mamEnrollmentRequest({ token: valid, deviceId: devId, replaceContext: { DeviceName: '&xxe;' } }),
        );
        const fault = await expectRefused(body, 's:MessageFormat', { devId });
        assert.match(fault.reason, /DOCTYPE is not allowed/);
      });

      it('entity expansion (billion laughs)', async () => {
        const laughs = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>';
        const devId = newDeviceId();
        const body = withDoctype(laughs, mamEnrollmentRequest({ token: valid, deviceId: devId, replaceContext: { Locale: '&lol3;' } }));
        const fault = await expectRefused(body, 's:MessageFormat', { devId });
        assert.match(fault.reason, /DOCTYPE is not allowed/);
      });

      it('a wrong SOAP action', async () => {
        const devId = newDeviceId();
        const body = mamEnrollmentRequest({ token: valid, deviceId: devId }).replace('/RST/wstep<', '/RST/other<');
        const fault = await expectRefused(body, 's:MessageFormat', { devId });
        assert.match(fault.reason, /SOAP action/);
      });

      it('a missing token', async () => {
        const devId = newDeviceId();
        const body = mamEnrollmentRequest({ token: valid, deviceId: devId }).replace(/<wsse:Security[\s\S]*?<\/wsse:Security>/, '');
        await expectRefused(body, 's:Authentication', { devId });
      });

      it('an empty token', async () => {
        const devId = newDeviceId();
        const body = mamEnrollmentRequest({ token: valid, deviceId: devId }).replace(/(jwt" [^>]*>)[^<]*</, '$1<');
        await expectRefused(body, 's:Authentication', { devId });
      });

      it('alg none', async () => {
        await expectRefused(mamEnrollmentRequest({ token: unsignedToken(valid), deviceId: newDeviceId() }), 's:Authentication');
      });

      it('an HS256 token signed with the public key', async () => {
        const jwk = server.runtime.devIdp!.jwks().keys[0]!;
        const forged = await hmacWithPublicKey(valid, jwk as Record<string, unknown>);
        await expectRefused(mamEnrollmentRequest({ token: forged, deviceId: newDeviceId() }), 's:Authentication');
      });

      it('a token signed by an unknown key, even under a published kid', async () => {
        const kid = String(server.runtime.devIdp!.jwks().keys[0]!.kid);
        await expectRefused(mamEnrollmentRequest({ token: await signedByUnknownKey(valid), deviceId: newDeviceId() }), 's:Authentication');
        await expectRefused(mamEnrollmentRequest({ token: await signedByUnknownKey(valid, kid), deviceId: newDeviceId() }), 's:Authentication');
      });

      it('a wrong audience', async () => {
        const token = await server.mint({ upn: 'aud@contoso.example', audience: 'https://graph.microsoft.com' });
        const fault = await expectRefused(mamEnrollmentRequest({ token, deviceId: newDeviceId() }), 's:Authentication');
        assert.match(fault.reason, /aud/);
      });

      it("an application's own token (no user) and a device's own token: there is no work account to add", async () => {
        const devId = newDeviceId();
        const appOnly = await server.mint({ roles: ['OpenMAM.Admin'] });
        const fault = await expectRefused(mamEnrollmentRequest({ token: appOnly, deviceId: devId }), 's:Authorization', { devId });
        assert.match(fault.reason, /user's token/);
        const deviceOnly = await server.mint({ deviceId: randomUUID() });
        await expectRefused(mamEnrollmentRequest({ token: deviceOnly, deviceId: devId }), 's:Authorization', { devId });
      });

      it('a foreign tenant', async () => {
        const token = await server.mint({ upn: 'eve@fabrikam.example', tenantId: randomUUID() });
        const fault = await expectRefused(mamEnrollmentRequest({ token, deviceId: newDeviceId() }), 's:Authorization');
        assert.match(fault.reason, /not onboarded/);
      });

      it('an expired token and a not-yet-valid token', async () => {
        const expired = await server.mint({ upn: 'late@contoso.example', now: Date.now() - 2 * 3600_000, expiresInSeconds: 3600 });
        const fault = await expectRefused(mamEnrollmentRequest({ token: expired, deviceId: newDeviceId() }), 's:Authentication');
        assert.match(fault.reason, /expired/);
        const early = await server.mint({ upn: 'early@contoso.example', now: Date.now() + 3600_000, notBeforeSkewSeconds: 0 });
        await expectRefused(mamEnrollmentRequest({ token: early, deviceId: newDeviceId() }), 's:Authentication');
      });

      it('a body over the limit', async () => {
        const devId = newDeviceId();
        const body = mamEnrollmentRequest({ token: valid, deviceId: devId, context: { Padding: 'x'.repeat(70 * 1024) } });
        const fault = await expectRefused(body, 's:MessageFormat', { devId });
        assert.match(fault.reason, /too large/);
      });

      it('a request that is not SOAP', async () => {
        await expectRefused('{"hello":"world"}', 's:MessageFormat', { headers: { 'content-type': 'application/json' } });
      });

      it('an Entra join (EnrollmentType Device), which belongs to MDM', async () => {
        const devId = newDeviceId();
        const body = mamEnrollmentRequest({ token: valid, deviceId: devId, replaceContext: { EnrollmentType: 'Device' } });
        await expectRefused(body, 's:Authorization', { devId, errorType: 'DeviceNotSupported' });
      });

      it('a request without DeviceID', async () => {
        const body = mamEnrollmentRequest({ token: valid, deviceId: 'X' }).replace(/<ac:ContextItem Name="DeviceID">[\s\S]*?<\/ac:ContextItem>/, '');
        await expectRefused(body, 's:MessageFormat');
      });

      it('a tenant that blocked new enrollments', async () => {
        const devId = newDeviceId();
        await server.runtime.app.tenantSettings.update(operatorContext(server.tenantId, 'test'), { enrollmentAllowed: false });
        try {
          await expectRefused(mamEnrollmentRequest({ token: valid, deviceId: devId }), 's:Authorization', { devId });
        } finally {
          await server.runtime.app.tenantSettings.update(operatorContext(server.tenantId, 'test'), { enrollmentAllowed: true });
        }
      });
    });

    describe('Terms of Use', () => {
      const touUrl = (query: Record<string, string>) => `${TOU}?${new URLSearchParams(query).toString()}`;
      const standardQuery = { redirect_uri: REDIRECT, 'client-request-id': randomUUID(), 'api-version': '1.0' };

      async function acceptAs(upn: string): Promise<{ blob: string; token: string }> {
        const token = await server.mint({ upn });
        const page = await server.request(touUrl(standardQuery), { headers: { authorization: `Bearer ${token}`, 'CXH-HOST': 'MOSET' } });
        assert.equal(page.status, 200);
        const accept = /id="accept" href="([^"]+)"/.exec(page.body)?.[1]?.replace(/&amp;/g, '&');
        assert.ok(accept, 'the page has an Accept link');
        const url = new URL(accept);
        assert.equal(`${url.protocol}//${url.host}${url.pathname}`, REDIRECT);
        assert.equal(url.searchParams.get('IsAccepted'), 'true');
        return { blob: url.searchParams.get('OpaqueBlob')!, token };
      }

      it('shows the terms themed by CXH-HOST, with Accept and Decline redirects', async () => {
        const token = await server.mint({ upn: 'reader@contoso.example' });
        const oobe = await server.request(touUrl(standardQuery), { headers: { authorization: `Bearer ${token}`, 'CXH-HOST': 'FRX' } });
        assert.equal(oobe.status, 200);
        assert.match(oobe.body, /data-theme="oobe"/);
        assert.match(oobe.body, /reader@contoso\.example/);
        assert.match(oobe.body, /id="decline" href="ms-appx-web:\/\/Microsoft\.AAD\.BrokerPlugin\/openmam\?IsAccepted=false"/);
        assert.equal(oobe.headers['cache-control'], 'no-store');
        const settings = await server.request(touUrl(standardQuery), { headers: { authorization: `Bearer ${token}`, 'CXH-HOST': 'MOSET' } });
        assert.match(settings.body, /data-theme="settings"/);
      });

      it('redirects errors to redirect_uri with error=, and refuses a page without a safe redirect_uri', async () => {
        const missing = await server.request(touUrl(standardQuery));
        assert.equal(missing.status, 302);
        const location = new URL(String(missing.headers['location']));
        assert.equal(location.searchParams.get('error'), 'unauthorized_client');
        const forged = await server.request(touUrl(standardQuery), { headers: { authorization: `Bearer ${unsignedToken(await server.mint({ upn: 'x@contoso.example' }))}` } });
        assert.equal(new URL(String(forged.headers['location'])).searchParams.get('error'), 'unauthorized_client');
        const open = await server.request(touUrl({ ...standardQuery, redirect_uri: 'https://evil.example/collect' }));
        assert.equal(open.status, 400, 'never an open redirect');
        assert.equal(open.headers['location'], undefined);
        assert.equal((await server.request(TOU)).status, 400);
      });

      it('carries the acceptance into the enrollment as EnrollmentData', async () => {
        const { blob, token } = await acceptAs('accepting@contoso.example');
        const devId = newDeviceId();
        const response = await enroll(mamEnrollmentRequest({ token, deviceId: devId, context: { EnrollmentData: blob } }));
        assert.equal(readFault(response.body), undefined, response.body);
        const enrollment = await activeEnrollment(devId);
        assert.ok(enrollment?.termsAcceptedAt && enrollment.termsAcceptedAt <= Date.now());
      });

      it("refuses another user's OpaqueBlob and a forged one", async () => {
        const { blob } = await acceptAs('owner@contoso.example');
        const thief = await server.mint({ upn: 'thief@contoso.example' });
        const devId = newDeviceId();
        await expectRefused(mamEnrollmentRequest({ token: thief, deviceId: devId, context: { EnrollmentData: blob } }), 's:Authorization', { devId, errorType: 'InvalidEnrollmentData' });
        const tampered = `${blob.slice(0, -4)}AAAA`;
        await expectRefused(mamEnrollmentRequest({ token: thief, deviceId: devId, context: { EnrollmentData: tampered } }), 's:Authorization', { devId, errorType: 'InvalidEnrollmentData' });
      });

      it('refuses an enrollment without acceptance when the tenant requires its terms', async () => {
        await server.runtime.app.tenantSettings.update(operatorContext(server.tenantId, 'test'), { requireTermsOfUse: true });
        try {
          const token = await server.mint({ upn: 'hasty@contoso.example' });
          const devId = newDeviceId();
          await expectRefused(mamEnrollmentRequest({ token, deviceId: devId }), 's:Authorization', { devId, errorType: 'InvalidEnrollmentData' });
          const { blob, token: accepted } = await acceptAs('careful@contoso.example');
          const ok = await enroll(mamEnrollmentRequest({ token: accepted, deviceId: devId, context: { EnrollmentData: blob } }));
          assert.equal(readFault(ok.body), undefined);
        } finally {
          await server.runtime.app.tenantSettings.update(operatorContext(server.tenantId, 'test'), { requireTermsOfUse: false });
        }
      });
    });

    describe('Discovery', () => {
      it('answers the GET probe with 200 and Discover with Federated and our URLs', async () => {
        assert.equal((await server.request('/EnrollmentServer/Discovery.svc')).status, 200);
        const messageId = `urn:uuid:${randomUUID()}`;
        const response = await server.request('/EnrollmentServer/Discovery.svc', { method: 'POST', headers: SOAP_HEADERS, body: discoverRequest(messageId) });
        assert.equal(response.status, 200);
        assert.match(response.body, /<AuthPolicy>Federated<\/AuthPolicy>/);
        assert.ok(response.body.includes(`<EnrollmentServiceUrl>${server.config.publicUrl}${ENROLL}</EnrollmentServiceUrl>`));
        assert.ok(response.body.includes(`<AuthenticationServiceUrl>${server.config.publicUrl}${TOU}</AuthenticationServiceUrl>`));
        assert.ok(response.body.includes(`<a:RelatesTo>${messageId}</a:RelatesTo>`));
      });

      it('refuses an enrollment message posted to discovery', async () => {
        const response = await server.request('/EnrollmentServer/Discovery.svc', {
          method: 'POST',
          headers: SOAP_HEADERS,
          body: mamEnrollmentRequest({ token: await server.mint({ upn: 'd@contoso.example' }), deviceId: newDeviceId() }),
        });
        assert.equal(readFault(response.body)?.subcode, 's:MessageFormat');
      });
    });

    it('publishes the built-in identity provider discovery and keys', async () => {
      const discovery = await server.request(`/idp/${server.tenantId}/v2.0/.well-known/openid-configuration`);
      assert.equal(discovery.status, 200);
      const document = JSON.parse(discovery.body) as { issuer: string; jwks_uri: string };
      assert.equal(document.issuer, `${server.config.publicUrl}/idp/${server.tenantId}/v2.0`);
      const keys = await server.request(new URL(document.jwks_uri).pathname);
      assert.equal((JSON.parse(keys.body) as { keys: unknown[] }).keys.length, 1);
      assert.ok(!keys.body.includes('"d"'), 'no private key material');
    });
  });
}

/** Puts a DTD where XML allows one: after the XML declaration if any, before the root. */
function withDoctype(doctype: string, xml: string): string {
  const declaration = /^<\?xml[^>]*\?>/.exec(xml)?.[0] ?? '';
  return `${declaration}${doctype}${xml.slice(declaration.length)}`;
}

function storeOf(server: TestServer) {
  return server.runtime.app.store;
}
