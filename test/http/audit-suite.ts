import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AuditTrail, operatorContext } from '../../src/core/audit/audit-trail.ts';
import { purgeAuditEvents } from '../../src/core/audit/retention.ts';
import { stableObjectId } from '../../src/identity/dev-idp.ts';
import { attributeValue, childElement, childElements, parseXml } from '../../src/protocol/xml/reader.ts';
import type { AuditEventRecord } from '../../src/store/audit-records.ts';
import type { GroupRecord } from '../../src/store/records.ts';
import { PFX_BASE64, PFX_PASSWORD, scepProfile, SCEP_CHALLENGE } from '../policy/certificate-fixtures.ts';
import { DeviceSimulator } from '../support/device-simulator.ts';
import { graphClient, trustTestCa } from '../support/graph-client.ts';
import { startTestServer, type Backend, type TestServer } from '../support/server.ts';

/**
 * The audit trail end to end (docs/graph.md "Audit events"): an admin's day read back as Graph's auditEvents
 * (actor, correlation id, old and new values, secrets masked), refused writes recorded as failures, who may read it,
 * tenants kept apart, retention, no write route, the same trail in v1.0 with v1.0's properties, and the store's
 * promise that an event commits with its change or not at all. Run per store backend.
 */
const EVENTS = '/graph/beta/deviceManagement/auditEvents';
const V1_EVENTS = '/graph/v1.0/deviceManagement/auditEvents';
/**
 * v1.0's declarations (github.com/microsoftgraph/msgraph-metadata schemas/v1.0-Prod.csdl): auditEvent as in beta;
 * auditActor without beta's type, userRoleScopeTags, remoteTenantId, remoteUserId; auditResource without its type.
 */
const V1_EVENT = ['activity', 'activityDateTime', 'activityOperationType', 'activityResult', 'activityType', 'actor', 'category', 'componentName', 'correlationId', 'displayName', 'id', 'resources'];
const V1_ACTOR = ['applicationDisplayName', 'applicationId', 'auditActorType', 'ipAddress', 'servicePrincipalName', 'userId', 'userPermissions', 'userPrincipalName'];
const V1_RESOURCE = ['auditResourceType', 'displayName', 'modifiedProperties', 'resourceId'];
const V1_PROPERTY = ['displayName', 'newValue', 'oldValue'];
const CONFIGURATIONS = '/graph/beta/deviceManagement/deviceConfigurations';
const GROUPS = '/graph/v1.0/groups';
const SETTINGS = '/graph/beta/deviceManagement/openMamTenantSettings';
const DAY_MS = 24 * 60 * 60 * 1000;
const EDMX = 'http://docs.oasis-open.org/odata/ns/edmx';
const EDM = 'http://docs.oasis-open.org/odata/ns/edm';

interface GraphResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown> & { value?: Record<string, unknown>[]; error?: { code: string; message: string } };
}
interface AuditProperty {
  displayName: string;
  oldValue: string;
  newValue: string;
}
interface AuditEvent {
  id: string;
  displayName: string;
  activity: string;
  activityType: string;
  activityOperationType: string;
  activityResult: string;
  activityDateTime: string;
  category: string;
  componentName: string;
  correlationId: string;
  actor: { type: string; userPrincipalName: string | null; userId: string | null; applicationId: string | null; ipAddress: string | null; userPermissions: string[] };
  resources: { resourceId: string; displayName: string | null; type: string; modifiedProperties: AuditProperty[] }[];
}

/** The suite's admin as Graph's auditActor names them: an IT pro, by UPN, object id, role and address. */
function assertAdminActor(event: AuditEvent, tenantId: string): void {
  assert.equal(event.actor.type, 'ItPro');
  assert.equal(event.actor.userPrincipalName, 'admin@contoso.example');
  assert.equal(event.actor.userId, stableObjectId(tenantId, 'admin@contoso.example'));
  assert.deepEqual(event.actor.userPermissions, ['OpenMAM.Admin']);
  assert.equal(event.actor.ipAddress, '127.0.0.1');
}

const customConfiguration = (displayName: string) => ({
  '@odata.type': '#microsoft.graph.windows10CustomConfiguration',
  displayName,
  omaSettings: [{ '@odata.type': '#microsoft.graph.omaSettingString', displayName: 'Sign-in page', omaUri: './Vendor/MSFT/Policy/Config/Authentication/PreferredAadTenantDomainName', value: 'contoso.com' }],
});

export function auditEndToEnd(backend: Backend, skip?: string): void {
  describe(`audit trail (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let admin: string;
    let reader: string;
    let user: string;
    let intruder: string;
    before(async () => {
      server = await startTestServer(backend);
      admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
      reader = await server.mint({ upn: 'reader@contoso.example', roles: ['OpenMAM.Reader'] });
      user = await server.mint({ upn: 'user@contoso.example' });
      const otherTenant = randomUUID();
      await server.runtime.app.tenants.onboard({ id: otherTenant, name: 'Fabrikam', identityProvider: 'builtin' });
      intruder = await server.mint({ upn: 'admin@fabrikam.example', tenantId: otherTenant, roles: ['OpenMAM.Admin'] });
    });
    after(async () => {
      await server?.close();
    });

    const call = async (method: string, path: string, body?: unknown, token = admin, headers: Record<string, string> = {}): Promise<GraphResponse> =>
      (await server.json(method, path, token, body, headers)) as GraphResponse;
    const requestId = (response: GraphResponse): string => String(response.headers['x-request-id']);
    /** The events of one request (its correlation id), through the collection's $filter. */
    async function eventsOf(correlationId: string, token = admin): Promise<AuditEvent[]> {
      const response = await call('GET', `${EVENTS}?$filter=${encodeURIComponent(`correlationId eq '${correlationId}'`)}`, undefined, token);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body.value as unknown as AuditEvent[];
    }
    /** A modified property of the event's resource, without its `@odata.type`. */
    const property = (event: AuditEvent, name: string): AuditProperty | undefined => {
      const found = event.resources[0]!.modifiedProperties.find((p) => p.displayName === name);
      return found === undefined ? undefined : { displayName: found.displayName, oldValue: found.oldValue, newValue: found.newValue };
    };

    it("records an admin's create and PATCH of a policy, with the actor, the request id and old and new values", async () => {
      const create = await call('POST', CONFIGURATIONS, customConfiguration('Audit: sign-in domain'));
      assert.equal(create.status, 201, JSON.stringify(create.body));
      const id = String(create.body['id']);
      const patch = await call('PATCH', `${CONFIGURATIONS}/${id}`, { displayName: 'Audit: sign-in domain (renamed)', description: 'now described' });
      assert.equal(patch.status, 200, JSON.stringify(patch.body));

      const [created] = await eventsOf(requestId(create));
      assert.ok(created, 'the create has its event');
      assert.equal(created.activityType, 'Create DeviceConfiguration');
      assert.equal(created.activity, 'Create DeviceConfiguration');
      assert.equal(created.activityOperationType, 'Create');
      assert.equal(created.activityResult, 'Success');
      assert.equal(created.category, 'DeviceConfiguration');
      assert.equal(created.correlationId, requestId(create));
      assertAdminActor(created, server.tenantId);
      assert.equal(created.resources[0]!.resourceId, id);
      assert.equal(created.resources[0]!.type, 'windows10CustomConfiguration');
      assert.deepEqual(property(created, 'displayName'), { displayName: 'displayName', oldValue: '', newValue: 'Audit: sign-in domain' });
      assert.equal(property(created, 'omaSettings[0].value')?.newValue, 'contoso.com');

      const [patched] = await eventsOf(requestId(patch));
      assert.ok(patched, 'the PATCH has its event');
      assert.equal(patched.activityType, 'Patch DeviceConfiguration');
      assert.equal(patched.activityOperationType, 'Patch');
      assert.deepEqual(property(patched, 'displayName'), { displayName: 'displayName', oldValue: 'Audit: sign-in domain', newValue: 'Audit: sign-in domain (renamed)' });
      assert.deepEqual(property(patched, 'description'), { displayName: 'description', oldValue: '', newValue: 'now described' });
      assert.equal(property(patched, 'omaSettings[0].value'), undefined, 'an unchanged property is not listed');

      // The same event by id, and among the admin's own, newest first.
      const one = await call('GET', `${EVENTS}/${patched.id}`);
      assert.equal(one.status, 200);
      assert.equal(one.body['activityType'], 'Patch DeviceConfiguration');
      const mine = await call('GET', `${EVENTS}?$filter=${encodeURIComponent("actor/userPrincipalName eq 'ADMIN@contoso.example' and activityType eq 'Patch DeviceConfiguration'")}&$count=true`);
      assert.equal(mine.status, 200, JSON.stringify(mine.body));
      assert.ok((mine.body.value ?? []).some((e) => e['id'] === patched.id), 'found by the actor UPN, ignoring case');
      const page = await call('GET', `${EVENTS}?$top=2`);
      const times = (page.body.value ?? []).map((e) => Date.parse(String(e['activityDateTime'])));
      assert.ok(times.length === 2 && times[0]! >= times[1]!, `newest first: ${JSON.stringify(times)}`);
    });

    it('records a delete with the old values, and an assign as an Action', async () => {
      const create = await call('POST', CONFIGURATIONS, customConfiguration('Audit: to delete'));
      const id = String(create.body['id']);
      const group = await call('POST', GROUPS, { displayName: 'Audit group' });
      const assign = await call('POST', `${CONFIGURATIONS}/${id}/assign`, { assignments: [{ target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: group.body['id'] } }] });
      assert.equal(assign.status, 200, JSON.stringify(assign.body));
      const [assigned] = await eventsOf(requestId(assign));
      assert.equal(assigned?.activityType, 'Assign DeviceConfiguration');
      assert.equal(assigned.activityOperationType, 'Action');
      assert.equal(property(assigned, 'assignments[0].target.groupId')?.newValue, group.body['id']);
      const remove = await call('DELETE', `${CONFIGURATIONS}/${id}`);
      assert.equal(remove.status, 204);
      const [deleted] = await eventsOf(requestId(remove));
      assert.equal(deleted?.activityType, 'Delete DeviceConfiguration');
      assert.deepEqual(property(deleted, 'displayName'), { displayName: 'displayName', oldValue: 'Audit: to delete', newValue: '' });
      const [groupCreated] = await eventsOf(requestId(group));
      assert.equal(groupCreated?.activityType, 'Create Group');
    });

    it("records an admin's retire of a managed device: the activity, an Action of the Device category, the admin, the device", async () => {
      const upn = `retired-${randomUUID().slice(0, 8)}@contoso.example`;
      const device = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ upn, deviceId: randomUUID() }) });
      try {
        await device.enroll();
        const enrollment = await server.runtime.app.store.getActiveEnrollmentByDevId(device.devId);
        assert.ok(enrollment, 'the device is enrolled');
        const since = new Date(Date.now() - 1000).toISOString();
        // Graph's retire, POSTed with no body as Graph's SDKs do.
        const retire = await call('POST', `/graph/beta/deviceManagement/managedDevices/${enrollment.id}/retire`);
        assert.equal(retire.status, 204, JSON.stringify(retire.body));

        const [event] = await eventsOf(requestId(retire));
        assert.ok(event, 'the retire has its event');
        assert.equal(event.activityType, 'Retire ManagedDevice');
        assert.equal(event.activity, 'Retire ManagedDevice');
        assert.equal(event.displayName, 'Retire ManagedDevice');
        assert.equal(event.activityOperationType, 'Action');
        assert.equal(event.activityResult, 'Success');
        assert.equal(event.category, 'Device');
        assert.equal(event.componentName, 'ManagedDevices');
        assert.equal(event.correlationId, requestId(retire));
        assertAdminActor(event, server.tenantId);
        assert.equal(event.resources.length, 1);
        assert.equal(event.resources[0]!.resourceId, enrollment.id, 'the managed device retired');
        assert.equal(event.resources[0]!.type, 'ManagedDevice');
        assert.deepEqual(event.resources[0]!.modifiedProperties, [], 'a retire changes no property an admin set');

        // Found as the console finds it: by category and date range, newest first.
        const filter = `category eq 'Device' and activityDateTime ge ${since} and activityDateTime le ${new Date(Date.now() + 1000).toISOString()}`;
        const listed = await call('GET', `${EVENTS}?$filter=${encodeURIComponent(filter)}&$orderby=${encodeURIComponent('activityDateTime desc')}&$top=25`);
        assert.equal(listed.status, 200, JSON.stringify(listed.body));
        assert.ok((listed.body.value ?? []).some((e) => e['id'] === event.id), 'listed under Device in the range');
        // The retire is pending: the device is told at its next session, and the managed device says so.
        const managed = await call('GET', `/graph/beta/deviceManagement/managedDevices/${enrollment.id}`);
        assert.equal(managed.body['managementState'], 'retirePending');
      } finally {
        device.close();
      }
    });

    it('records the other areas under their own names and categories', async () => {
      const cases: [string, unknown, string, string][] = [
        ['/graph/beta/deviceManagement/mobileThreatDefenseConnectors', {}, 'Create MobileThreatDefenseConnector', 'Other'],
        ['/graph/v1.0/servicePrincipals', { displayName: 'Audit SP', servicePrincipalNames: ['https://audit.contoso.example'] }, 'Create ServicePrincipal', 'Other'],
        ['/graph/beta/deviceManagement/assignmentFilters', { displayName: 'Audit filter', platform: 'windows10AndLater', rule: '(device.deviceName -startsWith "A")' }, 'Create DeviceAndAppManagementAssignmentFilter', 'DeviceConfiguration'],
        ['/graph/beta/deviceAppManagement/windowsManagedAppProtections', { displayName: 'Audit MAM' }, 'Create WindowsManagedAppProtection', 'Application'],
      ];
      for (const [path, body, activityType, category] of cases) {
        const response = await call('POST', path, body);
        assert.equal(response.status, 201, `${path}: ${JSON.stringify(response.body)}`);
        const [event] = await eventsOf(requestId(response));
        assert.equal(event?.activityType, activityType, path);
        assert.equal(event.category, category, path);
        assert.equal(event.resources[0]!.resourceId, response.body['id'], path);
      }
    });

    it('masks write-only secrets: a SCEP challenge and a PFX password never reach the trail', async () => {
      const scep = await call('POST', CONFIGURATIONS, scepProfile({ displayName: 'Audit: SCEP' }));
      assert.equal(scep.status, 201, JSON.stringify(scep.body));
      const [event] = await eventsOf(requestId(scep));
      assert.deepEqual(property(event!, 'challenge'), { displayName: 'challenge', oldValue: '', newValue: '********' });
      const changed = await call('PATCH', `${CONFIGURATIONS}/${String(scep.body['id'])}`, { challenge: 'c2Vjb25kLXNlY3JldA==' });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      const [patched] = await eventsOf(requestId(changed));
      assert.deepEqual(property(patched!, 'challenge'), { displayName: 'challenge', oldValue: '********', newValue: '********' }, 'a changed secret is seen, never its value');
      const pfx = await call('POST', CONFIGURATIONS, { '@odata.type': '#microsoft.graph.windows10ImportedPFXCertificateProfile', displayName: 'Audit: PFX', pfxCertificate: PFX_BASE64, password: PFX_PASSWORD });
      assert.equal(pfx.status, 201, JSON.stringify(pfx.body));
      const [imported] = await eventsOf(requestId(pfx));
      assert.equal(property(imported!, 'password')?.newValue, '********');
      assert.equal(property(imported!, 'pfxCertificate')?.newValue, '********', 'the PKCS#12 holds a private key');
      const text = JSON.stringify(await call('GET', `${EVENTS}?$top=1000`));
      for (const secret of [SCEP_CHALLENGE, 'c2Vjb25kLXNlY3JldA==', PFX_PASSWORD]) assert.ok(!text.includes(secret), `${secret} is nowhere in the trail`);
    });

    it("records refused writes as failures: a 400 validation and a Reader's 403, with who tried", async () => {
      const invalid = await call('POST', CONFIGURATIONS, { '@odata.type': '#microsoft.graph.windows10CustomConfiguration', displayName: '' });
      assert.equal(invalid.status, 400);
      const [refused] = await eventsOf(requestId(invalid));
      assert.ok(refused, 'the refused create is recorded');
      assert.equal(refused.activityType, 'Create DeviceConfiguration');
      assert.equal(refused.activityResult, 'Failure');
      assert.deepEqual(refused.resources[0]!.modifiedProperties, []);
      const forbidden = await call('POST', GROUPS, { displayName: 'not allowed' }, reader);
      assert.equal(forbidden.status, 403);
      const [denied] = await eventsOf(requestId(forbidden));
      assert.equal(denied?.activityType, 'Create Group');
      assert.equal(denied.activityResult, 'Failure');
      assert.equal(denied.actor.userPrincipalName, 'reader@contoso.example');
      // No proven identity: not recorded (the request log has it).
      const anonymous = await call('POST', GROUPS, { displayName: 'anonymous' }, 'not-a-token');
      assert.equal(anonymous.status, 401);
      assert.deepEqual(await eventsOf(requestId(anonymous)), []);
    });

    it('filters on the time, the result and the area, and refuses a field it does not know', async () => {
      const since = new Date(Date.now() - 1000).toISOString();
      const create = await call('POST', GROUPS, { displayName: 'Audit: filters' });
      const filter = (expression: string) => call('GET', `${EVENTS}?$filter=${encodeURIComponent(expression)}`);
      const recent = await filter(`activityDateTime ge ${since} and category eq 'Other' and activityResult eq 'Success' and componentName eq 'Groups'`);
      assert.equal(recent.status, 200, JSON.stringify(recent.body));
      assert.ok((recent.body.value ?? []).some((e) => e['correlationId'] === requestId(create)), 'the new group is among the recent ones');
      const older = await filter(`activityDateTime lt ${since} and activityOperationType eq 'Create'`);
      assert.ok(!(older.body.value ?? []).some((e) => e['correlationId'] === requestId(create)), 'and not among the older ones');
      assert.equal((await filter("activity eq 'x'")).status, 400, 'activity is not a filter field');
      assert.equal((await call('GET', `${EVENTS}?$orderby=category`)).status, 400, 'only the time orders a page');
    });

    it('is read by Admin and Reader only: a user token without the role is refused', async () => {
      assert.equal((await call('GET', EVENTS, undefined, reader)).status, 200);
      const refused = await call('GET', EVENTS, undefined, user);
      assert.equal(refused.status, 403);
      assert.equal((await call('GET', `${EVENTS}/${randomUUID()}`, undefined, user)).status, 403);
      assert.equal((await server.json('GET', EVENTS, undefined)).status, 401, 'no token');
    });

    it("keeps another tenant's events invisible", async () => {
      const create = await call('POST', GROUPS, { displayName: 'Contoso only' });
      const [event] = await eventsOf(requestId(create));
      assert.ok(event);
      assert.deepEqual(await eventsOf(requestId(create), intruder), []);
      assert.equal((await call('GET', `${EVENTS}/${event.id}`, undefined, intruder)).status, 404);
    });

    it('has no write route: POST, PATCH and DELETE are 405', async () => {
      const [any] = (await call('GET', `${EVENTS}?$top=1`)).body.value ?? [];
      assert.ok(any, 'an event exists');
      assert.equal((await call('POST', EVENTS, { activity: 'forged' })).status, 405);
      assert.equal((await call('PATCH', `${EVENTS}/${String(any['id'])}`, { activity: 'forged' })).status, 405);
      assert.equal((await call('DELETE', `${EVENTS}/${String(any['id'])}`)).status, 405);
      assert.equal((await call('GET', `${EVENTS}/${String(any['id'])}`)).status, 200, 'still there');
    });

    it('answers its categories and declares its types in $metadata', async () => {
      const categories = await call('GET', `${EVENTS}/getAuditCategories()`);
      assert.equal(categories.status, 200, JSON.stringify(categories.body));
      assert.ok((categories.body.value as unknown as string[]).includes('DeviceConfiguration'));
      const types = await call('GET', `${EVENTS}/getAuditActivityTypes(category='DeviceConfiguration')`);
      assert.equal(types.status, 200, JSON.stringify(types.body));
      const names = types.body.value as unknown as string[];
      for (const name of ['Create DeviceConfiguration', 'Patch DeviceConfiguration', 'Delete DeviceConfiguration', 'Assign DeviceConfiguration']) assert.ok(names.includes(name), name);
      assert.ok(!names.includes('Create Group'), 'only the category asked for');
      assert.deepEqual((await call('GET', `${EVENTS}/getAuditActivityTypes(category='Nothing')`)).body.value, []);
      const metadata = await server.request('/graph/beta/$metadata');
      for (const type of ['EntityType Name="auditEvent"', 'ComplexType Name="auditActor"', 'ComplexType Name="auditResource"', 'ComplexType Name="auditProperty"']) assert.ok(metadata.body.includes(type), type);
      assert.ok(metadata.body.includes('Name="auditEvents"'), 'the collection is declared');
      // Both functions, bound to the collection as Graph declares them ($metadata: bindingParameter
      // Collection(graph.auditEvent), getAuditActivityTypes' `category` Edm.String, Collection(Edm.String) answered).
      const schema = childElement(childElement(parseXml(metadata.body), EDMX, 'DataServices')!, EDM, 'Schema')!;
      const declared = (name: string) =>
        childElements(schema, EDM, 'Function')
          .filter((f) => attributeValue(f, 'Name') === name)
          .map((f) => ({
            bound: attributeValue(f, 'IsBound'),
            parameters: childElements(f, EDM, 'Parameter').map((p) => [attributeValue(p, 'Name'), attributeValue(p, 'Type')]),
            returns: attributeValue(childElement(f, EDM, 'ReturnType')!, 'Type'),
          }));
      assert.deepEqual(declared('getAuditCategories'), [{ bound: 'true', parameters: [['bindingParameter', 'Collection(graph.auditEvent)']], returns: 'Collection(Edm.String)' }]);
      assert.deepEqual(declared('getAuditActivityTypes'), [
        { bound: 'true', parameters: [['bindingParameter', 'Collection(graph.auditEvent)'], ['category', 'Edm.String']], returns: 'Collection(Edm.String)' },
      ]);
    });

    it('declares the collection, its types and both functions in v1.0 as Graph v1.0 does', async () => {
      const v1 = await server.request('/graph/v1.0/$metadata');
      assert.equal(v1.status, 200);
      const schema = childElement(childElement(parseXml(v1.body), EDMX, 'DataServices')!, EDM, 'Schema')!;
      const type = (kind: string, name: string) => childElements(schema, EDM, kind).find((t) => attributeValue(t, 'Name') === name);
      const properties = (kind: string, name: string) =>
        childElements(type(kind, name)!, EDM, 'Property')
          .map((p) => `${attributeValue(p, 'Name')!} ${attributeValue(p, 'Type')!}${attributeValue(p, 'Nullable') === 'false' ? ' not null' : ''}`)
          .sort();
      // deviceManagement's containment navigation, as v1.0-Prod.csdl declares it.
      const deviceManagement = type('EntityType', 'deviceManagement');
      assert.ok(deviceManagement, 'the deviceManagement singleton type is declared');
      const navigation = childElements(deviceManagement, EDM, 'NavigationProperty').find((n) => attributeValue(n, 'Name') === 'auditEvents');
      assert.deepEqual([attributeValue(navigation!, 'Type'), attributeValue(navigation!, 'ContainsTarget')], ['Collection(graph.auditEvent)', 'true']);
      assert.equal(attributeValue(type('EntityType', 'auditEvent')!, 'BaseType'), 'graph.entity');
      assert.deepEqual(properties('EntityType', 'auditEvent'), [
        'activity Edm.String', 'activityDateTime Edm.DateTimeOffset not null', 'activityOperationType Edm.String', 'activityResult Edm.String', 'activityType Edm.String',
        'actor graph.auditActor', 'category Edm.String', 'componentName Edm.String', 'correlationId Edm.Guid not null', 'displayName Edm.String', 'resources Collection(graph.auditResource)',
      ]);
      assert.deepEqual(properties('ComplexType', 'auditActor'), [
        'applicationDisplayName Edm.String', 'applicationId Edm.String', 'auditActorType Edm.String', 'ipAddress Edm.String', 'servicePrincipalName Edm.String', 'userId Edm.String',
        'userPermissions Collection(Edm.String)', 'userPrincipalName Edm.String',
      ]);
      assert.deepEqual(properties('ComplexType', 'auditResource'), ['auditResourceType Edm.String', 'displayName Edm.String', 'modifiedProperties Collection(graph.auditProperty)', 'resourceId Edm.String']);
      assert.deepEqual(properties('ComplexType', 'auditProperty'), ['displayName Edm.String', 'newValue Edm.String', 'oldValue Edm.String']);
      assert.equal(type('ComplexType', 'roleScopeTagInfo'), undefined, 'roleScopeTagInfo is beta only');
      const declared = (name: string) =>
        childElements(schema, EDM, 'Function')
          .filter((f) => attributeValue(f, 'Name') === name)
          .map((f) => ({
            bound: attributeValue(f, 'IsBound'),
            parameters: childElements(f, EDM, 'Parameter').map((p) => [attributeValue(p, 'Name'), attributeValue(p, 'Type')]),
            returns: attributeValue(childElement(f, EDM, 'ReturnType')!, 'Type'),
          }));
      assert.deepEqual(declared('getAuditCategories'), [{ bound: 'true', parameters: [['bindingParameter', 'Collection(graph.auditEvent)']], returns: 'Collection(Edm.String)' }]);
      assert.deepEqual(declared('getAuditActivityTypes'), [
        { bound: 'true', parameters: [['bindingParameter', 'Collection(graph.auditEvent)'], ['category', 'Edm.String']], returns: 'Collection(Edm.String)' },
      ]);
    });

    it("answers the same trail in v1.0 with v1.0's properties only, and its functions", async () => {
      const create = await call('POST', CONFIGURATIONS, customConfiguration('Audit: read in v1.0'));
      assert.equal(create.status, 201, JSON.stringify(create.body));
      const filter = `?$filter=${encodeURIComponent(`correlationId eq '${requestId(create)}'`)}`;
      const beta = await call('GET', `${EVENTS}${filter}`);
      const listed = await call('GET', `${V1_EVENTS}${filter}`);
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      assert.equal(listed.body['@odata.context'], `${server.config.publicUrl}/graph/v1.0/$metadata#deviceManagement/auditEvents`);
      const [event] = listed.body.value ?? [];
      assert.ok(event, 'the beta write is read in v1.0');
      const one = await call('GET', `${V1_EVENTS}/${String(event['id'])}`);
      assert.equal(one.status, 200, JSON.stringify(one.body));
      for (const answer of [event, one.body]) {
        const actor = answer['actor'] as Record<string, unknown>;
        const resources = answer['resources'] as Record<string, unknown>[];
        assert.deepEqual(Object.keys(answer).filter((k) => !k.startsWith('@')).sort(), V1_EVENT);
        assert.deepEqual(Object.keys(actor).sort(), ['@odata.type', ...V1_ACTOR].sort(), 'no type, userRoleScopeTags, remoteTenantId, remoteUserId');
        assert.equal(actor['@odata.type'], '#microsoft.graph.auditActor');
        assert.ok(resources.length > 0);
        for (const resource of resources) {
          assert.deepEqual(Object.keys(resource).sort(), ['@odata.type', ...V1_RESOURCE].sort(), 'no type');
          const modified = resource['modifiedProperties'] as Record<string, unknown>[];
          assert.ok(modified.length > 0);
          for (const property of modified) assert.deepEqual(Object.keys(property).sort(), ['@odata.type', ...V1_PROPERTY].sort());
        }
      }
      // The same values as beta's answer, less beta's own properties.
      const [betaEvent] = beta.body.value ?? [];
      const betaActor = betaEvent!['actor'] as Record<string, unknown>;
      assert.deepEqual([betaActor['type'], betaActor['userRoleScopeTags']], ['ItPro', []], 'beta keeps its properties');
      const only = (value: Record<string, unknown>, names: readonly string[]) => Object.fromEntries(Object.entries(value).filter(([name]) => name === '@odata.type' || names.includes(name)));
      assert.deepEqual(event['actor'], only(betaActor, V1_ACTOR));
      assert.equal((event['actor'] as Record<string, unknown>)['userPrincipalName'], 'admin@contoso.example');
      const betaResources = (betaEvent!['resources'] as Record<string, unknown>[]).map((resource) => only(resource, V1_RESOURCE));
      assert.deepEqual(event['resources'], betaResources);
      assert.deepEqual(one.body['resources'], betaResources);

      // $select names auditEvent's properties only: a beta-only actor property is refused (400), not ignored.
      for (const select of ['actor/type', 'actor/userRoleScopeTags', 'userRoleScopeTags']) {
        const refused = await call('GET', `${V1_EVENTS}?$select=${encodeURIComponent(select)}`);
        assert.equal(refused.status, 400, `${select}: ${JSON.stringify(refused.body)}`);
      }
      const selected = await call('GET', `${V1_EVENTS}/${String(event['id'])}?$select=actor,activityType`);
      assert.deepEqual(Object.keys(selected.body).filter((k) => !k.startsWith('@')).sort(), ['activityType', 'actor']);
      assert.deepEqual(Object.keys(selected.body['actor'] as object).sort(), ['@odata.type', ...V1_ACTOR].sort());

      // Both functions, on the same trail: v1.0 lists the activity types of beta-only write routes too (their events are here).
      const categories = await call('GET', `${V1_EVENTS}/getAuditCategories()`);
      assert.equal(categories.status, 200, JSON.stringify(categories.body));
      assert.deepEqual(categories.body.value, (await call('GET', `${EVENTS}/getAuditCategories()`)).body.value);
      const types = await call('GET', `${V1_EVENTS}/getAuditActivityTypes(category='DeviceConfiguration')`);
      assert.equal(types.status, 200, JSON.stringify(types.body));
      const names = types.body.value as unknown as string[];
      for (const name of ['Create DeviceConfiguration', 'Patch DeviceConfiguration', 'Create DeviceAndAppManagementAssignmentFilter']) assert.ok(names.includes(name), name);
      assert.deepEqual(names, (await call('GET', `${EVENTS}/getAuditActivityTypes(category='DeviceConfiguration')`)).body.value);
      // Append-only in v1.0 as in beta.
      assert.equal((await call('POST', V1_EVENTS, { activity: 'forged' })).status, 405);
      assert.equal((await call('GET', V1_EVENTS, undefined, user)).status, 403);
    });

    it("reads the v1.0 trail through Microsoft's Graph client, as admins' scripts do", async () => {
      const create = await call('POST', GROUPS, { displayName: 'Audit: Graph client' });
      assert.equal(create.status, 201, JSON.stringify(create.body));
      const untrust = trustTestCa(server.ca);
      try {
        const client = graphClient(server.url, reader, 'v1.0');
        const page = (await client.api('/deviceManagement/auditEvents').filter(`correlationId eq '${requestId(create)}'`).top(5).get()) as { value: Record<string, unknown>[] };
        assert.equal(page.value.length, 1);
        const [event] = page.value;
        assert.equal(event!['activityType'], 'Create Group');
        assert.deepEqual(Object.keys(event!['actor'] as object).sort(), ['@odata.type', ...V1_ACTOR].sort());
        const one = (await client.api(`/deviceManagement/auditEvents/${String(event!['id'])}`).get()) as Record<string, unknown>;
        assert.equal(one['correlationId'], requestId(create));
        assert.equal((one['resources'] as Record<string, unknown>[])[0]!['resourceId'], create.body['id']);
        const categories = (await client.api('/deviceManagement/auditEvents/getAuditCategories()').get()) as { value: string[] };
        assert.ok(categories.value.includes('Other'));
        const types = (await client.api("/deviceManagement/auditEvents/getAuditActivityTypes(category='Other')").get()) as { value: string[] };
        assert.ok(types.value.includes('Create Group'));
      } finally {
        untrust();
      }
    });

    it('writes no success event for a write that lost (a stale If-Match: 412), and one per landed change under a race', async () => {
      const create = await call('POST', CONFIGURATIONS, customConfiguration('Audit: races'));
      const id = String(create.body['id']);
      const stale = await call('PATCH', `${CONFIGURATIONS}/${id}`, { description: 'never' }, admin, { 'if-match': 'W/"999"' });
      assert.equal(stale.status, 412);
      const events = await eventsOf(requestId(stale));
      assert.deepEqual(events.map((e) => e.activityResult), ['Failure'], 'only the refusal');
      // Concurrent unconditioned PATCHes all land (retried on the fresh policy): one success event each, none for a lost attempt.
      const patches = await Promise.all(Array.from({ length: 6 }, (_, i) => call('PATCH', `${CONFIGURATIONS}/${id}`, { description: `race ${i}` })));
      for (const patch of patches) {
        assert.equal(patch.status, 200, JSON.stringify(patch.body));
        const recorded = await eventsOf(requestId(patch));
        assert.deepEqual(recorded.map((e) => e.activityResult), ['Success'], `one event for ${requestId(patch)}`);
      }
    });

    it('records tenant settings, and purges events past the tenant retention (30..3650 days)', async () => {
      assert.equal((await call('PATCH', SETTINGS, { auditEventRetentionDays: 10 })).status, 400);
      const set = await call('PATCH', SETTINGS, { auditEventRetentionDays: 30 });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.equal(set.body['auditEventRetentionDays'], 30);
      const [event] = await eventsOf(requestId(set));
      assert.deepEqual(property(event!, 'auditEventRetentionDays'), { displayName: 'auditEventRetentionDays', oldValue: '', newValue: '30' });
      const store = server.runtime.app.store;
      const tenants = await store.listTenants();
      const before = ((await call('GET', `${EVENTS}?$count=true&$top=1`)).body['@odata.count'] as number) ?? 0;
      assert.ok(before > 0);
      assert.equal(await purgeAuditEvents(store.audit, tenants, Date.now() + 29 * DAY_MS), 0, 'nothing is 30 days old yet');
      const purged = await purgeAuditEvents(store.audit, tenants, Date.now() + 31 * DAY_MS);
      assert.ok(purged >= before, `purged ${purged} of ${before}`);
      assert.deepEqual((await call('GET', EVENTS)).body.value, []);
    });

    describe('the store: an event commits with its change or not at all', () => {
      const trail = (): AuditTrail => new AuditTrail(server.runtime.app.store.audit);
      const group = (): GroupRecord => ({ tenantId: server.tenantId, id: randomUUID(), displayName: 'store test', description: null, mailNickname: null, createdAt: Date.now() });
      async function stored(correlationId: string): Promise<AuditEventRecord[]> {
        const page = await server.runtime.app.store.audit.queryAuditEvents(server.tenantId, { filter: { kind: 'compare', field: 'correlationId', operator: 'eq', value: correlationId }, orderBy: [], top: 10, skip: 0, count: false });
        return page.rows;
      }
      const change = (g: GroupRecord) => ({ activity: { area: 'groups' as const, entity: 'Group', verb: 'Create' }, resourceId: g.id, after: { displayName: g.displayName } });

      it('inserts the event in the write transaction', async () => {
        const context = operatorContext(server.tenantId, 'test');
        const g = group();
        await trail().attach(context, change(g), () => server.runtime.app.store.createGroup(g));
        const [event] = await stored(context.correlationId);
        assert.equal(event?.resources[0]?.resourceId, g.id);
        assert.equal(event.actor.type, 'Operator');
      });

      it('writes no event when the change fails (its transaction is rolled back)', async () => {
        const g = group();
        await server.runtime.app.store.createGroup(g);
        const context = operatorContext(server.tenantId, 'test');
        await assert.rejects(trail().attach(context, change(g), () => server.runtime.app.store.createGroup(g)), /already exists/);
        assert.deepEqual(await stored(context.correlationId), []);
      });

      it('writes no event when the store answers that nothing was written (not_found, false)', async () => {
        const context = operatorContext(server.tenantId, 'test');
        assert.equal(await trail().attach(context, change(group()), () => server.runtime.app.store.deleteGroup(server.tenantId, randomUUID())), false);
        assert.equal(await trail().attach(context, change(group()), () => server.runtime.app.store.updateGroup(server.tenantId, randomUUID(), { displayName: 'x' })), undefined);
        assert.deepEqual(await stored(context.correlationId), []);
      });

      it('refuses an event attached to a call that writes nothing (a programming error)', async () => {
        const context = operatorContext(server.tenantId, 'test');
        await assert.rejects(trail().attach(context, change(group()), () => server.runtime.app.store.getGroup(server.tenantId, randomUUID())), /wrote nothing through a write transaction/);
        assert.deepEqual(await stored(context.correlationId), []);
      });

      it('carries every event of concurrent changes under group commit, each with its own change', async () => {
        const contexts = Array.from({ length: 20 }, () => operatorContext(server.tenantId, 'test'));
        const groups = contexts.map(() => group());
        // One duplicate among them fails its batch: the others are run again alone, and their events with them.
        await server.runtime.app.store.createGroup(groups[7]!);
        const outcomes = await Promise.allSettled(contexts.map((context, i) => trail().attach(context, change(groups[i]!), () => server.runtime.app.store.createGroup(groups[i]!))));
        for (const [i, context] of contexts.entries()) {
          const events = await stored(context.correlationId);
          if (i === 7) {
            assert.equal(outcomes[i]!.status, 'rejected');
            assert.deepEqual(events, []);
          } else {
            assert.equal(outcomes[i]!.status, 'fulfilled');
            assert.deepEqual(events.map((e) => e.resources[0]!.resourceId), [groups[i]!.id], `one event for change ${i}`);
          }
        }
      });
    });
  });
}
