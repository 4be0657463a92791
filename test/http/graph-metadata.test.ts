import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { attributeValue, childElement, childElements, parseXml, type XmlElement } from '../../src/protocol/xml/reader.ts';
import { freePort } from '../support/free-port.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

/**
 * `$metadata` of each version root: OData CSDL XML generated from the Graph tables and from the collections the
 * server serves. The entity container is checked against the routes (every collection it names answers 200), the
 * types against the tables' betaOnly marks.
 */
const EDMX = 'http://docs.oasis-open.org/odata/ns/edmx';
const EDM = 'http://docs.oasis-open.org/odata/ns/edm';
const VERSIONS = ['beta', 'v1.0'] as const;

interface Metadata {
  schema: XmlElement;
  /** Every collection path the container reaches: entity sets and singletons' containment navigations. */
  collections: string[];
}

function named(schema: XmlElement, kind: string, name: string): XmlElement | undefined {
  return childElements(schema, EDM, kind).find((element) => attributeValue(element, 'Name') === name);
}

function structured(schema: XmlElement, name: string): XmlElement | undefined {
  return named(schema, 'EntityType', name) ?? named(schema, 'ComplexType', name);
}

/** A type's properties and navigation properties by name, its bases' included. */
function propertiesOf(schema: XmlElement, name: string): Map<string, XmlElement> {
  const properties = new Map<string, XmlElement>();
  for (let type = structured(schema, name); type !== undefined; type = structured(schema, (attributeValue(type, 'BaseType') ?? '').replace(/^graph\./, ''))) {
    for (const element of type.children) if (element.local === 'Property' || element.local === 'NavigationProperty') properties.set(attributeValue(element, 'Name')!, element);
  }
  return properties;
}

function readMetadata(text: string): Metadata {
  // The hardened reader with its default limits: the document stays within what OpenMAM itself would read.
  const root = parseXml(text);
  assert.equal(root.ns, EDMX);
  assert.equal(root.local, 'Edmx');
  assert.equal(attributeValue(root, 'Version'), '4.0');
  const schema = childElement(childElement(root, EDMX, 'DataServices')!, EDM, 'Schema')!;
  assert.equal(attributeValue(schema, 'Namespace'), 'microsoft.graph');
  assert.equal(attributeValue(schema, 'Alias'), 'graph');
  const container = childElement(schema, EDM, 'EntityContainer')!;
  const collections = childElements(container, EDM, 'EntitySet').map((set) => attributeValue(set, 'Name')!);
  const contained = (path: string, typeName: string): void => {
    for (const navigation of propertiesOf(schema, typeName).values()) {
      if (navigation.local !== 'NavigationProperty' || attributeValue(navigation, 'ContainsTarget') !== 'true') continue;
      const type = attributeValue(navigation, 'Type')!;
      const many = /^Collection\(graph\.(.+)\)$/.exec(type);
      const next = `${path}/${attributeValue(navigation, 'Name')!}`;
      if (many) collections.push(next);
      else contained(next, type.replace(/^graph\./, ''));
    }
  };
  for (const singleton of childElements(container, EDM, 'Singleton')) contained(attributeValue(singleton, 'Name')!, attributeValue(singleton, 'Type')!.replace(/^graph\./, ''));
  return { schema, collections: collections.sort() };
}

describe('admin API: $metadata', () => {
  let server: TestServer;
  let admin: string;
  const metadata = new Map<string, Metadata>();

  before(async () => {
    const port = await freePort();
    server = await startTestServer('sqlite', { OPENMAM_PORT: String(port), OPENMAM_PUBLIC_URL: `https://127.0.0.1:${port}` });
    admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
    for (const version of VERSIONS) {
      // No token: the document describes the schema, no tenant data (Graph serves it anonymously too).
      const response = await server.request(`/graph/${version}/$metadata`);
      assert.equal(response.status, 200, response.body);
      assert.match(String(response.headers['content-type']), /^application\/xml/);
      metadata.set(version, readMetadata(response.body));
    }
  });
  after(async () => {
    await server?.close();
  });

  it('declares exactly the collections served: each answers 200 to an admin', async () => {
    for (const version of VERSIONS) {
      const { collections } = metadata.get(version)!;
      assert.ok(collections.includes('groups') && collections.includes('users'), collections.join());
      assert.ok(collections.includes('deviceAppManagement/windowsInformationProtectionPolicies'));
      assert.ok(collections.includes('deviceManagement/deviceConfigurations'));
      assert.ok(collections.includes('identity/conditionalAccess/policies'));
      for (const path of collections) {
        const response = await server.json('GET', `/graph/${version}/${path}`, admin);
        assert.equal(response.status, 200, `${version}/${path}: ${JSON.stringify(response.body)}`);
      }
    }
    // windowsManagedAppProtections are served in beta only, as in Graph.
    assert.ok(metadata.get('beta')!.collections.includes('deviceAppManagement/windowsManagedAppProtections'));
    assert.ok(!metadata.get('v1.0')!.collections.includes('deviceAppManagement/windowsManagedAppProtections'));
  });

  it("makes the answers' @odata.context resolvable", async () => {
    const response = await server.json('GET', '/graph/v1.0/deviceManagement/deviceConfigurations', admin);
    const context = String(response.body['@odata.context']);
    assert.equal(context, `${server.config.publicUrl}/graph/v1.0/$metadata#deviceManagement/deviceConfigurations`);
    const document = await server.request(new URL(context).pathname);
    assert.equal(document.status, 200);
  });

  it('declares the bound actions and functions served, each on a declared type, and each answers on its route', async () => {
    for (const version of VERSIONS) {
      const { schema } = metadata.get(version)!;
      const operations = [...childElements(schema, EDM, 'Action'), ...childElements(schema, EDM, 'Function')].map((element) => {
        const parameters = childElements(element, EDM, 'Parameter').map((p) => [attributeValue(p, 'Name')!, attributeValue(p, 'Type')!] as const);
        const returns = childElement(element, EDM, 'ReturnType');
        return { kind: element.local, name: attributeValue(element, 'Name')!, bound: attributeValue(element, 'IsBound'), parameters, returns: returns === undefined ? undefined : attributeValue(returns, 'Type') };
      });
      const find = (name: string, binding: string) => operations.find((o) => o.name === name && o.parameters[0]?.[1] === `graph.${binding}`);
      assert.deepEqual(find('assign', 'deviceConfiguration'), {
        kind: 'Action', name: 'assign', bound: 'true',
        parameters: [['bindingParameter', 'graph.deviceConfiguration'], ['assignments', 'Collection(graph.deviceConfigurationAssignment)']],
        returns: 'Collection(graph.deviceConfigurationAssignment)',
      }, `${version}: deviceConfiguration's assign answers its assignments`);
      assert.equal(find('assign', 'windowsInformationProtectionPolicy')?.returns, undefined, `${version}: managedAppPolicy's assign answers nothing`);
      assert.deepEqual(find('targetApps', 'targetedManagedAppConfiguration')?.parameters.map(([name]) => name), ['bindingParameter', 'apps', 'appGroupType']);
      assert.equal(find('isManagedAppUserBlocked', 'user')?.kind, 'Function');
      assert.equal(find('isManagedAppUserBlocked', 'user')?.returns, 'Edm.Boolean');
      assert.equal(find('targetApps', 'windowsManagedAppProtection') !== undefined, version === 'beta', 'windowsManagedAppProtection is beta only');
      // Bound to a collection, not one entity: the audit trail's functions (in both versions, as its collection).
      const onCollection = operations.filter((o) => o.parameters[0]?.[1] === 'Collection(graph.auditEvent)');
      assert.deepEqual(onCollection.map((o) => `${o.kind} ${o.name}`).sort(), ['Function getAuditActivityTypes', 'Function getAuditCategories'], `${version}: functions bound to auditEvents`);
      for (const operation of operations) {
        assert.equal(operation.bound, 'true');
        for (const [, type] of [...operation.parameters, ...(operation.returns ? [['', operation.returns] as const] : [])]) {
          const name = /^(?:Collection\()?(?:graph|Edm)\.([A-Za-z0-9_]+)\)?$/.exec(type)?.[1];
          assert.ok(name !== undefined && (type.includes('Edm.') || structured(schema, name) !== undefined || named(schema, 'EnumType', name) !== undefined), `${version}: ${operation.name} refers to ${type}, which is declared`);
        }
      }
    }
    // An action declared is an action served: an unknown policy is the route's 404 (not 405 or an unknown segment),
    // and a user action on a user OpenMAM has not seen is done (nothing to wipe or unblock): 204.
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const [path, body, status] of [
      [`deviceManagement/deviceConfigurations/${missing}/assign`, { assignments: [] }, 404],
      [`deviceAppManagement/targetedManagedAppConfigurations/${missing}/targetApps`, { apps: [] }, 404],
      [`users/${missing}/unblockManagedApps`, undefined, 204],
    ] as const) {
      const response = await server.json('POST', `/graph/v1.0/${path}`, admin, body);
      assert.equal(response.status, status, `${path}: ${JSON.stringify(response.body)}`);
      if (status === 404) assert.equal((response.body['error'] as { code?: unknown }).code, 'ResourceNotFound', path);
    }
    // A function bound to a collection answers on the collection's path (graph-url.ts rewrites `name(...)`).
    for (const path of VERSIONS.flatMap((version) => [`${version}/deviceManagement/auditEvents/getAuditCategories()`, `${version}/deviceManagement/auditEvents/getAuditActivityTypes(category='Device')`])) {
      const response = await server.json('GET', `/graph/${path}`, admin);
      assert.equal(response.status, 200, `${path}: ${JSON.stringify(response.body)}`);
      assert.ok(Array.isArray(response.body['value']), path);
    }
  });

  it('declares the types with their properties, keys and bases', () => {
    for (const version of VERSIONS) {
      const { schema } = metadata.get(version)!;
      const wip = propertiesOf(schema, 'windowsInformationProtectionPolicy');
      assert.equal(attributeValue(wip.get('protectionUnderLockConfigRequired')!, 'Type'), 'Edm.Boolean');
      assert.equal(attributeValue(wip.get('protectionUnderLockConfigRequired')!, 'Nullable'), 'false');
      assert.equal(attributeValue(wip.get('enforcementLevel')!, 'Type'), 'graph.windowsInformationProtectionEnforcementLevel');
      assert.equal(attributeValue(wip.get('enterpriseIPRanges')!, 'Type'), 'Collection(graph.windowsInformationProtectionIPRangeCollection)');
      assert.equal(wip.get('assignments')!.local, 'NavigationProperty');
      assert.equal(attributeValue(named(schema, 'EntityType', 'deviceConfiguration')!, 'Abstract'), 'true');
      assert.equal(attributeValue(named(schema, 'EntityType', 'group')!, 'BaseType'), 'graph.directoryObject');
      assert.ok(named(schema, 'ComplexType', 'omaSetting') !== undefined);
      // Keys: entity's id, inherited; and conditionalAccessPolicy's own, below the keyless policyDeletableItem.
      for (const keyed of ['entity', 'conditionalAccessPolicy']) {
        const key = childElement(named(schema, 'EntityType', keyed)!, EDM, 'Key')!;
        assert.equal(attributeValue(childElement(key, EDM, 'PropertyRef')!, 'Name'), 'id');
      }
      // A served type the tables do not describe is declared open.
      assert.equal(attributeValue(named(schema, 'EntityType', 'user')!, 'OpenType'), 'true');
      // Every type a declaration names is declared: nothing refers to a type left out.
      const declaredNames = new Set(schema.children.map((element) => attributeValue(element, 'Name')));
      for (const type of schema.children) {
        for (const element of [...type.children, ...(attributeValue(type, 'BaseType') === undefined ? [] : [type])]) {
          const reference = (attributeValue(element, 'Type') ?? attributeValue(element, 'BaseType') ?? attributeValue(element, 'EntityType'))?.replace(/^Collection\((.+)\)$/, '$1');
          if (reference === undefined || reference.startsWith('Edm.')) continue;
          assert.ok(declaredNames.has(reference.replace(/^graph\./, '')), `${version}: ${attributeValue(type, 'Name')} refers to ${reference}`);
        }
      }
    }
  });

  it('leaves out of v1.0 what is beta only', () => {
    const beta = metadata.get('beta')!.schema;
    const v1 = metadata.get('v1.0')!.schema;
    // deviceConfiguration.roleScopeTagIds and the applicability rules (types of their own) are beta only.
    assert.ok(propertiesOf(beta, 'deviceConfiguration').has('roleScopeTagIds'));
    assert.ok(!propertiesOf(v1, 'deviceConfiguration').has('roleScopeTagIds'));
    assert.ok(propertiesOf(beta, 'deviceConfiguration').has('deviceManagementApplicabilityRuleOsEdition'));
    assert.ok(!propertiesOf(v1, 'deviceConfiguration').has('deviceManagementApplicabilityRuleOsEdition'));
    assert.ok(structured(beta, 'deviceManagementApplicabilityRuleOsEdition') !== undefined);
    assert.equal(structured(v1, 'deviceManagementApplicabilityRuleOsEdition'), undefined);
    // Both keep what v1.0 has.
    assert.ok(propertiesOf(v1, 'deviceConfiguration').has('displayName'));
  });

  it('declares enum members in order, and flags', () => {
    for (const version of VERSIONS) {
      const level = named(metadata.get(version)!.schema, 'EnumType', 'windowsInformationProtectionEnforcementLevel')!;
      assert.equal(attributeValue(level, 'IsFlags'), undefined);
      assert.deepEqual(
        childElements(level, EDM, 'Member').map((member) => [attributeValue(member, 'Name'), attributeValue(member, 'Value')]),
        [['noProtection', '0'], ['encryptAndAuditOnly', '1'], ['encryptAuditAndPrompt', '2'], ['encryptAuditAndBlock', '3']],
      );
    }
    // keyUsages is used only by the beta-only keyUsage of the SCEP profile.
    const keyUsages = named(metadata.get('beta')!.schema, 'EnumType', 'keyUsages')!;
    assert.equal(attributeValue(keyUsages, 'IsFlags'), 'true');
    assert.deepEqual(childElements(keyUsages, EDM, 'Member').map((member) => attributeValue(member, 'Value')), ['1', '2']);
    assert.equal(named(metadata.get('v1.0')!.schema, 'EnumType', 'keyUsages'), undefined);
  });

  it('is published in GET /openapi.json with the Graph routes, $metadata without a token', async () => {
    const response = await server.request('/openapi.json');
    assert.equal(response.status, 200);
    const document = JSON.parse(response.body) as { security: unknown; paths: Record<string, Record<string, { security?: unknown; requestBody?: unknown } | undefined>> };
    for (const version of VERSIONS) {
      assert.ok(document.paths[`/graph/${version}/groups`]?.['get'], `GET /graph/${version}/groups`);
      assert.ok(document.paths[`/graph/${version}/groups`]?.['post']?.requestBody, `POST /graph/${version}/groups with its body schema`);
      assert.ok(document.paths[`/graph/${version}/groups/{id}`]?.['delete'], `DELETE /graph/${version}/groups/{id}`);
      assert.deepEqual(document.paths[`/graph/${version}/$metadata`]?.['get']?.security, []);
      // Every collection $metadata declares is a published GET.
      for (const path of metadata.get(version)!.collections) assert.ok(document.paths[`/graph/${version}/${path}`]?.['get'], `GET /graph/${version}/${path}`);
    }
    assert.deepEqual(document.security, [{ bearer: [] }]);
    assert.equal(document.paths['/graph/v1.0/deviceAppManagement/windowsManagedAppProtections'], undefined, 'beta only');
  });

  it('answers the same document to a second request, and refuses query options it does not take', async () => {
    const again = await server.request('/graph/beta/$metadata');
    assert.equal(readMetadata(again.body).collections.join(), metadata.get('beta')!.collections.join());
    const refused = await server.request('/graph/beta/$metadata?$top=1');
    assert.equal(refused.status, 400);
  });
});
