import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { startTestServer, type Backend, type JsonResponse, type TestServer } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The schemas of the app protection JSON surfaces (/mam/v1, /mtd/v1, /access/v1) refuse what the contract does not
 * allow with a 400 naming the field, never a 5xx, on both stores; the bearer token is checked before the body is
 * read; GET /openapi.json publishes every route with its schemas. Run per store backend.
 */
const EDGE_CLIENT = 'ecd6b820-32c2-49b6-98a6-444530e5a77a';

export function appProtectionSurfaces(backend: Backend, skip?: string): void {
  skippableSuite(`app protection JSON surfaces (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let user: string;
    let connector: string;
    let gateway: string;
    let reporter: string;
    before(async () => {
      server = await startTestServer(backend);
      user = await server.mint({ upn: 'surfaces@contoso.example', clientId: EDGE_CLIENT });
      connector = await server.mint({ upn: 'connector@contoso.example', roles: ['OpenMAM.ThreatConnector'] });
      gateway = await server.mint({ upn: 'gateway@contoso.example', roles: ['OpenMAM.Gateway'] });
      reporter = await server.mint({ upn: 'mdm@contoso.example', roles: ['OpenMAM.ComplianceReporter'] });
      // Heartbeats need a connector to beat for.
      const admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
      const created = await server.json('POST', '/graph/beta/deviceManagement/mobileThreatDefenseConnectors', admin, { partnerState: 'enabled', windowsMobileApplicationManagementEnabled: true, partnerUnresponsivenessThresholdInDays: 7 });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    });
    after(() => server.close());

    const registration = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
      appVersion: '120.0.2210.91',
      sdkVersion: '1.0.0',
      osVersion: '10.0.22631.3155',
      deviceTag: randomUUID(),
      ...overrides,
    });
    const error = (response: JsonResponse): { code: string; message: string } => response.body['error'] as { code: string; message: string };
    /** A 400 `badRequest` whose message matches `message`. */
    const assertRefused = (response: JsonResponse, message: RegExp, what: string): void => {
      assert.equal(response.status, 400, `${what}: ${JSON.stringify(response.body)}`);
      assert.equal(error(response).code, 'badRequest', what);
      assert.match(error(response).message, message, what);
    };

    it('/mtd/v1/heartbeat: an object or no body is a heartbeat; an array, a string, null or a number is a 400', async () => {
      assert.equal((await server.json('POST', '/mtd/v1/heartbeat', connector)).status, 204, 'no body');
      assert.equal((await server.json('POST', '/mtd/v1/heartbeat', connector, {})).status, 204, '{}');
      for (const body of ['[]', '"beat"', 'null', '42', '[{"connectorId":"x"}]']) {
        assertRefused(await server.json('POST', '/mtd/v1/heartbeat', connector, body), /^body must be object/, body);
      }
      assertRefused(await server.json('POST', '/mtd/v1/heartbeat', connector, { connectorId: 7 }), /^body\/connectorId /, 'a number id');
      assertRefused(await server.json('POST', '/mtd/v1/heartbeat', connector, { connector: 'x' }), /^body\/connector is not a known property$/, 'an unknown property');
    });

    it('names the field of an over-long, wrong-typed, missing or unknown value', async () => {
      const post = (body: unknown) => server.json('POST', '/mam/v1/registrations', user, body);
      assertRefused(await post(registration({ deviceTag: 'x'.repeat(257) })), /^body\/deviceTag must not have more than 256 characters$/i, 'over-long deviceTag');
      assertRefused(await post(registration({ deviceTag: 42 })), /^body\/deviceTag must be string$/, 'a number deviceTag');
      assertRefused(await post(registration({ deviceTag: undefined })), /^body\/deviceTag is required$/, 'no deviceTag');
      assertRefused(await post(registration({ extra: true })), /^body\/extra is not a known property$/, 'an unknown property');
      assertRefused(await post(registration({ osVersion: '10..0' })), /^body\/osVersion must be a version/, 'not a version');
      assertRefused(await post(registration({ azureAdDeviceId: 'not-a-guid' })), /^body\/azureAdDeviceId must be a GUID$/, 'not a GUID');
      const checkIn = await server.json('POST', `/mam/v1/registrations/${randomUUID()}/checkin`, user, { appVersion: '1.0', sdkVersion: '1.0', osVersion: '10.0', healthCheckFailures: Array.from({ length: 33 }, () => ({ setting: 'x', action: 'block' })) });
      assertRefused(checkIn, /^body\/healthCheckFailures must not have more than 32 items$/i, '33 failures');
      const result = await server.json('POST', `/mam/v1/registrations/${randomUUID()}/actions/${randomUUID()}/result`, user, { status: 'done' });
      assertRefused(result, /^body\/status /, 'an unknown status');
      // No coercion: the text "true" is not a boolean.
      assertRefused(await server.json('POST', '/access/v1/deviceCompliance', reporter, { azureAdDeviceId: randomUUID(), compliant: 'true' }), /^body\/compliant must be boolean$/, '"true"');
      assertRefused(await server.json('POST', '/access/v1/evaluate', gateway, { userToken: 'x'.repeat(16_385), resource: 'r' }), /userToken: required text of at most 16384 characters/, 'a huge token (refused by the access reader: the schema leaves the token to it)');
    });

    it('refuses NUL and unpaired surrogates in ids with a 400 (never stored mangled, never a 500), and takes paired ones', async () => {
      // JSON.stringify writes a lone surrogate as \ud800 (well-formed JSON.stringify, ES2019), which JSON.parse reads back as one.
      for (const deviceTag of ['tag\u0000x', 'tag\ud800', 'tag\udfffx', '\udc00\ud800']) {
        assertRefused(await server.json('POST', '/mam/v1/registrations', user, registration({ deviceTag })), /^body\/deviceTag must not contain NUL characters or unpaired UTF-16 surrogates$/, JSON.stringify(deviceTag));
      }
      assertRefused(await server.json('POST', '/mam/v1/registrations', user, registration({ deviceName: 'laptop\u0000' })), /^body\/deviceName /, 'NUL in deviceName');
      const report = { userId: randomUUID(), appId: 'com.microsoft.edge\ud800', azureAdDeviceId: randomUUID(), healthState: 'high', lastUpdatedDateTime: new Date().toISOString() };
      assertRefused(await server.json('POST', '/mtd/v1/health', connector, report), /^body\/appId must be an app id/, 'a lone surrogate in appId');
      assertRefused(await server.json('POST', '/mtd/v1/health', connector, { ...report, appId: 'com.microsoft.edge', connectorId: 'c\u0000' }), /^body\/connectorId /, 'NUL in connectorId');
      assertRefused(await server.json('POST', '/mam/v1/registrations/tag%00x/checkin', user, { appVersion: '1.0', sdkVersion: '1.0', osVersion: '10.0' }), /^params\/id must not contain NUL/, 'NUL in a path id');

      const paired = await server.json('POST', '/mam/v1/registrations', user, registration({ deviceName: 'Laptop \u{1F600}' }));
      assert.equal(paired.status, 201, `a well-formed pair is text: ${JSON.stringify(paired.body)}`);
    });

    it('a 10,000-level nested array where a scalar belongs is a 400, not a 500', async () => {
      const deep = `${'['.repeat(10_000)}"x"${']'.repeat(10_000)}`;
      const body = JSON.stringify(registration({ deviceTag: 'PLACEHOLDER' })).replace('"PLACEHOLDER"', deep);
      assertRefused(await server.json('POST', '/mam/v1/registrations', user, body), /^body\/deviceTag must be string$/, 'nested deviceTag');
      // 5,000 objects: 10,000 would pass the 32 KiB body limit (a 413).
      const nestedObject = `{"connectorId":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`;
      assertRefused(await server.json('POST', '/mtd/v1/heartbeat', connector, nestedObject), /^body\/connectorId /, 'nested connectorId');
      // With "__proto__" in the text the JSON parser walks the whole value; still a client error.
      const poisoned = await server.json('POST', '/mtd/v1/heartbeat', connector, `{"connectorId":${'['.repeat(10_000)}{"__proto__":1}${']'.repeat(10_000)}}`);
      assert.equal(poisoned.status, 400, JSON.stringify(poisoned.body));
    });

    it('checks the token before it reads the body: 401 without one, 403 without the role', async () => {
      const anonymous = await server.request('/mtd/v1/heartbeat', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"not json' });
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers['www-authenticate'], 'Bearer');
      assert.equal((await server.json('POST', '/mtd/v1/heartbeat', user, '[]')).status, 403, "a user's token is no connector's");
      assert.equal((await server.json('POST', '/access/v1/deviceCompliance', gateway, { azureAdDeviceId: randomUUID(), compliant: true })).status, 403, 'a gateway reports no compliance');
      assert.equal((await server.json('POST', '/mam/v1/registrations', connector, registration())).status, 403, "an app-only token registers no app");
    });

    it('publishes every /mam/v1, /mtd/v1 and /access/v1 route in GET /openapi.json with its request and response schemas', async () => {
      const response = await server.request('/openapi.json');
      assert.equal(response.status, 200);
      const document = JSON.parse(response.body) as { openapi: string; security: unknown; components: { securitySchemes: Record<string, unknown> }; paths: Record<string, Record<string, OpenApiOperation>> };
      assert.match(document.openapi, /^3\./);
      // OpenAPI 3.1 section 4.8.12.1: an Authorization header parameter is ignored; the bearer scheme says it.
      assert.deepEqual(document.security, [{ bearer: [] }]);
      assert.deepEqual(document.components.securitySchemes['bearer'], { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
      const expected: Record<string, { params: string[]; success: string }> = {
        '/mam/v1/registrations': { params: [], success: '201' },
        '/mam/v1/registrations/{id}/checkin': { params: ['id'], success: '200' },
        '/mam/v1/registrations/{id}/actions/{actionId}/result': { params: ['id', 'actionId'], success: '204' },
        '/mtd/v1/health': { params: [], success: '204' },
        '/mtd/v1/heartbeat': { params: [], success: '204' },
        '/access/v1/evaluate': { params: [], success: '200' },
        '/access/v1/deviceCompliance': { params: [], success: '204' },
      };
      // The Graph-shaped admin API is published too (test/http/graph-metadata.test.ts checks it).
      const published = Object.keys(document.paths).filter((path) => !path.startsWith('/graph/'));
      assert.deepEqual(published.filter((path) => !/^\/(?:mam|mtd|access)\/v1\//.test(path)), [], 'only the public JSON surfaces');
      assert.deepEqual([...published].sort(), Object.keys(expected).sort(), 'every route of the three surfaces');
      for (const [path, { params, success }] of Object.entries(expected)) {
        const operation = document.paths[path]!['post'];
        assert.ok(operation, `POST ${path}`);
        const body = operation.requestBody?.content['application/json']?.schema;
        assert.equal(body?.type, 'object', `${path}: request body schema`);
        assert.equal(body?.additionalProperties, false, `${path}: a closed request body`);
        const parameters = operation.parameters ?? [];
        assert.deepEqual(parameters.filter((p) => p.in === 'path').map((p) => p.name), params, `${path}: path parameters`);
        assert.ok(operation.responses[success], `${path}: ${success}`);
        for (const status of ['400', '401', '403', '500', '503']) {
          assert.ok(operation.responses[status]?.content?.['application/json']?.schema?.properties?.['error'], `${path}: error body at ${status}`);
        }
      }
      const registrationBody = document.paths['/mam/v1/registrations']!['post']!.requestBody!.content['application/json']!.schema!;
      assert.equal(registrationBody.properties?.['deviceTag']?.maxLength, 256);
      assert.equal(registrationBody.properties?.['deviceTag']?.pattern, '^[^\\u0000\\uD800-\\uDFFF]*$');
    });
  });
}

interface JsonSchemaObject {
  type?: string;
  additionalProperties?: unknown;
  maxLength?: number;
  pattern?: string;
  properties?: Record<string, JsonSchemaObject>;
}

interface OpenApiOperation {
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { schema?: JsonSchemaObject }> };
  responses: Record<string, { content?: Record<string, { schema?: JsonSchemaObject }> }>;
}
