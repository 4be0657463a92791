import { compareVersions, parseVersion } from '../../packages/contract/src/versions.ts';
import type {
  ClipboardSharingLevel,
  DataTransferLevel,
  DeviceThreatLevel,
  KeyValuePair,
  TargetApp,
  TargetedManagedAppConfiguration,
  WindowsManagedAppProtection,
} from './app-protection-model.ts';
import { parseIsoDuration } from '../../packages/contract/src/duration.ts';
import { flatShape, graphExtrasPaths, mergeGraphExtras, refuseIfSet, splitGraphExtras, type ActedOnShape, type GraphExtras, type GraphPatch, type WithGraphExtras } from './graph-extras.ts';
import {
  arrayReader,
  childPath,
  discriminator,
  enumReader,
  expectPlainObject,
  indexPath,
  integerReader,
  odataTypeReader,
  readBoolean,
  readGuid,
  readObject,
  readString,
  refuse,
  stringReader,
  type PropertySpec,
  type PropertySpecs,
  type Reader,
  type ValidationMode,
} from './validate.ts';

/**
 * Strict validators of the app protection service's admin models (app-protection-model.ts; facts in
 * ../shared/spec/app-protection.md): Graph beta `windowsManagedAppProtection` and `targetedManagedAppConfiguration`,
 * their `targetApps` and `assign` action bodies, `mobileThreatDefenseConnector`, and Entra's `conditionalAccessPolicy`
 * reduced to what OpenMAM decides. Every refusal names the JSON path of the value (validate.ts).
 *
 * Conventions shared by the validators:
 * - `create` reads a complete object and fills in every default, so a stored object has every property (nullable
 *   ones as null); `update` (PATCH) reads any subset, `null` clearing a nullable property. A PATCH is merged into the
 *   stored object and the result validated again as `create`, which checks the rules across properties.
 * - Read-only properties Graph returns (`id`, times, `version`, `isAssigned`, ...) are accepted and dropped, so an
 *   object read with GET can be sent back; `@odata.type`, when present, must name the resource's type. Navigation
 *   properties (`apps`, `assignments`) are refused with the action that sets them.
 * - Limits chosen by OpenMAM (Graph documents none): display names 1-256 characters on one line, descriptions up to
 *   4096; app PIN length 4-14 (the Intune app PIN range), PIN retries 1-99; offline periods at most 3650 days; a
 *   connector's unresponsiveness threshold 1-365 days; 500 custom settings (names up to 256 characters, values up to
 *   4096), 500 target apps, 100 assignments, 100 resources, groups or approved apps in an access policy.
 */

// ---- shared readers

const DISPLAY_NAME_MAX = 256;
const DESCRIPTION_MAX = 4096;
export const readDisplayName = stringReader({ nonEmpty: true, singleLine: true, maxLength: DISPLAY_NAME_MAX });
const readDescription = stringReader({ maxLength: DESCRIPTION_MAX });

/** Dotted numeric versions as the health checks compare them (policy/versions.ts), kept as sent. */
export function readVersion(value: unknown, path: string): string {
  const text = readString(value, path, { nonEmpty: true, singleLine: true });
  if (parseVersion(text) === undefined) refuse(path, `must be a version of 1 to 6 dot-separated numbers (10.0.22631.3155), not ${JSON.stringify(text)}`);
  return text;
}

const DAY_MS = 24 * 60 * 60 * 1000;
export const MAX_OFFLINE_PERIOD_DAYS = 3650;

/**
 * An ISO 8601 duration of fixed-length units (iso-duration.ts), kept as sent. Years and months are refused with
 * their own message (a month has no fixed length): the date part is everything before `T`, where `M` means months.
 */
export function readDuration(value: unknown, path: string): string {
  const text = readString(value, path, { nonEmpty: true, singleLine: true });
  const datePart = text.split('T')[0] ?? '';
  if (/^P.*[YM]/.test(datePart)) refuse(path, `${JSON.stringify(text)}: years and months have no fixed length; use days (P90D), hours or minutes (PT720M)`);
  const ms = parseIsoDuration(text);
  if (ms === undefined) refuse(path, `must be an ISO 8601 duration in days, hours, minutes or seconds (PT720M, P90D, PT0S), not ${JSON.stringify(text)}`);
  if (ms > MAX_OFFLINE_PERIOD_DAYS * DAY_MS) refuse(path, `${text} is longer than ${MAX_OFFLINE_PERIOD_DAYS} days`);
  return text;
}

function durationMs(text: string): number {
  return parseIsoDuration(text) ?? 0;
}

export type Patch<T> = { [K in keyof T]?: T[K] | null };

/**
 * Reads an object of a Graph resource: `@odata.type` checked, read-only properties dropped, navigation properties
 * refused with a hint; then readObject, and for a complete object every absent nullable property set to null (in
 * the order of the specs).
 */
export function readResource<T>(
  input: unknown,
  resource: { typeName: string; odataType: `#microsoft.graph.${string}`; readOnly: readonly string[]; navigations?: Readonly<Record<string, string>> },
  specs: PropertySpecs<T>,
  mode: ValidationMode,
): T | Patch<T> {
  const record = expectPlainObject(input, '');
  // @odata.etag in a body sent back is the tag of what the client read: ignored, the precondition is If-Match's.
  // @openmam.notApplicableProperties is computed from what is stored: ignored likewise.
  const readOnly: ReadonlySet<string> = new Set(['@odata.context', '@odata.etag', '@openmam.notApplicableProperties', ...resource.readOnly]);
  // No prototype: a JSON `__proto__` key stays an own property (and is refused as unknown).
  const rest = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (key === '@odata.type') odataTypeReader(resource.odataType)(value, key);
    else if (resource.navigations && Object.hasOwn(resource.navigations, key)) refuse(key, `is a navigation property: ${resource.navigations[key]!}`);
    else if (!readOnly.has(key)) rest[key] = value;
  }
  const complete = mode === 'create';
  const read = readObject<T>(rest, '', resource.typeName, specs, complete);
  if (!complete) return read;
  const filled: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs as Readonly<Record<string, PropertySpec<unknown>>>)) {
    const value = (read as Record<string, unknown>)[key];
    // Defaults are shared constants: arrays are copied so no stored object aliases another.
    if (value !== undefined) filled[key] = Array.isArray(value) ? [...(value as unknown[])] : value;
    else if (spec.nullable) filled[key] = null;
  }
  // Graph properties OpenMAM stores without a spec of its own (validate.ts readObject), after the specs' ones.
  for (const [key, value] of Object.entries(read as Record<string, unknown>)) if (!Object.hasOwn(filled, key)) filled[key] = value;
  return filled as T;
}

/** Graph's managedAppRemediationAction has warn and blockWhenSettingIsSupported too: say why they are refused. */
function actionReader<T extends string>(allowed: readonly T[], why: string): Reader<T> {
  const read = enumReader(allowed);
  return (value, path) => {
    if (value === 'warn' || value === 'blockWhenSettingIsSupported') refuse(path, `${value} is not supported ${why} (one of ${allowed.join(', ')})`);
    return read(value, path);
  };
}

// ---- windowsManagedAppProtection

export const APP_PROTECTION_TYPE = '#microsoft.graph.windowsManagedAppProtection';
export const DATA_TRANSFER_LEVELS = ['allApps', 'none'] as const satisfies readonly DataTransferLevel[];
export const CLIPBOARD_SHARING_LEVELS = [
  'anyDestinationAnySource',
  'none',
  'orgDestinationAnySource',
  'orgDestinationOrgSource',
] as const satisfies readonly ClipboardSharingLevel[];
export const DEVICE_THREAT_LEVELS = ['notConfigured', 'secured', 'low', 'medium', 'high'] as const satisfies readonly DeviceThreatLevel[];

export const MIN_PIN_LENGTH = 4;
export const MAX_PIN_LENGTH = 14;
export const MAX_PIN_RETRIES = 99;

const VERSION_SPEC = { read: readVersion, nullable: true } as const;

export const APP_PROTECTION_SPECS: PropertySpecs<WindowsManagedAppProtection> = {
  displayName: { read: readDisplayName, required: true },
  description: { read: readDescription, nullable: true },
  allowedInboundDataTransferSources: { read: enumReader(DATA_TRANSFER_LEVELS), default: 'allApps' },
  allowedOutboundDataTransferDestinations: { read: enumReader(DATA_TRANSFER_LEVELS), default: 'allApps' },
  allowedOutboundClipboardSharingLevel: { read: enumReader(CLIPBOARD_SHARING_LEVELS), default: 'anyDestinationAnySource' },
  printBlocked: { read: readBoolean, default: false },
  encryptAppData: { read: readBoolean, default: true },
  pinRequired: { read: readBoolean, default: false },
  minimumPinLength: { read: integerReader(MIN_PIN_LENGTH, MAX_PIN_LENGTH), default: MIN_PIN_LENGTH },
  maximumPinRetries: { read: integerReader(1, MAX_PIN_RETRIES), default: 5 },
  managedBrowserRequired: { read: readBoolean, default: false },
  periodOfflineBeforeAccessCheck: { read: readDuration, default: 'PT720M' },
  periodOfflineBeforeWipeIsEnforced: { read: readDuration, default: 'P90D' },
  appActionIfUnableToAuthenticateUser: { read: actionReader(['block', 'wipe'], 'for a disabled account'), nullable: true },
  minimumWarningAppVersion: VERSION_SPEC,
  minimumRequiredAppVersion: VERSION_SPEC,
  minimumWipeAppVersion: VERSION_SPEC,
  minimumRequiredSdkVersion: VERSION_SPEC,
  minimumWipeSdkVersion: VERSION_SPEC,
  minimumWarningOsVersion: VERSION_SPEC,
  minimumRequiredOsVersion: VERSION_SPEC,
  minimumWipeOsVersion: VERSION_SPEC,
  maximumWarningOsVersion: VERSION_SPEC,
  maximumRequiredOsVersion: VERSION_SPEC,
  maximumWipeOsVersion: VERSION_SPEC,
  maximumAllowedDeviceThreatLevel: { read: enumReader(DEVICE_THREAT_LEVELS), default: 'notConfigured' },
  mobileThreatDefenseRemediationAction: { read: actionReader(['block', 'wipe'], 'for the device threat level'), default: 'block' },
};

const POLICY_READ_ONLY = ['id', 'createdDateTime', 'lastModifiedDateTime', 'version', 'isAssigned', 'deployedAppCount'] as const;

type VersionProperty = { [K in keyof WindowsManagedAppProtection]: K extends `${string}Version` ? K : never }[keyof WindowsManagedAppProtection];

/**
 * Each chain lists properties whose set values must not decrease along it: a wipe threshold is never stricter than
 * the block one, and the block one never stricter than the warning (minimums: wipe <= required <= warning;
 * maximums: warning <= required <= wipe); and every minimum OS version is at or below every maximum one, or no
 * device could pass.
 */
const VERSION_CHAINS: readonly (readonly VersionProperty[])[] = [
  ['minimumWipeAppVersion', 'minimumRequiredAppVersion', 'minimumWarningAppVersion'],
  ['minimumWipeSdkVersion', 'minimumRequiredSdkVersion'],
  ['minimumWipeOsVersion', 'minimumRequiredOsVersion', 'minimumWarningOsVersion'],
  ['maximumWarningOsVersion', 'maximumRequiredOsVersion', 'maximumWipeOsVersion'],
];
const MINIMUM_OS: readonly VersionProperty[] = ['minimumWipeOsVersion', 'minimumRequiredOsVersion', 'minimumWarningOsVersion'];
const MAXIMUM_OS: readonly VersionProperty[] = ['maximumWarningOsVersion', 'maximumRequiredOsVersion', 'maximumWipeOsVersion'];

function versionOf(policy: WindowsManagedAppProtection, property: VersionProperty): readonly number[] | undefined {
  const text = policy[property];
  return text === null ? undefined : parseVersion(text);
}

function checkVersionOrder(policy: WindowsManagedAppProtection): void {
  for (const chain of VERSION_CHAINS) {
    for (let i = 0; i < chain.length; i += 1) {
      for (let j = i + 1; j < chain.length; j += 1) {
        const [lower, upper] = [chain[i]!, chain[j]!];
        const [low, high] = [versionOf(policy, lower), versionOf(policy, upper)];
        if (low !== undefined && high !== undefined && compareVersions(low, high) > 0) {
          refuse(upper, `${policy[upper]!} is below ${lower} ${policy[lower]!} (expected ${chain.join(' <= ')})`);
        }
      }
    }
  }
  for (const minimum of MINIMUM_OS) {
    for (const maximum of MAXIMUM_OS) {
      const [low, high] = [versionOf(policy, minimum), versionOf(policy, maximum)];
      if (low !== undefined && high !== undefined && compareVersions(low, high) > 0) {
        refuse(maximum, `${policy[maximum]!} is below ${minimum} ${policy[minimum]!}: no OS version could pass`);
      }
    }
  }
}

/** PT0S never wipes; otherwise the wipe cannot come before access is even checked. */
function checkOfflinePeriods(policy: WindowsManagedAppProtection): void {
  const wipe = durationMs(policy.periodOfflineBeforeWipeIsEnforced);
  if (wipe > 0 && wipe < durationMs(policy.periodOfflineBeforeAccessCheck)) {
    refuse(
      'periodOfflineBeforeWipeIsEnforced',
      `${policy.periodOfflineBeforeWipeIsEnforced} is shorter than periodOfflineBeforeAccessCheck ${policy.periodOfflineBeforeAccessCheck} (PT0S: never wipe)`,
    );
  }
}

export type AppProtectionPatch = Patch<WindowsManagedAppProtection>;

/**
 * A Graph `windowsManagedAppProtection` body. `create`: complete, defaults filled in (see APP_PROTECTION_SPECS),
 * version thresholds ordered, offline periods consistent. `update`: a subset, each value checked on its own.
 */
export function validateAppProtection(input: unknown, mode: 'create'): WindowsManagedAppProtection;
export function validateAppProtection(input: unknown, mode: 'update'): AppProtectionPatch;
export function validateAppProtection(input: unknown, mode: ValidationMode): WindowsManagedAppProtection | AppProtectionPatch;
export function validateAppProtection(input: unknown, mode: ValidationMode): WindowsManagedAppProtection | AppProtectionPatch {
  const policy = readResource<WindowsManagedAppProtection>(
    input,
    {
      typeName: 'windowsManagedAppProtection',
      odataType: APP_PROTECTION_TYPE,
      readOnly: POLICY_READ_ONLY,
      navigations: { apps: 'set with POST {id}/targetApps', assignments: 'set with POST {id}/assign', deploymentSummary: 'read-only, computed' },
    },
    APP_PROTECTION_SPECS,
    mode,
  );
  if (mode === 'create') {
    checkVersionOrder(policy as WindowsManagedAppProtection);
    checkOfflinePeriods(policy as WindowsManagedAppProtection);
  }
  return policy;
}

// ---- data protection framework templates

export type FrameworkLevel = 1 | 2 | 3;

const LEVEL_NAMES: Readonly<Record<FrameworkLevel, string>> = {
  1: 'Level 1 enterprise basic data protection',
  2: 'Level 2 enterprise enhanced data protection',
  3: 'Level 3 enterprise high data protection',
};

const LEVEL_DESCRIPTIONS: Readonly<Record<FrameworkLevel, string>> = {
  1: 'Data protection framework level 1: the minimum data protection for work data, device threat level at most low.',
  2: 'Data protection framework level 2: no data transfer to or from unmanaged apps, block on a disabled account, a minimum OS version.',
  3: 'Data protection framework level 3: level 2, printing blocked, a maximum OS version, threat level secured.',
};

/**
 * The data protection framework's levels (levels add up) as a complete policy body to start from. Level 2 sets
 * minimumRequiredOsVersion to `minimumOsVersion` and level 3 also maximumRequiredOsVersion to `maximumOsVersion`
 * (a current build and the current GA build: the framework names no number); a parameter the level does not use is
 * checked and ignored, one it uses but was not given leaves the property null.
 */
export function appProtectionTemplate(level: FrameworkLevel, params: { minimumOsVersion?: string; maximumOsVersion?: string }): WindowsManagedAppProtection {
  const minimum = params.minimumOsVersion === undefined ? null : readVersion(params.minimumOsVersion, 'minimumOsVersion');
  const maximum = params.maximumOsVersion === undefined ? null : readVersion(params.maximumOsVersion, 'maximumOsVersion');
  if (minimum !== null && maximum !== null && compareVersions(parseVersion(minimum)!, parseVersion(maximum)!) > 0) {
    refuse('maximumOsVersion', `${maximum} is below minimumOsVersion ${minimum}`);
  }
  const restricted = level >= 2;
  const body: Record<string, unknown> = {
    displayName: LEVEL_NAMES[level],
    description: LEVEL_DESCRIPTIONS[level],
    allowedInboundDataTransferSources: restricted ? 'none' : 'allApps',
    allowedOutboundDataTransferDestinations: restricted ? 'none' : 'allApps',
    allowedOutboundClipboardSharingLevel: restricted ? 'none' : 'anyDestinationAnySource',
    printBlocked: level === 3,
    periodOfflineBeforeAccessCheck: 'PT10080M',
    periodOfflineBeforeWipeIsEnforced: restricted ? 'P30D' : 'P90D',
    appActionIfUnableToAuthenticateUser: restricted ? 'block' : null,
    minimumRequiredOsVersion: restricted ? minimum : null,
    maximumRequiredOsVersion: level === 3 ? maximum : null,
    maximumAllowedDeviceThreatLevel: level === 3 ? 'secured' : 'low',
    mobileThreatDefenseRemediationAction: 'block',
  };
  return validateAppProtection(body, 'create');
}

// ---- targetedManagedAppConfiguration

export const APP_CONFIGURATION_TYPE = '#microsoft.graph.targetedManagedAppConfiguration';
export const APP_GROUP_TYPES = ['selectedPublicApps', 'allCoreMicrosoftApps', 'allMicrosoftApps', 'allApps'] as const satisfies readonly TargetedManagedAppConfiguration['appGroupType'][];
/** Windows MAM targets apps on devices OpenMAM does not manage: `unmanaged` (`unspecified` means the same here). */
export const APP_MANAGEMENT_LEVELS = ['unmanaged', 'unspecified'] as const satisfies readonly TargetedManagedAppConfiguration['targetedAppManagementLevels'][];
/** The value tokens resolved for the user in the configuration document (docs/app-protection.md), spelled exactly so. */
export const CONFIGURATION_TOKENS = ['userprincipalname', 'mail', 'partialupn', 'accountid', 'userid', 'username', 'PrimarySMTPAddress'] as const;

export const MAX_CUSTOM_SETTINGS = 500;
const SETTING_NAME_MAX = 256;
const SETTING_VALUE_MAX = 4096;

function readSettingValue(value: unknown, path: string): string {
  const text = readString(value, path, { maxLength: SETTING_VALUE_MAX });
  for (const match of text.matchAll(/\{\{([^{}]*)\}\}/g)) {
    if (!(CONFIGURATION_TOKENS as readonly string[]).includes(match[1]!)) {
      refuse(path, `unknown token ${match[0]} (tokens: ${CONFIGURATION_TOKENS.map((t) => `{{${t}}}`).join(', ')})`);
    }
  }
  return text;
}

function readKeyValuePair(value: unknown, path: string): KeyValuePair {
  return readObject<KeyValuePair & { '@odata.type'?: string }>(value, path, 'keyValuePair', {
    '@odata.type': { read: odataTypeReader('#microsoft.graph.keyValuePair') },
    name: { read: stringReader({ nonEmpty: true, singleLine: true, maxLength: SETTING_NAME_MAX }), required: true },
    value: { read: readSettingValue, required: true },
  }, true);
}

/** Names are compared case-insensitively: two settings differing only in case are a mistake an app cannot resolve. */
function readCustomSettings(value: unknown, path: string): KeyValuePair[] {
  const settings = arrayReader(readKeyValuePair, { maxItems: MAX_CUSTOM_SETTINGS })(value, path);
  const seen = new Map<string, number>();
  return settings.map((setting, i) => {
    const key = setting.name.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) refuse(childPath(indexPath(path, i), 'name'), `${JSON.stringify(setting.name)} is already the name of ${indexPath(path, first)}`);
    seen.set(key, i);
    return { name: setting.name, value: setting.value };
  });
}

function readManagementLevel(value: unknown, path: string): TargetedManagedAppConfiguration['targetedAppManagementLevels'] {
  if (value === 'mdm' || value === 'androidEnterprise' || (typeof value === 'string' && value.includes(','))) {
    refuse(path, `Windows MAM configures apps on unmanaged devices: unmanaged (or unspecified), not ${JSON.stringify(value)}`);
  }
  return enumReader(APP_MANAGEMENT_LEVELS)(value, path);
}

export const APP_CONFIGURATION_SPECS: PropertySpecs<TargetedManagedAppConfiguration> = {
  displayName: { read: readDisplayName, required: true },
  description: { read: readDescription, nullable: true },
  customSettings: { read: readCustomSettings, default: [] },
  appGroupType: { read: enumReader(APP_GROUP_TYPES), default: 'selectedPublicApps' },
  targetedAppManagementLevels: { read: readManagementLevel, default: 'unmanaged' },
};

export type AppConfigurationPatch = Patch<TargetedManagedAppConfiguration>;

export function validateAppConfiguration(input: unknown, mode: 'create'): TargetedManagedAppConfiguration;
export function validateAppConfiguration(input: unknown, mode: 'update'): AppConfigurationPatch;
export function validateAppConfiguration(input: unknown, mode: ValidationMode): TargetedManagedAppConfiguration | AppConfigurationPatch;
export function validateAppConfiguration(input: unknown, mode: ValidationMode): TargetedManagedAppConfiguration | AppConfigurationPatch {
  return readResource<TargetedManagedAppConfiguration>(
    input,
    {
      typeName: 'targetedManagedAppConfiguration',
      odataType: APP_CONFIGURATION_TYPE,
      readOnly: POLICY_READ_ONLY,
      navigations: { apps: 'set with POST {id}/targetApps', assignments: 'set with POST {id}/assign', deploymentSummary: 'read-only, computed' },
    },
    APP_CONFIGURATION_SPECS,
    mode,
  );
}

// ---- targetApps

export const MAX_TARGET_APPS = 500;
/** Package identity names, AUMIDs and reverse-DNS ids: no spaces, nothing that needs escaping. */
const APP_ID = /^[A-Za-z0-9][A-Za-z0-9._~!+-]*$/;
const APP_ID_MAX = 256;

export function readWindowsAppId(value: unknown, path: string): string {
  const text = readString(value, path, { nonEmpty: true, maxLength: APP_ID_MAX });
  if (!APP_ID.test(text)) refuse(path, `${JSON.stringify(text)} is not an app id (letters, digits and . _ ~ ! + -, e.g. com.microsoft.edge)`);
  return text.toLowerCase();
}

function readMobileAppIdentifier(value: unknown, path: string): string {
  const record = expectPlainObject(value, path);
  discriminator(record, path, ['#microsoft.graph.windowsAppIdentifier'] as const);
  const identifier = readObject<{ '@odata.type': string; windowsAppId: string }>(record, path, 'windowsAppIdentifier', {
    '@odata.type': { read: (v) => v as string, required: true },
    windowsAppId: { read: readWindowsAppId, required: true },
  }, true);
  return identifier.windowsAppId;
}

function readManagedMobileApp(value: unknown, path: string): TargetApp {
  const app = readObject<{ '@odata.type'?: string; id?: string; mobileAppIdentifier: string; version: string | null }>(value, path, 'managedMobileApp', {
    '@odata.type': { read: odataTypeReader('#microsoft.graph.managedMobileApp') },
    // Read-only (the entry's id in a policy's `apps`): accepted so a GET of {id}/apps can be sent back.
    id: { read: stringReader() },
    mobileAppIdentifier: { read: readMobileAppIdentifier, required: true },
    version: { read: readVersion, nullable: true },
  }, true);
  return { appId: app.mobileAppIdentifier, version: app.version ?? null };
}

/** `appGroupType` goes with a configuration's targetApps only. */
export interface TargetAppsRequest {
  apps: TargetApp[];
  appGroupType?: TargetedManagedAppConfiguration['appGroupType'];
}

/**
 * The body of `POST {id}/targetApps`: `{ "apps": [ { "mobileAppIdentifier": { "@odata.type":
 * "#microsoft.graph.windowsAppIdentifier", "windowsAppId": "com.contoso.notes" }, "version": "4.2" } ] }`, app ids
 * lower-cased, the same app twice refused. With `withAppGroupType` (configurations) Graph's `appGroupType` is
 * accepted too.
 */
export function readTargetAppsRequest(input: unknown, options: { withAppGroupType: boolean }): TargetAppsRequest {
  const specs: PropertySpecs<TargetAppsRequest> = {
    apps: { read: arrayReader(readManagedMobileApp, { maxItems: MAX_TARGET_APPS }), required: true },
    appGroupType: { read: options.withAppGroupType ? enumReader(APP_GROUP_TYPES) : (_value, path) => refuse(path, 'is a property of targetedManagedAppConfiguration targetApps only') },
  };
  const request = readObject<TargetAppsRequest>(input, '', 'targetApps', specs, true);
  const seen = new Map<string, number>();
  request.apps.forEach((app, i) => {
    const first = seen.get(app.appId);
    if (first !== undefined) refuse(`${indexPath('apps', i)}.mobileAppIdentifier.windowsAppId`, `${app.appId} is already apps[${first}]`);
    seen.set(app.appId, i);
  });
  return request;
}

export function readTargetApps(input: unknown): TargetApp[] {
  return readTargetAppsRequest(input, { withAppGroupType: false }).apps;
}

// ---- assign

/** Structurally the store's AssignmentTarget (records.ts): what `assign` accepts. */
export type AppAssignmentTarget =
  | ({ '@odata.type': '#microsoft.graph.groupAssignmentTarget'; groupId: string } & AssignmentFilterFields)
  | { '@odata.type': '#microsoft.graph.exclusionGroupAssignmentTarget'; groupId: string }
  | ({ '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } & AssignmentFilterFields);

/** An include target's assignment filter; both absent when it has none (structurally records.ts AssignmentFilterRef). */
export interface AssignmentFilterFields {
  deviceAndAppManagementAssignmentFilterId?: string;
  deviceAndAppManagementAssignmentFilterType?: 'include' | 'exclude';
}

const TARGET_TYPES = [
  '#microsoft.graph.groupAssignmentTarget',
  '#microsoft.graph.exclusionGroupAssignmentTarget',
  '#microsoft.graph.allLicensedUsersAssignmentTarget',
] as const;
export const MAX_ASSIGNMENTS = 100;

interface TargetInput {
  '@odata.type': string;
  groupId?: string;
  deviceAndAppManagementAssignmentFilterId?: string | null;
  deviceAndAppManagementAssignmentFilterType?: 'include' | 'exclude' | 'none';
}

export const ASSIGNMENT_FILTER_FIELDS = ['deviceAndAppManagementAssignmentFilterId', 'deviceAndAppManagementAssignmentFilterType'] as const;

/**
 * Assignment filters (Graph deviceAndAppManagementAssignmentTarget's filter id and type) narrow an include target:
 * `include` reaches what matches the filter's rule, `exclude` what does not (learn.microsoft.com/mem/intune/
 * fundamentals/filters). No filter is a null, empty or absent id with type `none` (or absent). An id needs include or
 * exclude, and include or exclude needs an id. Intune takes no filter on an excluded group: refused. Whether the id
 * names a filter of the tenant, of the policy's management type, is core's check (core/policies.ts assign).
 */
function readTargetFilter(target: TargetInput, path: string, type: (typeof TARGET_TYPES)[number]): AssignmentFilterFields {
  const id = target.deviceAndAppManagementAssignmentFilterId;
  const filterType = target.deviceAndAppManagementAssignmentFilterType ?? 'none';
  const hasId = id !== undefined && id !== null && id !== '';
  if (!hasId && filterType === 'none') return {};
  if (type === '#microsoft.graph.exclusionGroupAssignmentTarget') {
    refuse(`${path}.${hasId ? 'deviceAndAppManagementAssignmentFilterId' : 'deviceAndAppManagementAssignmentFilterType'}`, 'an excluded group takes no assignment filter (Intune applies filters to included groups only)');
  }
  if (!hasId) refuse(`${path}.deviceAndAppManagementAssignmentFilterId`, `is required with deviceAndAppManagementAssignmentFilterType ${filterType}`);
  if (filterType === 'none') refuse(`${path}.deviceAndAppManagementAssignmentFilterType`, 'must be include or exclude with a deviceAndAppManagementAssignmentFilterId');
  return { deviceAndAppManagementAssignmentFilterId: id.toLowerCase(), deviceAndAppManagementAssignmentFilterType: filterType };
}

function readTarget(value: unknown, path: string): AppAssignmentTarget {
  const record = expectPlainObject(value, path);
  const type = discriminator(record, path, TARGET_TYPES);
  const group = type !== '#microsoft.graph.allLicensedUsersAssignmentTarget';
  const target = readObject<TargetInput>(record, path, type.slice('#microsoft.graph.'.length), {
    '@odata.type': { read: (v) => v as string, required: true },
    groupId: group ? { read: readGuid, required: true } : { read: (_v, at) => refuse(at, `is not a property of ${type}`) },
    deviceAndAppManagementAssignmentFilterId: { read: (v, at) => (v === '' ? '' : readGuid(v, at)), nullable: true },
    deviceAndAppManagementAssignmentFilterType: { read: enumReader(['include', 'exclude', 'none'] as const) },
  }, true);
  const filter = readTargetFilter(target, path, type);
  if (type === '#microsoft.graph.allLicensedUsersAssignmentTarget') return { '@odata.type': type, ...filter };
  if (type === '#microsoft.graph.exclusionGroupAssignmentTarget') return { '@odata.type': type, groupId: target.groupId! };
  return { '@odata.type': type, groupId: target.groupId!, ...filter };
}

/** The assignment entity types `assign` takes (deviceConfiguration's and managedAppPolicy's collections). */
export type AssignmentEntityType = '#microsoft.graph.targetedManagedAppPolicyAssignment' | '#microsoft.graph.deviceConfigurationAssignment' | '#microsoft.graph.deviceCompliancePolicyAssignment';

function assignmentReader(entityType: AssignmentEntityType): Reader<AppAssignmentTarget> {
  const typeName = entityType.slice('#microsoft.graph.'.length);
  return (value, path) =>
    readObject<{ '@odata.type'?: string; id?: string; source?: 'direct'; sourceId?: string | null; intent?: 'apply'; target: AppAssignmentTarget }>(value, path, typeName, {
      '@odata.type': { read: odataTypeReader(entityType) },
      id: { read: stringReader() },
      source: { read: enumReader(['direct'] as const) },
      // Set by Intune for assignments made through a policy set; OpenMAM has none, so any value is taken as direct.
      sourceId: { read: stringReader(), nullable: true },
      // deviceConfigurationAssignment (beta): `remove` uninstalls what a policy set; OpenMAM's unassign is assign without it.
      intent: { read: entityType === '#microsoft.graph.deviceConfigurationAssignment' ? enumReader(['apply'] as const) : (_value, at) => refuse(at, `is not a property of ${typeName}`) },
      target: { read: readTarget, required: true },
    }, true).target;
}

/**
 * The body of `POST {id}/assign` (deviceConfiguration and managedAppPolicy alike): `{ "assignments": [ { "target":
 * {...} } ] }`, each an assignment of `entityType`; the same target twice is refused.
 */
export function readAssignmentTargets(input: unknown, entityType: AssignmentEntityType): AppAssignmentTarget[] {
  const { assignments } = readObject<{ assignments: AppAssignmentTarget[] }>(input, '', 'assign', {
    assignments: { read: arrayReader(assignmentReader(entityType), { maxItems: MAX_ASSIGNMENTS }), required: true },
  }, true);
  const seen = new Map<string, number>();
  assignments.forEach((target, i) => {
    const key = `${target['@odata.type']} ${'groupId' in target ? target.groupId : ''}`;
    const first = seen.get(key);
    if (first !== undefined) refuse(`${indexPath('assignments', i)}.target`, `is the same target as assignments[${first}]`);
    seen.set(key, i);
  });
  return assignments;
}

// ---- mobileThreatDefenseConnector

export const MTD_CONNECTOR_TYPE = '#microsoft.graph.mobileThreatDefenseConnector';
/**
 * Connectors and access policies keep what OpenMAM acts on as typed columns; every other Graph property is validated
 * by its Graph type and stored as given (graph-extras.ts), never accepted and dropped.
 */
export const PARTNER_STATES = ['enabled', 'available', 'unavailable', 'unresponsive', 'notSetUp', 'error'] as const;
export const MAX_UNRESPONSIVENESS_DAYS = 365;

/** What an admin sets on a connector (MtdConnectorRecord without tenant, id, heartbeat and times). */
export interface MobileThreatDefenseConnectorSettings {
  partnerState: (typeof PARTNER_STATES)[number];
  windowsMobileApplicationManagementEnabled: boolean;
  windowsDeviceBlockedOnMissingPartnerData: boolean;
  partnerUnsupportedOsVersionBlocked: boolean;
  partnerUnresponsivenessThresholdInDays: number;
}

/**
 * Defaults: a connector created in OpenMAM is `enabled` with MAM on (creating it is how an admin connects the
 * partner); the unresponsiveness threshold is Intune's 7 days. `windowsEnabled` (MDM devices) and the other
 * platforms' flags are stored only: OpenMAM protects Windows MAM apps.
 */
const MTD_CONNECTOR_SPECS: PropertySpecs<MobileThreatDefenseConnectorSettings> = {
  partnerState: { read: enumReader(PARTNER_STATES), default: 'enabled' },
  windowsMobileApplicationManagementEnabled: { read: readBoolean, default: true },
  windowsDeviceBlockedOnMissingPartnerData: { read: readBoolean, default: false },
  partnerUnsupportedOsVersionBlocked: { read: readBoolean, default: false },
  partnerUnresponsivenessThresholdInDays: { read: integerReader(1, MAX_UNRESPONSIVENESS_DAYS), default: 7 },
};

const MTD_CONNECTOR_SHAPE = flatShape(MTD_CONNECTOR_SPECS);

/** `create`: the settings and the extras. `update`: the given properties (extras included) to merge over connectorAsGraph. */
export function validateMtdConnector(input: unknown, mode: 'create'): WithGraphExtras<MobileThreatDefenseConnectorSettings>;
export function validateMtdConnector(input: unknown, mode: 'update'): GraphPatch<MobileThreatDefenseConnectorSettings>;
export function validateMtdConnector(input: unknown, mode: ValidationMode): WithGraphExtras<MobileThreatDefenseConnectorSettings> | GraphPatch<MobileThreatDefenseConnectorSettings> {
  const read = readResource<MobileThreatDefenseConnectorSettings>(
    input,
    { typeName: 'mobileThreatDefenseConnector', odataType: MTD_CONNECTOR_TYPE, readOnly: ['id', 'lastHeartbeatDateTime'] },
    MTD_CONNECTOR_SPECS,
    mode,
  ) as GraphPatch<MobileThreatDefenseConnectorSettings>;
  if (mode === 'update') return read;
  const complete = read as MobileThreatDefenseConnectorSettings & GraphExtras;
  return {
    partnerState: complete.partnerState,
    windowsMobileApplicationManagementEnabled: complete.windowsMobileApplicationManagementEnabled,
    windowsDeviceBlockedOnMissingPartnerData: complete.windowsDeviceBlockedOnMissingPartnerData,
    partnerUnsupportedOsVersionBlocked: complete.partnerUnsupportedOsVersionBlocked,
    partnerUnresponsivenessThresholdInDays: complete.partnerUnresponsivenessThresholdInDays,
    graphExtras: splitGraphExtras(complete, MTD_CONNECTOR_SHAPE),
  };
}

/** A connector's settings and extras in the Graph shape an admin PATCHes over. */
export function connectorAsGraph(settings: WithGraphExtras<MobileThreatDefenseConnectorSettings>): Record<string, unknown> {
  const { graphExtras, ...acted } = settings;
  return mergeGraphExtras(acted, graphExtras);
}

/** The paths of a connector's stored-only properties (`@openmam.notApplicableProperties`). */
export function connectorExtrasPaths(graphExtras: Readonly<GraphExtras>): string[] {
  return graphExtrasPaths(graphExtras, MTD_CONNECTOR_SHAPE);
}

// ---- conditionalAccessPolicy (reduced)

export const CONDITIONAL_ACCESS_POLICY_TYPE = '#microsoft.graph.conditionalAccessPolicy';
export const GRANT_CONTROLS = ['approvedApplication', 'compliantApplication', 'compliantDevice'] as const;
export type GrantControl = (typeof GRANT_CONTROLS)[number];
const MAX_ACCESS_ITEMS = 100;
/** The includeApplications value that protects every resource (access-decision.ts protectsResource). */
export const ALL_APPLICATIONS = 'All';
const GUID_TEXT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * Entra's conditionalAccessPolicy reduced to what OpenMAM decides. `approvedApplications` is OpenMAM's own
 * property: the app ids the `approvedApplication` grant allows (Entra keeps that list in Microsoft's client app
 * catalogue; OpenMAM has none).
 */
export interface ConditionalAccessPolicy {
  displayName: string;
  state: 'enabled' | 'disabled';
  conditions: {
    applications: { includeApplications: string[] };
    users: { includeUsers: 'All'[]; includeGroups: string[]; excludeGroups: string[] };
    clientAppTypes?: ['all'];
  };
  grantControls: { operator: 'OR'; builtInControls: GrantControl[] };
  approvedApplications: string[];
}

/** The AccessPolicyRecord fields an admin sets. */
export interface AccessPolicySettings {
  displayName: string;
  state: 'enabled' | 'disabled';
  resources: string[];
  includeGroups: string[];
  excludeGroups: string[];
  includeAllUsers: boolean;
  approvedApps: string[];
  grantControls: GrantControl[];
}

function uniqueArray<T>(item: Reader<T>, key: (value: T) => string = String): Reader<T[]> {
  return uniqueItems(item, { maxItems: MAX_ACCESS_ITEMS }, key);
}

/** An array whose items are unique by `key` (the later one refused, naming the earlier). */
export function uniqueItems<T>(item: Reader<T>, options: { minItems?: number; maxItems: number }, key: (value: T) => string = String): Reader<T[]> {
  return (value, path) => {
    const items = arrayReader(item, options)(value, path);
    const seen = new Map<string, number>();
    items.forEach((entry, i) => {
      const first = seen.get(key(entry));
      if (first !== undefined) refuse(indexPath(path, i), `${JSON.stringify(entry)} is already ${indexPath(path, first)}`);
      seen.set(key(entry), i);
    });
    return items;
  };
}

const optionalType = (type: `#microsoft.graph.${string}`) => ({ read: odataTypeReader(type) });

function readIncludeUsers(value: unknown, path: string): 'All'[] {
  const users = arrayReader((v, at) => {
    if (v !== 'All') refuse(at, `only "All" is supported (target users through includeGroups), not ${JSON.stringify(v)}`);
    return 'All' as const;
  })(value, path);
  if (users.length > 1) refuse(indexPath(path, 1), 'is "All" again');
  return users;
}

/**
 * Resources as Entra names them: application ids of service principals (lower-cased) or `All`, alone
 * (learn.microsoft.com/graph/api/resources/conditionalaccessapplications: "Can be one of the following: the list of
 * client IDs (appId) the policy applies to ... All").
 */
function readIncludeApplications(value: unknown, path: string): string[] {
  const applications = uniqueArray((v, at) => {
    if (v === ALL_APPLICATIONS) return ALL_APPLICATIONS;
    if (typeof v === 'string' && v.toLowerCase() === 'all') refuse(at, `write "All" (not ${JSON.stringify(v)})`);
    if (typeof v === 'string' && !GUID_TEXT.test(v)) refuse(at, `must be the appId of a service principal (a GUID, see servicePrincipals) or "All", not ${JSON.stringify(v)}`);
    return readGuid(v, at);
  })(value, path);
  const all = applications.indexOf(ALL_APPLICATIONS);
  if (all >= 0 && applications.length > 1) refuse(indexPath(path, all), '"All" covers every resource: it must be the only item');
  return applications;
}

const readGroups = uniqueArray(readGuid);

/**
 * Users as Entra targets them. OpenMAM decides by includeUsers ["All"], includeGroups and excludeGroups; the other
 * properties are stored only. An exclusion it does not evaluate makes the policy reach more users than asked (it
 * still decides), but an inclusion it does not evaluate (directory roles, guests) would let the users it names through
 * unchecked, so a set inclusion is refused (learn.microsoft.com/graph/api/resources/conditionalaccessusers).
 */
function readUsers(value: unknown, path: string): ConditionalAccessPolicy['conditions']['users'] {
  const users = readObject<{ '@odata.type'?: string; includeUsers: 'All'[]; includeGroups: string[]; excludeGroups: string[] }>(value, path, 'conditionalAccessUsers', {
    '@odata.type': optionalType('#microsoft.graph.conditionalAccessUsers'),
    includeUsers: { read: readIncludeUsers, default: [] },
    includeGroups: { read: readGroups, default: [] },
    excludeGroups: { read: readGroups, default: [] },
  }, true);
  const why = 'OpenMAM targets users by includeUsers ["All"] and includeGroups only; a policy that reached fewer users than it names would let the others through: leave it empty';
  refuseIfSet(users, 'includeRoles', path, why);
  refuseIfSet(users, 'includeGuestsOrExternalUsers', path, why);
  return users;
}

function readConditions(value: unknown, path: string): ConditionalAccessPolicy['conditions'] {
  const conditions = readObject<ConditionalAccessPolicy['conditions'] & { '@odata.type'?: string }>(value, path, 'conditionalAccessConditionSet', {
    '@odata.type': optionalType('#microsoft.graph.conditionalAccessConditionSet'),
    applications: {
      read: (v, at) =>
        readObject<{ '@odata.type'?: string; includeApplications: string[] }>(v, at, 'conditionalAccessApplications', {
          '@odata.type': optionalType('#microsoft.graph.conditionalAccessApplications'),
          includeApplications: { read: readIncludeApplications, required: true },
        }, true),
      required: true,
    },
    users: { read: readUsers, required: true },
    clientAppTypes: {
      read: (v, at) => {
        const types = arrayReader((t, p) => enumReader(['all'] as const)(t, p))(v, at);
        if (types.length !== 1) refuse(at, 'must be ["all"]');
        return ['all'] as ['all'];
      },
    },
  }, true);
  if (conditions.applications.includeApplications.length === 0) refuse(childPath(path, 'applications.includeApplications'), 'needs at least one resource');
  if (conditions.users.includeUsers.length === 0 && conditions.users.includeGroups.length === 0) refuse(childPath(path, 'users'), 'targets nobody: set includeUsers ["All"] or includeGroups');
  // As read, extras included (validateAccessPolicy splits them off).
  return conditions;
}

function readGrantControls(value: unknown, path: string): ConditionalAccessPolicy['grantControls'] {
  const controls = readObject<ConditionalAccessPolicy['grantControls'] & { '@odata.type'?: string }>(value, path, 'conditionalAccessGrantControls', {
    '@odata.type': optionalType('#microsoft.graph.conditionalAccessGrantControls'),
    operator: {
      read: (v, at) => {
        if (v !== 'OR') refuse(at, `only OR is supported (any grant control grants access), not ${JSON.stringify(v)}`);
        return 'OR' as const;
      },
      default: 'OR',
    },
    builtInControls: { read: uniqueArray(enumReader(GRANT_CONTROLS)), required: true },
  }, true);
  if (controls.builtInControls.length === 0) refuse(childPath(path, 'builtInControls'), `needs at least one of ${GRANT_CONTROLS.join(', ')}`);
  // As read, extras included. Another control joined by OR (termsOfUse, customAuthenticationFactors) is one more way
  // to be granted access: stored only, it can only make OpenMAM grant less.
  return controls;
}

const ACCESS_POLICY_SPECS: PropertySpecs<ConditionalAccessPolicy> = {
  displayName: { read: readDisplayName, required: true },
  state: {
    read: (v, at) => {
      if (v === 'enabledForReportingButNotEnforced') refuse(at, 'report-only mode is not supported (enabled or disabled)');
      return enumReader(['enabled', 'disabled'] as const)(v, at);
    },
    required: true,
  },
  conditions: { read: readConditions, required: true },
  grantControls: { read: readGrantControls, required: true },
  approvedApplications: { read: uniqueArray(readWindowsAppId), default: [] },
};

function checkApprovedApplications(policy: ConditionalAccessPolicy): void {
  const approving = policy.grantControls.builtInControls.includes('approvedApplication');
  if (approving && policy.approvedApplications.length === 0) refuse('approvedApplications', 'needs at least one app id when grantControls.builtInControls has approvedApplication');
  if (!approving && policy.approvedApplications.length > 0) refuse('approvedApplications', 'is used only with the approvedApplication grant control; clear it or add the control');
}

/**
 * What OpenMAM acts on, by Graph's nesting; everything else a policy carries is stored only (description,
 * sessionControls, conditions.platforms, conditions.users.excludeUsers, ...). `@odata.type` and clientAppTypes
 * (["all"] only) are accepted and not kept, as before.
 */
const ACCESS_POLICY_SHAPE: ActedOnShape = {
  displayName: true,
  state: true,
  conditions: {
    '@odata.type': true,
    clientAppTypes: true,
    applications: { '@odata.type': true, includeApplications: true },
    users: { '@odata.type': true, includeUsers: true, includeGroups: true, excludeGroups: true },
  },
  grantControls: { '@odata.type': true, operator: true, builtInControls: true },
  approvedApplications: true,
};

/**
 * A conditionalAccessPolicy body. `create`: complete, checked as a whole, and mapped to the record's fields and the
 * extras. `update`: a subset in Graph's shape (a complex property such as `conditions` is replaced whole, extras in it
 * included, as in Graph); merge it over accessPolicyAsGraph(stored) and validate the result as `create`.
 */
export function validateAccessPolicy(input: unknown, mode: 'create'): WithGraphExtras<AccessPolicySettings>;
export function validateAccessPolicy(input: unknown, mode: 'update'): GraphPatch<ConditionalAccessPolicy>;
export function validateAccessPolicy(input: unknown, mode: ValidationMode): WithGraphExtras<AccessPolicySettings> | GraphPatch<ConditionalAccessPolicy>;
export function validateAccessPolicy(input: unknown, mode: ValidationMode): WithGraphExtras<AccessPolicySettings> | GraphPatch<ConditionalAccessPolicy> {
  const policy = readResource<ConditionalAccessPolicy>(
    input,
    { typeName: 'conditionalAccessPolicy', odataType: CONDITIONAL_ACCESS_POLICY_TYPE, readOnly: ['id', 'createdDateTime', 'modifiedDateTime', 'templateId'] },
    ACCESS_POLICY_SPECS,
    mode,
  );
  if (mode === 'update') return policy as GraphPatch<ConditionalAccessPolicy>;
  const complete = policy as ConditionalAccessPolicy & GraphExtras;
  checkApprovedApplications(complete);
  return {
    displayName: complete.displayName,
    state: complete.state,
    resources: [...complete.conditions.applications.includeApplications],
    includeGroups: [...complete.conditions.users.includeGroups],
    excludeGroups: [...complete.conditions.users.excludeGroups],
    includeAllUsers: complete.conditions.users.includeUsers.length > 0,
    approvedApps: complete.approvedApplications,
    grantControls: [...complete.grantControls.builtInControls],
    graphExtras: splitGraphExtras(complete, ACCESS_POLICY_SHAPE),
  };
}

/** The record's fields and extras in the Graph shape an admin reads and PATCHes (a GET answers what was POSTed). */
export function accessPolicyAsGraph(settings: WithGraphExtras<AccessPolicySettings>): ConditionalAccessPolicy & GraphExtras {
  const acted: ConditionalAccessPolicy = {
    displayName: settings.displayName,
    state: settings.state,
    conditions: {
      applications: { includeApplications: [...settings.resources] },
      users: { includeUsers: settings.includeAllUsers ? ['All'] : [], includeGroups: [...settings.includeGroups], excludeGroups: [...settings.excludeGroups] },
    },
    grantControls: { operator: 'OR', builtInControls: [...settings.grantControls] },
    approvedApplications: [...settings.approvedApps],
  };
  return mergeGraphExtras(acted, settings.graphExtras) as ConditionalAccessPolicy & GraphExtras;
}

/** The paths of a policy's stored-only properties (`@openmam.notApplicableProperties`). */
export function accessPolicyExtrasPaths(graphExtras: Readonly<GraphExtras>): string[] {
  return graphExtrasPaths(graphExtras, ACCESS_POLICY_SHAPE);
}
