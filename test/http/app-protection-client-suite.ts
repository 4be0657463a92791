import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildGateway } from '../../src/gateway/gateway.ts';
import { DecisionClient } from '../../src/gateway/decision-client.ts';
import { fixedToken } from '../../src/gateway/token-source.ts';
import { stableObjectId } from '../../src/identity/dev-idp.ts';
import { MamClient, MemoryStorage, type MamAction } from '../../packages/client/src/index.ts';
import { fetchTrusting } from '../support/fetch-trusting.ts';
import { startTestServer, type Backend, type TestServer } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The app developer's view, end to end over real HTTPS: apps built on @openmam/client register with the real server,
 * receive their policy, carry out a wipe and report it; `openmam gateway` in front of an upstream lets an approved,
 * compliant app through and refuses another app with the remediation text. Run per store backend.
 */
const PROTECTIONS = '/graph/beta/deviceAppManagement/windowsManagedAppProtections';
const OUTLOOK = 'com.microsoft.office.outlook';
const UNAPPROVED = 'com.contoso.mailer';
/** Each app's Entra client id, in the tenant's managed app catalogue. */
const CLIENT_OF: Record<string, string> = { [OUTLOOK]: randomUUID(), [UNAPPROVED]: randomUUID() };
/** The protected resource: Exchange Online's application id and identifier URI (the gateway is started with the URI). */
const EXCHANGE = '00000002-0000-0ff1-ce00-000000000000';
const EXCHANGE_URI = 'https://outlook.office365.com';

export function appProtectionClientEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`@openmam/client and openmam gateway against the server (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let admin: string;
    let upstream: Server;
    let upstreamHits: string[];
    let gateway: FastifyInstance;
    let gatewayUrl: string;
    const deviceTag = randomUUID();
    const clients: MamClient[] = [];

    async function graph(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
      const response = await server.json(method, path, admin, body);
      assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body;
    }
    /** Carol's token as the app gets it from Entra: its own client id, for OpenMAM or for the resource. */
    const carol = (appId: string, audience?: string): Promise<string> =>
      server.mint({ upn: 'carol@contoso.example', clientId: CLIENT_OF[appId]!, ...(audience === undefined ? {} : { audience }) });
    function client(appId: string, actions: MamAction[] = []): MamClient {
      const mam = new MamClient({
        serverUrl: server.url,
        getToken: () => carol(appId),
        app: { appId, appVersion: '16.0.17328.20000', sdkVersion: '1.0.0' },
        device: { osVersion: '10.0.22631.3155', deviceName: 'LAPTOP-CAROL', deviceTag },
        storage: new MemoryStorage(),
        fetch: fetchTrusting(server.ca),
        onAction: (action) => void actions.push(action),
      });
      clients.push(mam);
      return mam;
    }
    /** The app calls the resource with its token for the resource, and the SDK's headers (claims OpenMAM checks). */
    async function throughGateway(mam: MamClient, appId: string): Promise<{ status: number; body: Record<string, unknown> }> {
      const resourceToken = await carol(appId, EXCHANGE_URI);
      const response = await fetch(`${gatewayUrl}/mail/inbox?top=5`, { headers: { authorization: `Bearer ${resourceToken}`, ...mam.accessHeaders() } });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    }

    before(async () => {
      server = await startTestServer(backend);
      admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
      for (const [windowsAppId, clientId] of Object.entries(CLIENT_OF)) {
        await graph('POST', '/graph/beta/deviceAppManagement/openMamManagedApps', { displayName: windowsAppId, windowsAppId, clientIds: [clientId] });
      }
      await graph('POST', '/graph/v1.0/servicePrincipals', { displayName: 'Exchange Online', appId: EXCHANGE, servicePrincipalNames: [EXCHANGE_URI] });
      const level2 = await graph('GET', `${PROTECTIONS}/templates/level2?minimumOsVersion=10.0.22631.2506`);
      const body = Object.fromEntries(Object.entries(level2).filter(([name]) => !name.startsWith('@odata')));
      const policy = await graph('POST', PROTECTIONS, { ...body, displayName: 'Level 2' });
      await graph('POST', `${PROTECTIONS}/${String(policy['id'])}/targetApps`, { apps: [{ mobileAppIdentifier: { '@odata.type': '#microsoft.graph.windowsAppIdentifier', windowsAppId: OUTLOOK } }] });
      await graph('POST', `${PROTECTIONS}/${String(policy['id'])}/assign`, { assignments: [{ target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } }] });
      await graph('POST', '/graph/v1.0/identity/conditionalAccess/policies', {
        displayName: 'Exchange Online only from Outlook, protected',
        state: 'enabled',
        conditions: { applications: { includeApplications: [EXCHANGE] }, users: { includeUsers: ['All'] } },
        grantControls: { operator: 'OR', builtInControls: ['approvedApplication', 'compliantApplication'] },
        approvedApplications: [OUTLOOK],
      });

      upstreamHits = [];
      upstream = createServer((request, response) => {
        upstreamHits.push(`${request.method} ${request.url} app=${String(request.headers['x-openmam-app-id'])}`);
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ mail: ['hello'] }));
      });
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      const gatewayToken = await server.mint({ upn: 'gateway@contoso.example', roles: ['OpenMAM.Gateway'] });
      gateway = await buildGateway({
        upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
        resource: EXCHANGE_URI,
        decisions: new DecisionClient({ openmamUrl: server.url, token: fixedToken(gatewayToken), ca: server.ca }),
      });
      gatewayUrl = await gateway.listen({ port: 0, host: '127.0.0.1' });
    });
    after(async () => {
      for (const mam of clients) mam.stop();
      await gateway?.close();
      await new Promise((resolve) => upstream?.close(resolve));
      await server?.close();
    });

    it('registers through the client and holds the policy; a steady check-in changes nothing', async () => {
      const outlook = client(OUTLOOK);
      const registered = await outlook.register();
      assert.equal(registered.policyChanged, true);
      assert.equal(registered.nextCheckInSeconds, 1800);
      assert.equal(outlook.canAccessOrgData(), true);
      const steady = await outlook.checkIn();
      assert.equal(steady.policyChanged, false, 'the held policy version is not sent again');
      assert.equal(steady.complianceState, 'compliant');
    });

    it('lets an approved, compliant app through the gateway and refuses another app with the remediation', async () => {
      const outlook = clients[0]!;
      const allowed = await throughGateway(outlook, OUTLOOK);
      assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
      assert.deepEqual(allowed.body, { mail: ['hello'] });
      assert.equal(upstreamHits.length, 1);
      assert.match(upstreamHits[0]!, /^GET \/mail\/inbox\?top=5 app=undefined$/, 'OpenMAM headers are not forwarded');

      const other = client(UNAPPROVED);
      await other.register();
      const denied = await throughGateway(other, UNAPPROVED);
      assert.equal(denied.status, 403);
      const error = denied.body['error'] as { code: string; reasons: string[]; remediation: { title: string; message: string } };
      assert.equal(error.code, 'access_denied');
      assert.ok(error.reasons.includes('approvedAppRequired'), JSON.stringify(error));
      assert.ok(error.remediation.title.length > 0 && error.remediation.message.length > 0);
      assert.equal(upstreamHits.length, 1, 'a denied request never reaches the upstream');

      // The unapproved app dresses up as Outlook: Outlook's app id and registration id in the headers, its own token.
      const disguised = await fetch(`${gatewayUrl}/mail/inbox`, { headers: { authorization: `Bearer ${await carol(UNAPPROVED, EXCHANGE_URI)}`, ...outlook.accessHeaders() } });
      assert.equal(disguised.status, 403);
      const reasons = ((await disguised.json()) as { error: { reasons: string[] } }).error.reasons;
      assert.deepEqual(reasons, ['appIdMismatch'], 'the token names the client; the header cannot');
      const noAppHeader = { ...outlook.accessHeaders() };
      delete noAppHeader['X-OpenMAM-App-Id'];
      const borrowed = await fetch(`${gatewayUrl}/mail/inbox`, { headers: { authorization: `Bearer ${await carol(UNAPPROVED, EXCHANGE_URI)}`, ...noAppHeader } });
      assert.deepEqual(((await borrowed.json()) as { error: { reasons: string[] } }).error.reasons, ['clientMismatch'], "Outlook's registration id answers only to Outlook");
      const forOpenMam = await fetch(`${gatewayUrl}/mail/inbox`, { headers: { authorization: `Bearer ${await carol(OUTLOOK)}`, ...outlook.accessHeaders() } });
      assert.deepEqual(((await forOpenMam.json()) as { error: { reasons: string[] } }).error.reasons, ['tokenAudienceMismatch'], "a token for OpenMAM is not one for Exchange");
      assert.equal(upstreamHits.length, 1);
    });

    it('carries out a wipe by device tag and the server records it succeeded', async () => {
      const actions: MamAction[] = [];
      const outlook = client(OUTLOOK, actions);
      await outlook.register();
      let wiped = 0;
      outlook.onWipe(() => {
        wiped += 1;
      });
      await graph('POST', `/graph/beta/users/${stableObjectId(server.tenantId, 'carol@contoso.example')}/wipeManagedAppRegistrationsByDeviceTag`, { deviceTag });
      await outlook.checkIn().catch(() => undefined);
      assert.equal(wiped, 1, 'the wipe handler ran');
      assert.ok(actions.some((a) => a.type === 'wipe'));
      const operations = await graph('GET', `/graph/beta/deviceAppManagement/managedAppRegistrations/${clients[0]!.registrationId ?? ''}/operations`);
      assert.deepEqual((operations['value'] as { state: string }[]).map((o) => o.state), ['succeeded']);
      const denied = await throughGateway(outlook, OUTLOOK);
      assert.equal(denied.status, 403, 'a wiped registration is no longer let through');
    });

    it('agrees with the access decision right after registering: the policy delivered at registration is the one the app holds', async () => {
      const fresh = new MamClient({
        serverUrl: server.url,
        getToken: () => server.mint({ upn: 'grace@contoso.example', clientId: CLIENT_OF[OUTLOOK]! }),
        app: { appId: OUTLOOK, appVersion: '16.0.17328.20000', sdkVersion: '1.0.0' },
        device: { osVersion: '10.0.22631.3155', deviceName: 'LAPTOP-GRACE', deviceTag: randomUUID() },
        storage: new MemoryStorage(),
        fetch: fetchTrusting(server.ca),
      });
      clients.push(fresh);
      await fresh.register();
      assert.equal(fresh.canAccessOrgData(), true);
      // The server holds the registration to the policy it just delivered (what compliantApplication judges).
      const registration = `/graph/beta/deviceAppManagement/managedAppRegistrations/${fresh.registrationId ?? ''}`;
      const applied = (await graph('GET', `${registration}/appliedPolicies`))['value'] as { id: string }[];
      const intended = (await graph('GET', `${registration}/intendedPolicies`))['value'] as { id: string }[];
      assert.deepEqual(applied.map((p) => p.id), intended.map((p) => p.id));
      assert.equal(applied.length, 1, 'the Level 2 policy, held from registration on');
      const token = await server.mint({ upn: 'grace@contoso.example', clientId: CLIENT_OF[OUTLOOK]!, audience: EXCHANGE_URI });
      const response = await fetch(`${gatewayUrl}/mail/inbox`, { headers: { authorization: `Bearer ${token}`, ...fresh.accessHeaders() } });
      assert.equal(response.status, 200, await response.text());
    });
  });
}
