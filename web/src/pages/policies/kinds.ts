import { fromBase64, numberOrText, toBase64, type FieldSpec, type FormValue, type Option, type Row } from './form-model.ts';

/**
 * The policy collections and kinds the console edits: the admin API's registry (src/core/policy-kinds: collections.ts
 * and one file per kind) as the console needs it, with the form of each kind's main settings. Every other property of
 * a kind is still reachable through the JSON editor; the server validates both.
 */
export interface PolicyKind {
  odataType: string;
  title: string;
  description: string;
  fields: readonly FieldSpec[];
}

export interface PolicyCollectionInfo {
  /** The console path segment (`/policies/app-protection/...`). */
  slug: string;
  /** Tab and heading. */
  title: string;
  /** The table's accessible name. */
  tableLabel: string;
  /** Under /graph/beta. */
  path: string;
  /** The assignment entity `assign` takes. */
  assignmentType: '#microsoft.graph.targetedManagedAppPolicyAssignment' | '#microsoft.graph.deviceConfigurationAssignment' | '#microsoft.graph.deviceCompliancePolicyAssignment';
  /** OMA-DM kinds report per device; managed app kinds are read by apps at check-in; compliance kinds are judged by the server. */
  delivery: 'omaDm' | 'checkIn' | 'compliance';
  /** The `targetApps` action, and whether it takes appGroupType (configurations). */
  targetApps?: { withAppGroupType: boolean };
  /** False for MDM WIP: compiled for the handoff check only, it reaches no MAM device (so has no device status). */
  reachesMamDevices?: false;
  kinds: readonly PolicyKind[];
}

const opts = (...values: string[]): Option[] => values.map((value) => ({ value, label: value }));
const GENERAL = 'Basics';

const displayName: FieldSpec = { name: 'displayName', label: 'Name', required: true, section: GENERAL, kind: { type: 'text' } };
const description: FieldSpec = { name: 'description', label: 'Description', section: GENERAL, kind: { type: 'text', multiline: true, nullable: true } };

// ---- WIP (learn.microsoft.com/graph/api/resources/intune-mam-windowsinformationprotectionpolicy)

const STORE_APP = '#microsoft.graph.windowsInformationProtectionStoreApp';
const DESKTOP_APP = '#microsoft.graph.windowsInformationProtectionDesktopApp';
const MICROSOFT_PUBLISHER = 'O=MICROSOFT CORPORATION, L=REDMOND, S=WASHINGTON, C=US';

/** A resource collection (domains, proxies) edited as one list: the resources of every collection, one a line. */
const resourceLines = (name: string, label: string, hint: string, section: string): FieldSpec => ({
  name,
  label,
  hint,
  section,
  kind: { type: 'lines' },
  read: (value) => (Array.isArray(value) ? (value as { resources?: unknown[] }[]).flatMap((c) => c.resources ?? []).map(String).join('\n') : ''),
  write: (value) => {
    const resources = String(value).split('\n').map((line) => line.trim()).filter((line) => line !== '');
    return resources.length === 0 ? [] : [{ resources }];
  },
});

const appsField = (name: 'protectedApps' | 'exemptApps', label: string, hint: string): FieldSpec => ({
  name,
  label,
  hint,
  section: 'Apps',
  kind: {
    type: 'rows',
    itemLabel: name === 'protectedApps' ? 'Protected app' : 'Exempt app',
    columns: [
      { name: '@odata.type', label: 'Type', options: [{ value: STORE_APP, label: 'Store app' }, { value: DESKTOP_APP, label: 'Desktop app' }] },
      { name: 'displayName', label: 'Name' },
      { name: 'publisherName', label: 'Publisher' },
      { name: 'productName', label: 'Product name' },
      { name: 'binaryName', label: 'File (desktop)', placeholder: '*' },
      { name: 'denied', label: 'Rule', options: [{ value: 'false', label: 'Allow' }, { value: 'true', label: 'Deny' }] },
    ],
    empty: { '@odata.type': DESKTOP_APP, displayName: '', publisherName: '', productName: '', binaryName: '', denied: 'false' },
    // Edge is the app Windows MAM protects (learn.microsoft.com/mem/intune/apps/protect-mam-windows); exempting it is rare.
    presets: name === 'exemptApps' ? [] : [
      { label: 'Add Microsoft Edge', row: { '@odata.type': DESKTOP_APP, displayName: 'Microsoft Edge', publisherName: MICROSOFT_PUBLISHER, productName: 'MICROSOFT EDGE', binaryName: 'MSEDGE.EXE', denied: 'false' } },
    ],
  },
  write: (value) =>
    (value as Row[]).map((row) => {
      const desktop = row['@odata.type'] !== STORE_APP;
      const app: Record<string, unknown> = { '@odata.type': row['@odata.type'], displayName: row['displayName'], publisherName: row['publisherName'], productName: row['productName'], denied: row['denied'] === 'true' };
      if (desktop && row['binaryName']) app['binaryName'] = row['binaryName'];
      return app;
    }),
});

const PIN_CHARACTERS = opts('notAllow', 'requireAtLeastOne', 'allow');

function wipFields(mam: boolean): FieldSpec[] {
  const fields: FieldSpec[] = [
    displayName,
    description,
    { name: 'enforcementLevel', label: 'Enforcement level', required: true, section: GENERAL, kind: { type: 'choice', options: [
      { value: 'noProtection', label: 'Off (noProtection)' },
      { value: 'encryptAndAuditOnly', label: 'Silent (encryptAndAuditOnly)' },
      { value: 'encryptAuditAndPrompt', label: 'Allow overrides (encryptAuditAndPrompt)' },
      { value: 'encryptAuditAndBlock', label: 'Block (encryptAuditAndBlock)' },
    ] } },
    { name: 'enterpriseDomain', label: 'Enterprise domain', hint: 'The primary enterprise identity, lower-case (contoso.com).', section: GENERAL, kind: { type: 'text', nullable: true } },
    appsField('protectedApps', 'Protected apps', 'The apps that may open work data.'),
    appsField('exemptApps', 'Exempt apps', 'Apps that bypass WIP and may reach work data unencrypted.'),
    resourceLines('enterpriseProtectedDomainNames', 'Protected domains', 'Other enterprise identities, one a line.', 'Network boundary'),
    resourceLines('enterpriseNetworkDomainNames', 'Network domains', 'The enterprise network domain names, one a line.', 'Network boundary'),
    resourceLines('enterpriseProxyServers', 'Proxy servers', 'Internet-facing proxy servers, one a line (host:port).', 'Network boundary'),
    resourceLines('enterpriseInternalProxyServers', 'Internal proxy servers', 'One a line (host:port).', 'Network boundary'),
    resourceLines('neutralDomainResources', 'Neutral resources', 'Authentication redirection endpoints, one a line.', 'Network boundary'),
    { name: 'enterpriseIPRangesAreAuthoritative', label: 'IP ranges are authoritative', section: 'Network boundary', kind: { type: 'boolean' } },
    { name: 'enterpriseProxyServersAreAuthoritative', label: 'Proxy servers are authoritative', section: 'Network boundary', kind: { type: 'boolean' } },
    { name: 'iconsVisible', label: 'Show the WIP icon overlay', section: 'Advanced settings', kind: { type: 'boolean' } },
    { name: 'revokeOnUnenrollDisabled', label: 'Keep access to protected data on unenroll', section: 'Advanced settings', kind: { type: 'boolean' } },
    { name: 'azureRightsManagementServicesAllowed', label: 'Use Azure RMS for WIP', section: 'Advanced settings', kind: { type: 'boolean' } },
    { name: 'rightsManagementServicesTemplateId', label: 'RMS template id', section: 'Advanced settings', kind: { type: 'text', nullable: true } },
  ];
  if (!mam) return fields;
  return [
    ...fields,
    { name: 'revokeOnMdmHandoffDisabled', label: 'Keep access to protected data on the change to MDM', hint: 'Check the MDM handoff under Tools before users change to MDM.', section: 'Advanced settings', kind: { type: 'boolean' } },
    { name: 'mdmEnrollmentUrl', label: 'MDM discovery URL', hint: 'Offer the change to MDM (https).', section: 'Advanced settings', kind: { type: 'text', nullable: true } },
    { name: 'windowsHelloForBusinessBlocked', label: 'Block Windows Hello for Business', section: 'Access', kind: { type: 'boolean' } },
    { name: 'pinMinimumLength', label: 'PIN minimum length', section: 'Access', kind: { type: 'integer' } },
    { name: 'pinUppercaseLetters', label: 'PIN upper-case letters', section: 'Access', kind: { type: 'choice', options: PIN_CHARACTERS } },
    { name: 'pinLowercaseLetters', label: 'PIN lower-case letters', section: 'Access', kind: { type: 'choice', options: PIN_CHARACTERS } },
    { name: 'pinSpecialCharacters', label: 'PIN special characters', section: 'Access', kind: { type: 'choice', options: PIN_CHARACTERS } },
    { name: 'pinExpirationDays', label: 'PIN expiration (days, 0 = never)', section: 'Access', kind: { type: 'integer' } },
    { name: 'numberOfPastPinsRemembered', label: 'Past PINs remembered', section: 'Access', kind: { type: 'integer' } },
    { name: 'passwordMaximumAttemptCount', label: 'Failed attempts before wipe', section: 'Access', kind: { type: 'integer' } },
    { name: 'minutesOfInactivityBeforeDeviceLock', label: 'Minutes of inactivity before lock', section: 'Access', kind: { type: 'integer' } },
    { name: 'daysWithoutContactBeforeUnenroll', label: 'Days without contact before unenroll', section: 'Access', kind: { type: 'integer' } },
  ];
}

// ---- device configurations

const OMA_TYPES: Option[] = [
  { value: '#microsoft.graph.omaSettingString', label: 'String' },
  { value: '#microsoft.graph.omaSettingInteger', label: 'Integer' },
  { value: '#microsoft.graph.omaSettingBoolean', label: 'Boolean' },
  { value: '#microsoft.graph.omaSettingBase64', label: 'Base64' },
  { value: '#microsoft.graph.omaSettingDateTime', label: 'Date and time' },
  { value: '#microsoft.graph.omaSettingFloatingPoint', label: 'Floating point' },
  { value: '#microsoft.graph.omaSettingStringXml', label: 'String (XML)' },
];

const omaSettings: FieldSpec = {
  name: 'omaSettings',
  label: 'OMA-URI settings',
  hint: 'Each setting must be within the MAM allow-list to reach a device; the others are shown as not applicable.',
  section: 'Settings',
  kind: {
    type: 'rows',
    itemLabel: 'Setting',
    columns: [
      { name: 'displayName', label: 'Name' },
      { name: 'omaUri', label: 'OMA-URI', placeholder: './Vendor/MSFT/...' },
      { name: '@odata.type', label: 'Data type', options: OMA_TYPES },
      { name: 'value', label: 'Value' },
    ],
    empty: { displayName: '', omaUri: '', '@odata.type': '#microsoft.graph.omaSettingString', value: '' },
  },
  read: (value) =>
    Array.isArray(value)
      ? (value as Record<string, unknown>[]).map((setting) => {
          const type = String(setting['@odata.type'] ?? '');
          const raw = setting['value'] === null || setting['value'] === undefined ? '' : String(setting['value']);
          return { displayName: String(setting['displayName'] ?? ''), omaUri: String(setting['omaUri'] ?? ''), '@odata.type': type, value: type.endsWith('StringXml') ? fromBase64(raw) : raw };
        })
      : [],
  write: (value) =>
    (value as Row[]).map((row) => {
      const type = row['@odata.type'] ?? '';
      const text = row['value'] ?? '';
      let converted: unknown = text;
      if (type.endsWith('Integer') || type.endsWith('FloatingPoint')) converted = numberOrText(text);
      else if (type.endsWith('Boolean')) converted = text === 'true' ? true : text === 'false' ? false : text;
      else if (type.endsWith('StringXml')) converted = toBase64(text);
      return { '@odata.type': type, displayName: row['displayName'], omaUri: row['omaUri'], value: converted };
    }),
};

const certificateFile = (name: string, label: string, hint: string, nameField?: string): FieldSpec => ({
  name,
  label,
  hint,
  required: true,
  section: 'Certificate',
  kind: { type: 'file', accept: '.cer,.crt,.pem,.der,.pfx,.p12', ...(nameField ? { nameField } : {}) },
});

const KEY_STORAGE = opts('useSoftwareKsp', 'useTpmKspOtherwiseUseSoftwareKsp');

const scepFields: FieldSpec[] = [
  displayName,
  description,
  { name: 'scepServerUrls', label: 'SCEP server URLs', required: true, hint: 'One a line (https).', section: 'SCEP server', kind: { type: 'lines' } },
  { name: 'challenge', label: 'Challenge', required: true, hint: 'The static challenge; never shown again once saved (leave empty to keep it).', section: 'SCEP server', kind: { type: 'text', secret: true } },
  { name: 'caThumbprint', label: 'CA thumbprint', required: true, hint: 'SHA-1 of the root certificate, 40 hexadecimal digits.', section: 'SCEP server', kind: { type: 'text' } },
  { name: 'templateName', label: 'Template name', section: 'SCEP server', kind: { type: 'text', nullable: true } },
  { name: 'subjectNameFormatString', label: 'Subject name', required: true, hint: 'A literal subject, e.g. CN=Contoso user.', section: 'Certificate', kind: { type: 'text' } },
  {
    name: 'customSubjectAlternativeNames',
    label: 'Subject alternative names',
    section: 'Certificate',
    kind: { type: 'rows', itemLabel: 'Alternative name', columns: [{ name: 'sanType', label: 'Type', options: opts('emailAddress', 'userPrincipalName', 'domainNameService', 'universalResourceIdentifier') }, { name: 'name', label: 'Value' }], empty: { sanType: 'userPrincipalName', name: '' } },
  },
  {
    name: 'extendedKeyUsages',
    label: 'Extended key usages',
    required: true,
    section: 'Certificate',
    kind: {
      type: 'rows',
      itemLabel: 'Key usage',
      columns: [{ name: 'name', label: 'Name' }, { name: 'objectIdentifier', label: 'Object identifier' }],
      empty: { name: '', objectIdentifier: '' },
      presets: [{ label: 'Add client authentication', row: { name: 'Client Authentication', objectIdentifier: '1.3.6.1.5.5.7.3.2' } }],
    },
  },
  { name: 'keyUsage', label: 'Key usage', required: true, section: 'Certificate', kind: { type: 'flags', options: opts('keyEncipherment', 'digitalSignature') } },
  { name: 'keySize', label: 'Key size', section: 'Certificate', kind: { type: 'choice', options: [{ value: 'size1024', label: '1024' }, { value: 'size2048', label: '2048' }, { value: 'size4096', label: '4096' }] } },
  { name: 'hashAlgorithm', label: 'Hash algorithm', section: 'Certificate', kind: { type: 'flags', options: opts('sha1', 'sha2') } },
  { name: 'certificateValidityPeriodValue', label: 'Validity period', section: 'Certificate', kind: { type: 'integer', nullable: true } },
  { name: 'certificateValidityPeriodScale', label: 'Validity period unit', section: 'Certificate', kind: { type: 'choice', options: opts('days', 'months', 'years'), nullable: true } },
  { name: 'certificateStore', label: 'Certificate store', section: 'Certificate', kind: { type: 'choice', options: opts('user', 'machine') } },
  { name: 'keyStorageProvider', label: 'Key storage provider', section: 'Certificate', kind: { type: 'choice', options: KEY_STORAGE } },
  { name: 'scepRetryCount', label: 'Retries', section: 'SCEP server', kind: { type: 'integer', nullable: true } },
  { name: 'scepRetryDelayMinutes', label: 'Retry delay (minutes)', section: 'SCEP server', kind: { type: 'integer', nullable: true } },
];

// ---- app protection (learn.microsoft.com/graph/api/resources/intune-mam-windowsmanagedappprotection?view=graph-rest-beta)

const TRANSFER = [{ value: 'allApps', label: 'Any app (allApps)' }, { value: 'none', label: 'No app (none)' }];
const VERSION_HINT = 'Dot-separated numbers, e.g. 10.0.19045; empty for none.';
const version = (name: string, label: string, section: string): FieldSpec => ({ name, label, hint: VERSION_HINT, section, kind: { type: 'text', nullable: true } });
const DURATION_HINT = 'ISO 8601 in days, hours or minutes (P90D, PT720M).';

const appProtectionFields: FieldSpec[] = [
  displayName,
  description,
  { name: 'allowedInboundDataTransferSources', label: 'Incoming data: sources', section: 'Data protection', kind: { type: 'choice', options: TRANSFER } },
  { name: 'allowedOutboundDataTransferDestinations', label: 'Outgoing data: destinations', section: 'Data protection', kind: { type: 'choice', options: TRANSFER } },
  { name: 'allowedOutboundClipboardSharingLevel', label: 'Cut, copy and paste', section: 'Data protection', kind: { type: 'choice', options: opts('anyDestinationAnySource', 'orgDestinationOrgSource', 'orgDestinationAnySource', 'none') } },
  { name: 'printBlocked', label: 'Block printing', section: 'Data protection', kind: { type: 'boolean' } },
  { name: 'encryptAppData', label: 'Encrypt app data', section: 'Data protection', kind: { type: 'boolean' } },
  { name: 'managedBrowserRequired', label: 'Require a managed browser', section: 'Data protection', kind: { type: 'boolean' } },
  { name: 'pinRequired', label: 'Require a PIN', section: 'Access', kind: { type: 'boolean' } },
  { name: 'minimumPinLength', label: 'Minimum PIN length', section: 'Access', kind: { type: 'integer' } },
  { name: 'maximumPinRetries', label: 'PIN retries', section: 'Access', kind: { type: 'integer' } },
  { name: 'periodOfflineBeforeAccessCheck', label: 'Offline before access check', hint: DURATION_HINT, section: 'Conditional launch', kind: { type: 'text' } },
  { name: 'periodOfflineBeforeWipeIsEnforced', label: 'Offline before wipe', hint: `${DURATION_HINT} PT0S: never wipe.`, section: 'Conditional launch', kind: { type: 'text' } },
  { name: 'appActionIfUnableToAuthenticateUser', label: 'Disabled account', section: 'Conditional launch', kind: { type: 'choice', options: opts('block', 'wipe'), nullable: true } },
  { name: 'maximumAllowedDeviceThreatLevel', label: 'Maximum device threat level', section: 'Conditional launch', kind: { type: 'choice', options: opts('notConfigured', 'secured', 'low', 'medium', 'high') } },
  { name: 'mobileThreatDefenseRemediationAction', label: 'Above the threat level', section: 'Conditional launch', kind: { type: 'choice', options: opts('block', 'wipe') } },
  version('minimumWarningOsVersion', 'Minimum OS version (warn)', 'Versions'),
  version('minimumRequiredOsVersion', 'Minimum OS version (block)', 'Versions'),
  version('minimumWipeOsVersion', 'Minimum OS version (wipe)', 'Versions'),
  version('maximumWarningOsVersion', 'Maximum OS version (warn)', 'Versions'),
  version('maximumRequiredOsVersion', 'Maximum OS version (block)', 'Versions'),
  version('maximumWipeOsVersion', 'Maximum OS version (wipe)', 'Versions'),
  version('minimumWarningAppVersion', 'Minimum app version (warn)', 'Versions'),
  version('minimumRequiredAppVersion', 'Minimum app version (block)', 'Versions'),
  version('minimumWipeAppVersion', 'Minimum app version (wipe)', 'Versions'),
  version('minimumRequiredSdkVersion', 'Minimum SDK version (block)', 'Versions'),
  version('minimumWipeSdkVersion', 'Minimum SDK version (wipe)', 'Versions'),
];

/** The value tokens the configuration document resolves per user (src/policy/app-protection.ts CONFIGURATION_TOKENS). */
export const CONFIGURATION_TOKENS = ['userprincipalname', 'mail', 'partialupn', 'accountid', 'userid', 'username', 'PrimarySMTPAddress'] as const;

const appConfigurationFields: FieldSpec[] = [
  displayName,
  description,
  {
    name: 'customSettings',
    label: 'Configuration settings',
    hint: `Name and value pairs; a value may hold tokens resolved for each user: ${CONFIGURATION_TOKENS.map((t) => `{{${t}}}`).join(', ')}.`,
    section: 'Settings',
    kind: { type: 'rows', itemLabel: 'Setting', columns: [{ name: 'name', label: 'Name' }, { name: 'value', label: 'Value', placeholder: '{{userprincipalname}}' }], empty: { name: '', value: '' } },
  },
  { name: 'targetedAppManagementLevels', label: 'Device management', section: 'Settings', kind: { type: 'choice', options: [{ value: 'unmanaged', label: 'Unmanaged devices' }, { value: 'unspecified', label: 'Unspecified' }] } },
];

// ---- Device compliance (learn.microsoft.com/graph/api/resources/intune-deviceconfig-windows10compliancepolicy): the
// settings a MAM device can evidence (DeviceStatus, its OS version, a validated health attestation report).

const COMPLIANCE = 'Device health';
const required = (name: string, label: string, section = COMPLIANCE): FieldSpec => ({ name, label, section, kind: { type: 'boolean' } });

const complianceFields: readonly FieldSpec[] = [
  displayName,
  description,
  { name: 'osMinimumVersion', label: 'Minimum OS version', hint: 'e.g. 10.0.19045.0', section: 'Device properties', kind: { type: 'text', nullable: true } },
  { name: 'osMaximumVersion', label: 'Maximum OS version', section: 'Device properties', kind: { type: 'text', nullable: true } },
  required('activeFirewallRequired', 'Firewall on', 'System security'),
  required('antivirusRequired', 'Antivirus on', 'System security'),
  required('antiSpywareRequired', 'Antispyware on', 'System security'),
  required('signatureOutOfDate', 'Antivirus signatures up to date', 'System security'),
  required('storageRequireEncryption', 'OS drive encrypted', 'System security'),
  required('tpmRequired', 'TPM present', 'System security'),
  required('bitLockerEnabled', 'BitLocker (health attestation)'),
  required('secureBootEnabled', 'Secure Boot (health attestation)'),
  required('codeIntegrityEnabled', 'Code integrity (health attestation)'),
  required('earlyLaunchAntiMalwareDriverEnabled', 'Early launch antimalware (health attestation)'),
  required('requireHealthyDeviceReport', 'A healthy device report'),
];

export const COLLECTIONS: readonly PolicyCollectionInfo[] = [
  {
    slug: 'wip',
    title: 'WIP (MAM)',
    tableLabel: 'WIP policies without enrollment',
    path: '/deviceAppManagement/windowsInformationProtectionPolicies',
    assignmentType: '#microsoft.graph.targetedManagedAppPolicyAssignment',
    delivery: 'omaDm',
    kinds: [{ odataType: '#microsoft.graph.windowsInformationProtectionPolicy', title: 'WIP without enrollment', description: 'Windows Information Protection for MAM-enrolled devices.', fields: wipFields(true) }],
  },
  {
    slug: 'wip-mdm',
    title: 'WIP (MDM)',
    tableLabel: 'WIP policies with enrollment',
    path: '/deviceAppManagement/mdmWindowsInformationProtectionPolicies',
    assignmentType: '#microsoft.graph.targetedManagedAppPolicyAssignment',
    delivery: 'omaDm',
    reachesMamDevices: false,
    kinds: [{ odataType: '#microsoft.graph.mdmWindowsInformationProtectionPolicy', title: 'WIP with enrollment', description: 'Kept for the MAM-to-MDM handoff check; delivered to no MAM device.', fields: wipFields(false) }],
  },
  {
    slug: 'device-configurations',
    title: 'Device configurations',
    tableLabel: 'Device configurations',
    path: '/deviceManagement/deviceConfigurations',
    assignmentType: '#microsoft.graph.deviceConfigurationAssignment',
    delivery: 'omaDm',
    kinds: [
      { odataType: '#microsoft.graph.windows10CustomConfiguration', title: 'Custom (OMA-URI)', description: 'OMA-URI settings within the MAM allow-list.', fields: [displayName, description, omaSettings] },
      {
        odataType: '#microsoft.graph.windows81TrustedRootCertificate',
        title: 'Trusted certificate',
        description: 'A CA certificate for the RootCATrustedCertificates CSP.',
        fields: [
          displayName,
          description,
          certificateFile('trustedRootCertificate', 'Certificate', 'A .cer (DER or PEM): only a self-signed certificate may go to the Root store.', 'certFileName'),
          { name: 'certFileName', label: 'File name', required: true, section: 'Certificate', kind: { type: 'text' } },
          { name: 'destinationStore', label: 'Destination store', required: true, section: 'Certificate', kind: { type: 'choice', options: opts('computerCertStoreRoot', 'computerCertStoreIntermediate', 'userCertStoreIntermediate') } },
        ],
      },
      {
        odataType: '#microsoft.graph.windows10ImportedPFXCertificateProfile',
        title: 'PFX certificate',
        description: "A PKCS#12 file for the user's store.",
        fields: [
          displayName,
          description,
          { ...certificateFile('pfxCertificate', 'PFX file', 'A .pfx or .p12 file; never shown again once saved.'), read: () => '' },
          { name: 'password', label: 'PFX password', required: true, hint: 'Never shown again once saved (leave empty to keep it).', section: 'Certificate', kind: { type: 'text', secret: true } },
          { name: 'keyStorageProvider', label: 'Key storage provider', section: 'Certificate', kind: { type: 'choice', options: KEY_STORAGE } },
        ],
      },
      { odataType: '#microsoft.graph.windows81SCEPCertificateProfile', title: 'SCEP certificate', description: 'Enrollment with a SCEP server and a static challenge.', fields: scepFields },
    ],
  },
  {
    slug: 'app-protection',
    title: 'App protection',
    tableLabel: 'App protection policies',
    path: '/deviceAppManagement/windowsManagedAppProtections',
    assignmentType: '#microsoft.graph.targetedManagedAppPolicyAssignment',
    delivery: 'checkIn',
    targetApps: { withAppGroupType: false },
    kinds: [{ odataType: '#microsoft.graph.windowsManagedAppProtection', title: 'App protection', description: 'What managed apps enforce, judged at every check-in.', fields: appProtectionFields }],
  },
  {
    slug: 'app-configuration',
    title: 'App configuration',
    tableLabel: 'App configuration policies',
    path: '/deviceAppManagement/targetedManagedAppConfigurations',
    assignmentType: '#microsoft.graph.targetedManagedAppPolicyAssignment',
    delivery: 'checkIn',
    targetApps: { withAppGroupType: true },
    kinds: [{ odataType: '#microsoft.graph.targetedManagedAppConfiguration', title: 'App configuration', description: 'Settings with value tokens, delivered at check-in.', fields: appConfigurationFields }],
  },
  {
    slug: 'device-compliance',
    title: 'Device compliance',
    tableLabel: 'Device compliance policies',
    path: '/deviceManagement/deviceCompliancePolicies',
    assignmentType: '#microsoft.graph.deviceCompliancePolicyAssignment',
    delivery: 'compliance',
    kinds: [{ odataType: '#microsoft.graph.windows10CompliancePolicy', title: 'Windows compliance', description: 'What a MAM device must evidence to be compliant (the grace period and actions: JSON editor).', fields: complianceFields }],
  },
];

export function collectionBySlug(slug: string | null | undefined): PolicyCollectionInfo | undefined {
  return COLLECTIONS.find((c) => c.slug === slug);
}

/** The kind of a policy answer (by `@odata.type`); the collection's first kind when it names none. */
export function kindOf(collection: PolicyCollectionInfo, odataType: unknown): PolicyKind {
  return collection.kinds.find((k) => k.odataType === odataType) ?? collection.kinds[0]!;
}

/** Values a form starts from where the form would otherwise send nothing for a required choice. */
export function defaultsOf(kind: PolicyKind): Record<string, FormValue> {
  if (kind.odataType.endsWith('InformationProtectionPolicy')) return { enforcementLevel: 'encryptAuditAndBlock' };
  if (kind.odataType.endsWith('windows81TrustedRootCertificate')) return { destinationStore: 'computerCertStoreRoot' };
  if (kind.odataType.endsWith('windows81SCEPCertificateProfile')) return { keyUsage: ['digitalSignature'], hashAlgorithm: ['sha2'] };
  return {};
}

export const FRAMEWORK_LEVELS = [
  { value: 'level1', label: 'Level 1: enterprise basic data protection' },
  { value: 'level2', label: 'Level 2: enterprise enhanced data protection' },
  { value: 'level3', label: 'Level 3: enterprise high data protection' },
] as const;
