import { errorText, type HttpsTransport } from './https.ts';
import { CONTOSO_APPS, MICROSOFT_EDGE } from './simulated-app.ts';
import { EXCHANGE_ONLINE } from './services.ts';

/**
 * What a demo tenant needs for a simulated fleet to show something, made through the admin API (Graph) as an admin
 * would, and only what is missing (by display name or id), so a second run changes nothing:
 * - the Contoso line-of-business apps in the managed app catalogue (Microsoft Edge is built in);
 * - a threat defense connector (its reports count only once one is enabled);
 * - Exchange Online as a protected resource, and a conditional access policy requiring a compliant app for it;
 * - a Level 2 app protection policy (the framework template; Windows 11 23H2 at least, so Windows 10 devices fail a
 *   health check) for those apps and all users;
 * - a WIP policy for MAM devices, assigned to all users, so OMA-DM sessions carry settings.
 */
export const DEMO_NAMES = {
  protection: 'Simulated: Level 2 enterprise enhanced data protection',
  access: 'Simulated: Exchange Online from protected apps',
  wip: 'Simulated: protect contoso.com data',
} as const;

/** Windows 11 23H2 with its November 2023 update: the minimum OS of the demo's app protection policy. */
const DEMO_MINIMUM_OS = '10.0.22631.2506';
const ALL_USERS = { target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } };
const PROTECTIONS = '/graph/beta/deviceAppManagement/windowsManagedAppProtections';

export interface DemoTenantReport {
  /** What was created, in words ('' entries never). */
  created: string[];
}

export async function prepareDemoTenant(serverUrl: string, transport: HttpsTransport, adminToken: string): Promise<DemoTenantReport> {
  const created: string[] = [];
  const call = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const answer = await transport.json(method, `${serverUrl}${path}`, adminToken, body);
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${errorText(answer)}`);
    return answer.body;
  };
  const list = async (path: string): Promise<Record<string, unknown>[]> => {
    const items: Record<string, unknown>[] = [];
    let next: string | undefined = `${serverUrl}${path}`;
    for (let page = 0; next !== undefined && page < 50; page++) {
      const answer = await transport.json('GET', next, adminToken);
      if (answer.status !== 200) throw new Error(`GET ${path}: ${errorText(answer)}`);
      items.push(...((answer.body['value'] as Record<string, unknown>[] | undefined) ?? []));
      const link = answer.body['@odata.nextLink'];
      next = typeof link === 'string' ? new URL(link, serverUrl).href : undefined;
    }
    return items;
  };
  const named = (items: Record<string, unknown>[], name: string): Record<string, unknown> | undefined => items.find((item) => item['displayName'] === name);

  const catalogue = await list('/graph/beta/deviceAppManagement/openMamManagedApps');
  for (const app of CONTOSO_APPS) {
    if (catalogue.some((entry) => String(entry['windowsAppId']).toLowerCase() === app.windowsAppId)) continue;
    await call('POST', '/graph/beta/deviceAppManagement/openMamManagedApps', { displayName: app.displayName, windowsAppId: app.windowsAppId, clientIds: [app.clientId] });
    created.push(`catalogue app ${app.displayName}`);
  }

  if ((await list('/graph/beta/deviceManagement/mobileThreatDefenseConnectors')).length === 0) {
    await call('POST', '/graph/beta/deviceManagement/mobileThreatDefenseConnectors', { partnerState: 'enabled', windowsMobileApplicationManagementEnabled: true, partnerUnresponsivenessThresholdInDays: 7 });
    created.push('threat defense connector');
  }

  if (!(await list('/graph/v1.0/servicePrincipals')).some((principal) => String(principal['appId']).toLowerCase() === EXCHANGE_ONLINE.appId)) {
    await call('POST', '/graph/v1.0/servicePrincipals', { displayName: EXCHANGE_ONLINE.displayName, appId: EXCHANGE_ONLINE.appId, servicePrincipalNames: [EXCHANGE_ONLINE.uri] });
    created.push(`protected resource ${EXCHANGE_ONLINE.displayName}`);
  }

  if (!named(await list(PROTECTIONS), DEMO_NAMES.protection)) {
    const template = await call('GET', `${PROTECTIONS}/templates/level2?minimumOsVersion=${DEMO_MINIMUM_OS}`);
    const body = Object.fromEntries(Object.entries(template).filter(([name]) => !name.startsWith('@odata') && name !== 'id'));
    const policy = await call('POST', PROTECTIONS, { ...body, displayName: DEMO_NAMES.protection });
    const apps = [MICROSOFT_EDGE, ...CONTOSO_APPS].map((app) => ({ mobileAppIdentifier: { '@odata.type': '#microsoft.graph.windowsAppIdentifier', windowsAppId: app.windowsAppId } }));
    await call('POST', `${PROTECTIONS}/${String(policy['id'])}/targetApps`, { apps });
    await call('POST', `${PROTECTIONS}/${String(policy['id'])}/assign`, { assignments: [ALL_USERS] });
    created.push(`app protection policy "${DEMO_NAMES.protection}"`);
  }

  if (!named(await list('/graph/v1.0/identity/conditionalAccess/policies'), DEMO_NAMES.access)) {
    await call('POST', '/graph/v1.0/identity/conditionalAccess/policies', {
      displayName: DEMO_NAMES.access,
      state: 'enabled',
      conditions: { applications: { includeApplications: [EXCHANGE_ONLINE.appId] }, users: { includeUsers: ['All'] } },
      grantControls: { operator: 'OR', builtInControls: ['compliantApplication'] },
    });
    created.push(`conditional access policy "${DEMO_NAMES.access}"`);
  }

  const wipPath = '/graph/beta/deviceAppManagement/windowsInformationProtectionPolicies';
  if (!named(await list(wipPath), DEMO_NAMES.wip)) {
    const wip = await call('POST', wipPath, { displayName: DEMO_NAMES.wip, enforcementLevel: 'encryptAndAuditOnly', enterpriseDomain: 'contoso.com' });
    await call('POST', `${wipPath}/${String(wip['id'])}/assign`, { assignments: [ALL_USERS] });
    created.push(`WIP policy "${DEMO_NAMES.wip}"`);
  }
  return { created };
}
