import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { kindsOf, policyCollections, readableProperties, type GraphVersion, type PolicyKindDeclaration } from '../../src/core/policy-kinds/index.ts';
import { PFX_BASE64, PFX_PASSWORD, SCEP_CHALLENGE, scepProfile, testCertificates } from '../policy/certificate-fixtures.ts';
import { customConfiguration, mdmPolicy, minimalMamPolicy } from '../policy/fixtures.ts';
import { startTestServer, type Backend, type JsonResponse, type TestServer } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * Every policy kind of the registry (src/core/policy-kinds), through the routes its declaration gives it, in every
 * Graph version that serves its collection: create, read, list with `$filter`, PATCH (one merge rule), a kind that
 * cannot change, navigation properties in a body, `assign` with the collection's assignment type and answer, another
 * collection's id, delete. Answers carry only the kind's readable properties: never a write-only secret. A new kind
 * needs a body here (the record below is typed by the registry's kinds), nothing else.
 */
const SAMPLE_BODIES: Readonly<Record<PolicyKindDeclaration['kind'], (root: string) => Record<string, unknown>>> = {
  windowsInformationProtectionPolicy: () => minimalMamPolicy(),
  mdmWindowsInformationProtectionPolicy: () => mdmPolicy(),
  windows10CustomConfiguration: () => customConfiguration(),
  windows81TrustedRootCertificate: (root) => ({
    '@odata.type': '#microsoft.graph.windows81TrustedRootCertificate',
    displayName: 'Contoso Root',
    trustedRootCertificate: root,
    certFileName: 'contoso-root.cer',
    destinationStore: 'computerCertStoreRoot',
  }),
  windowsPfxCertificate: () => ({ '@odata.type': '#microsoft.graph.windows10ImportedPFXCertificateProfile', displayName: 'Client PFX', pfxCertificate: PFX_BASE64, password: PFX_PASSWORD }),
  windowsScepCertificate: () => scepProfile(),
  windowsManagedAppProtection: () => ({ '@odata.type': '#microsoft.graph.windowsManagedAppProtection', displayName: 'Protection' }),
  targetedManagedAppConfiguration: () => ({ '@odata.type': '#microsoft.graph.targetedManagedAppConfiguration', displayName: 'Configuration' }),
  windows10CompliancePolicy: () => ({
    '@odata.type': '#microsoft.graph.windows10CompliancePolicy',
    displayName: 'Compliance',
    osMinimumVersion: '10.0.19045.0',
    scheduledActionsForRule: [{ ruleName: 'PasswordRequired', scheduledActionConfigurations: [{ actionType: 'block', gracePeriodHours: 0 }] }],
  }),
};

/** What every policy answer carries besides its kind's properties, and OpenMAM's annotations. */
const ENTITY_KEYS = new Set(['@odata.context', '@odata.type', '@odata.etag', 'id', 'createdDateTime', 'lastModifiedDateTime', 'version', 'isAssigned', 'roleScopeTagIds', 'deployedAppCount']);
const isAnnotation = (key: string): boolean => key.startsWith('@openmam.');

export function policyRegistryEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`policy kinds from the registry (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let admin: string;
    let root: string;
    let groupId: string;
    before(async () => {
      server = await startTestServer(backend);
      admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
      root = (await testCertificates()).root;
      const group = await call('POST', '/graph/beta/groups', { displayName: `registry-${randomUUID().slice(0, 8)}` });
      assert.equal(group.status, 201, JSON.stringify(group.body));
      groupId = String(group.body['id']);
    });
    after(async () => server?.close());

    const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<JsonResponse> => server.json(method, path, admin, body, headers);
    const message = (response: JsonResponse): string => String((response.body['error'] as { message?: unknown } | undefined)?.message ?? '');
    function assertRefused(response: JsonResponse, pattern: RegExp, what: string): void {
      assert.equal(response.status, 400, `${what}: ${JSON.stringify(response.body).slice(0, 300)}`);
      assert.match(message(response), pattern, what);
    }
    /** Only the kind's readable properties, the entity's own and OpenMAM's annotations; never a write-only one. */
    function assertOnlyReadable(declaration: PolicyKindDeclaration, entity: Record<string, unknown>): void {
      const readable = readableProperties(declaration);
      for (const key of Object.keys(entity)) assert.ok(readable.has(key) || ENTITY_KEYS.has(key) || isAnnotation(key), `${declaration.kind}: ${key} is not a readable property`);
      for (const secret of declaration.writeOnly ?? []) assert.equal(entity[secret], undefined, `${declaration.kind}: ${secret} is write-only`);
    }

    for (const version of ['beta', 'v1.0'] as const satisfies readonly GraphVersion[]) {
      for (const collection of policyCollections(version)) {
        const url = `/graph/${version}/${collection.path}`;
        for (const declaration of kindsOf(collection)) {
          it(`${version} ${collection.path}: ${declaration.odataType.slice('#microsoft.graph.'.length)} through every route of its declaration`, async () => {
            const sample = SAMPLE_BODIES[declaration.kind](root);
            const created = await call('POST', url, sample);
            assert.equal(created.status, 201, JSON.stringify(created.body).slice(0, 400));
            const id = String(created.body['id']);
            assert.equal(created.headers['location'], `https://127.0.0.1/graph/${version}/${collection.path}/${id}`);
            assert.equal(created.body['@odata.context'], `https://127.0.0.1/graph/${version}/$metadata#${collection.path}/$entity`);
            assert.equal(created.body['@odata.type'], declaration.odataType);
            assert.equal(created.body['version'], collection.versionType === 'Int32' ? 1 : '1', "Graph's type of version");
            assertOnlyReadable(declaration, created.body);

            const read = await call('GET', `${url}/${id}`);
            assert.equal(read.status, 200);
            assert.deepEqual(read.body, created.body, 'read back as created');
            const name = String(sample['displayName']);
            const listed = await call('GET', `${url}?$filter=${encodeURIComponent(`displayName eq '${name}'`)}&$top=1000`);
            assert.equal(listed.status, 200, JSON.stringify(listed.body));
            const entry = (listed.body['value'] as Record<string, unknown>[]).find((p) => p['id'] === id);
            assert.ok(entry, 'listed under its name');
            assertOnlyReadable(declaration, entry);

            // PATCH: the change laid over the stored policy, validated whole; the rest kept, the version counted up.
            const patched = await call('PATCH', `${url}/${id}`, { description: 'patched' });
            assert.equal(patched.status, 200, JSON.stringify(patched.body).slice(0, 400));
            assert.equal(patched.body['description'], 'patched');
            assert.equal(patched.body['displayName'], name);
            assert.equal(String(patched.body['version']), '2');
            const other = POLICY_TYPES.find((type) => type !== declaration.odataType)!;
            assertRefused(await call('PATCH', `${url}/${id}`, { '@odata.type': other }), /@odata\.type/, 'a policy keeps its kind');
            assertRefused(await call('PATCH', `${url}/${id}`, { assignments: [{ target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } }] }), /^assignments: is a navigation property: set them with \{id\}\/assign/, 'assignments in a body');
            assert.equal(String((await call('GET', `${url}/${id}`)).body['version']), '2', 'nothing written by a refusal');
            // A body read with $expand=assignments before it had any is taken back as it was read.
            const copied = await call('POST', url, { ...sample, displayName: `${name} copy`, assignments: [] });
            assert.equal(copied.status, 201, JSON.stringify(copied.body).slice(0, 400));

            // assign: the collection's assignment type, and Graph's answer for it.
            const target = { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId };
            const assignmentType = `#microsoft.graph.${collection.assignment.entityType}`;
            const assigned = await call('POST', `${url}/${id}/assign`, { assignments: [{ '@odata.type': assignmentType, target }] });
            if (collection.assignment.answer === 'noContent') assert.equal(assigned.status, 204, JSON.stringify(assigned.body));
            else {
              assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
              assert.deepEqual((assigned.body['value'] as Record<string, unknown>[]).map((a) => a['target']), [target]);
            }
            const otherAssignment = collection.assignment.entityType === 'deviceConfigurationAssignment' ? 'targetedManagedAppPolicyAssignment' : 'deviceConfigurationAssignment';
            assertRefused(await call('POST', `${url}/${id}/assign`, { assignments: [{ '@odata.type': `#microsoft.graph.${otherAssignment}`, target }] }), /^assignments\[0\]\.@odata\.type/, "another collection's assignment type");
            const assignments = await call('GET', `${url}/${id}/assignments`);
            assert.deepEqual((assignments.body['value'] as Record<string, unknown>[]).map((a) => [a['@odata.type'], a['target']]), [[assignmentType, target]]);
            assert.equal((await call('GET', `${url}/${id}`)).body['isAssigned'], true);

            // Another collection's policy is not found here, as another tenant's is not.
            const elsewhere = policyCollections(version).find((c) => c !== collection)!;
            assert.equal((await call('GET', `/graph/${version}/${elsewhere.path}/${id}`)).status, 404);

            for (const policyId of [id, String(copied.body['id'])]) assert.equal((await call('DELETE', `${url}/${policyId}`)).status, 204);
            assert.equal((await call('GET', `${url}/${id}`)).status, 404);
          });
        }
      }
    }

    for (const version of ['beta', 'v1.0'] as const) {
      it(`${version}: serves managedAppPolicies, every managed app policy of both stores in one paged collection, each as its own type`, async () => {
        const tag = randomUUID().slice(0, 8);
        const root_ = `/graph/${version}`;
        const made: { path: string; type: string; id: string }[] = [];
        const kinds = [
          ['deviceAppManagement/windowsInformationProtectionPolicies', SAMPLE_BODIES.windowsInformationProtectionPolicy(root)],
          ['deviceAppManagement/targetedManagedAppConfigurations', SAMPLE_BODIES.targetedManagedAppConfiguration(root)],
          ['deviceAppManagement/mdmWindowsInformationProtectionPolicies', SAMPLE_BODIES.mdmWindowsInformationProtectionPolicy(root)],
          ...(version === 'beta' ? [['deviceAppManagement/windowsManagedAppProtections', SAMPLE_BODIES.windowsManagedAppProtection(root)] as const] : []),
        ] as const;
        for (const [path, body] of kinds) {
          const created = await call('POST', `${root_}/${path}`, { ...body, displayName: `union ${tag} ${made.length}` });
          assert.equal(created.status, 201, JSON.stringify(created.body).slice(0, 300));
          made.push({ path, type: String(created.body['@odata.type']), id: String(created.body['id']) });
        }
        const configuration = await call('POST', `${root_}/deviceManagement/deviceConfigurations`, { ...customConfiguration(), displayName: `union ${tag} not an app policy` });
        assert.equal(configuration.status, 201);

        // One page at a time, across both stores, in creation order.
        const seen: Record<string, unknown>[] = [];
        let next: string | undefined = `${root_}/deviceAppManagement/managedAppPolicies?$filter=${encodeURIComponent(`startswith(displayName,'union ${tag}')`)}&$top=1`;
        while (next !== undefined) {
          const page = await call('GET', next);
          assert.equal(page.status, 200, JSON.stringify(page.body).slice(0, 300));
          seen.push(...(page.body['value'] as Record<string, unknown>[]));
          const link = page.body['@odata.nextLink'];
          next = typeof link === 'string' ? link.slice(link.indexOf('/graph/')) : undefined;
        }
        assert.deepEqual(seen.map((p) => [p['id'], p['@odata.type']]), made.map((m) => [m.id, m.type]), 'every kind once, as its own type; no device configuration');

        const one = await call('GET', `${root_}/deviceAppManagement/managedAppPolicies/${made[1]!.id}`);
        assert.equal(one.status, 200);
        assert.equal(one.body['@odata.type'], '#microsoft.graph.targetedManagedAppConfiguration');
        assert.equal((await call('GET', `${root_}/deviceAppManagement/managedAppPolicies/${String(configuration.body['id'])}`)).status, 404, 'a device configuration is no managed app policy');
        // A change through the union follows the policy's own rules, and shows in its own collection.
        const patched = await call('PATCH', `${root_}/deviceAppManagement/managedAppPolicies/${made[0]!.id}`, { description: 'via the union' });
        assert.equal(patched.status, 200, JSON.stringify(patched.body).slice(0, 300));
        assert.equal((await call('GET', `${root_}/${made[0]!.path}/${made[0]!.id}`)).body['description'], 'via the union');
        assertRefused(await call('PATCH', `${root_}/deviceAppManagement/managedAppPolicies/${made[0]!.id}`, { enforcementLevel: 'sometimes' }), /^enforcementLevel: /, "the kind's validator");
        for (const m of made) assert.equal((await call('DELETE', `${root_}/deviceAppManagement/managedAppPolicies/${m.id}`)).status, 204);
        assert.equal((await call('GET', `${root_}/${made[0]!.path}/${made[0]!.id}`)).status, 404);
        assert.equal((await call('DELETE', `${root_}/deviceManagement/deviceConfigurations/${String(configuration.body['id'])}`)).status, 204);
      });
    }

    it('keeps the secrets of a kind write-only: stored for delivery, never read back, in any answer', async () => {
      const url = '/graph/beta/deviceManagement/deviceConfigurations';
      const pfx = await call('POST', url, SAMPLE_BODIES.windowsPfxCertificate(root));
      const scep = await call('POST', url, SAMPLE_BODIES.windowsScepCertificate(root));
      for (const response of [pfx, scep, await call('GET', `${url}?$top=1000`)]) {
        const text = JSON.stringify(response.body);
        assert.ok(!text.includes(PFX_PASSWORD) && !text.includes(SCEP_CHALLENGE), 'no secret in any answer');
      }
      assert.equal((await call('GET', `${url}/${String(pfx.body['id'])}?$select=password`)).status, 400, 'nor selectable');
    });

    it("refuses deviceConfigurationAssignment's intent remove, and intent on a managed app policy's assignment", async () => {
      const target = { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' };
      const configuration = await call('POST', '/graph/beta/deviceManagement/deviceConfigurations', customConfiguration());
      const protection = await call('POST', '/graph/beta/deviceAppManagement/windowsManagedAppProtections', SAMPLE_BODIES.windowsManagedAppProtection(root));
      const configurationUrl = `/graph/beta/deviceManagement/deviceConfigurations/${String(configuration.body['id'])}/assign`;
      assertRefused(await call('POST', configurationUrl, { assignments: [{ intent: 'remove', target }] }), /^assignments\[0\]\.intent: /, 'intent remove');
      assert.equal((await call('POST', configurationUrl, { assignments: [{ intent: 'apply', target }] })).status, 200);
      assertRefused(await call('POST', `/graph/beta/deviceAppManagement/windowsManagedAppProtections/${String(protection.body['id'])}/assign`, { assignments: [{ intent: 'apply', target }] }), /^assignments\[0\]\.intent: is not a property of targetedManagedAppPolicyAssignment/, 'intent on an app policy');
    });
  });
}

/** Every kind's `@odata.type`, for the refusal of a PATCH that would change a policy's kind. */
const POLICY_TYPES = [...new Set(policyCollections('beta').flatMap((collection) => kindsOf(collection).map((k) => k.odataType)))];
