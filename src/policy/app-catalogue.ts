import { readDisplayName, readResource, readWindowsAppId, uniqueItems } from './app-protection.ts';
import { flatShape, graphExtrasPaths, refuseIfSet, splitGraphExtras, type GraphExtras, type GraphPatch, type WithGraphExtras } from './graph-extras.ts';
import { readGuid, stringReader, type PropertySpecs, type ValidationMode } from './validate.ts';

/**
 * Strict validators of the managed app catalogue (`openMamManagedApp`, OpenMAM's own type: Graph has no resource that
 * maps Entra client ids to Windows app ids) and of service principals (Graph `servicePrincipal`: OpenMAM acts on appId,
 * displayName and servicePrincipalNames and stores the rest: learn.microsoft.com/graph/api/resources/serviceprincipal). Conventions as in
 * app-protection.ts: `create` reads a complete object, `update` a subset to merge and validate again as `create`;
 * read-only properties are accepted and dropped; every refusal names the JSON path of the value.
 */

export const MANAGED_APP_TYPE = '#microsoft.graph.openMamManagedApp';
export const SERVICE_PRINCIPAL_TYPE = '#microsoft.graph.servicePrincipal';
/** Limits chosen by OpenMAM: an app speaks through a handful of client ids; Entra's servicePrincipalNames are few too. */
export const MAX_CLIENT_IDS = 50;
export const MAX_SERVICE_PRINCIPAL_NAMES = 100;
const SERVICE_PRINCIPAL_NAME_MAX = 256;


// ---- openMamManagedApp

/** What an admin sets on a catalogue entry (ManagedAppCatalogueRecord without tenant, id, version and times). */
export interface ManagedAppSettings {
  displayName: string;
  /** Lower-cased, as targetApps' windowsAppId. */
  windowsAppId: string;
  /** Entra application (client) ids of the app, lower-cased: the `azp`/`appid` of its users' tokens. */
  clientIds: string[];
}

const MANAGED_APP_SPECS: PropertySpecs<ManagedAppSettings> = {
  displayName: { read: readDisplayName, required: true },
  windowsAppId: { read: readWindowsAppId, required: true },
  clientIds: { read: uniqueItems(readGuid, { minItems: 1, maxItems: MAX_CLIENT_IDS }, String), required: true },
};

export function validateManagedApp(input: unknown, mode: 'create'): ManagedAppSettings;
export function validateManagedApp(input: unknown, mode: 'update'): Partial<ManagedAppSettings>;
export function validateManagedApp(input: unknown, mode: ValidationMode): ManagedAppSettings | Partial<ManagedAppSettings>;
export function validateManagedApp(input: unknown, mode: ValidationMode): ManagedAppSettings | Partial<ManagedAppSettings> {
  return readResource<ManagedAppSettings>(
    input,
    { typeName: 'openMamManagedApp', odataType: MANAGED_APP_TYPE, readOnly: ['id', 'isBuiltIn', 'createdDateTime', 'lastModifiedDateTime'] },
    MANAGED_APP_SPECS,
    mode,
  ) as ManagedAppSettings | Partial<ManagedAppSettings>;
}

// ---- servicePrincipal (reduced)

/** What an admin sends for a service principal; appId only on create (generated when absent, immutable after). */
export interface ServicePrincipalSettings {
  appId?: string;
  displayName: string;
  servicePrincipalNames: string[];
}

const readServicePrincipalName = stringReader({ nonEmpty: true, singleLine: true, maxLength: SERVICE_PRINCIPAL_NAME_MAX });

const SERVICE_PRINCIPAL_SPECS: PropertySpecs<ServicePrincipalSettings> = {
  appId: { read: readGuid },
  displayName: { read: readDisplayName, required: true },
  // Audiences are compared ignoring case (AppCatalogue.resource), so two names that differ only in case are one.
  servicePrincipalNames: { read: uniqueItems(readServicePrincipalName, { maxItems: MAX_SERVICE_PRINCIPAL_NAMES }, (name) => name.toLowerCase()), default: [] },
};

/** What OpenMAM acts on; every other Graph property of a service principal is stored only (graph-extras.ts). */
const SERVICE_PRINCIPAL_SHAPE = flatShape(SERVICE_PRINCIPAL_SPECS);

/**
 * `create`: the settings and the extras. `update`: the given properties (extras included) to merge over the stored
 * Graph shape. Credentials are refused: OpenMAM issues no tokens for a resource, and a secret kept only to be shown
 * back would be a secret stored for nothing (learn.microsoft.com/graph/api/resources/passwordcredential).
 */
export function validateServicePrincipal(input: unknown, mode: 'create'): WithGraphExtras<ServicePrincipalSettings>;
export function validateServicePrincipal(input: unknown, mode: 'update'): GraphPatch<ServicePrincipalSettings>;
export function validateServicePrincipal(input: unknown, mode: ValidationMode): WithGraphExtras<ServicePrincipalSettings> | GraphPatch<ServicePrincipalSettings> {
  const read = readResource<ServicePrincipalSettings>(
    input,
    { typeName: 'servicePrincipal', odataType: SERVICE_PRINCIPAL_TYPE, readOnly: ['id'] },
    SERVICE_PRINCIPAL_SPECS,
    mode,
  ) as GraphPatch<ServicePrincipalSettings>;
  const why = 'OpenMAM keeps no credentials of a service principal (it issues no tokens for it): leave it empty';
  refuseIfSet(read, 'passwordCredentials', '', why);
  refuseIfSet(read, 'keyCredentials', '', why);
  if (mode === 'update') return read;
  const complete = read as ServicePrincipalSettings & GraphExtras;
  return {
    ...(complete.appId === undefined ? {} : { appId: complete.appId }),
    displayName: complete.displayName,
    servicePrincipalNames: complete.servicePrincipalNames,
    graphExtras: splitGraphExtras(complete, SERVICE_PRINCIPAL_SHAPE),
  };
}

/** The paths of a service principal's stored-only properties (`@openmam.notApplicableProperties`). */
export function servicePrincipalExtrasPaths(graphExtras: Readonly<GraphExtras>): string[] {
  return graphExtrasPaths(graphExtras, SERVICE_PRINCIPAL_SHAPE);
}

/**
 * The names a service principal is stored and shown with: its appId first, as Entra lists it among them, then the
 * others as given (case kept), without a repeat of the appId.
 */
export function withAppId(appId: string, names: readonly string[]): string[] {
  return [appId, ...names.filter((name) => name.toLowerCase() !== appId)];
}
