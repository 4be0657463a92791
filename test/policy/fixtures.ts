/**
 * Inputs of the policy tests and golden files: Graph-shaped request bodies as an admin would POST them.
 */

/**
 * A self-signed RSA-2048 EFS data recovery agent certificate (EKU 1.3.6.1.4.1.311.10.3.4.1 "File Recovery"), made for
 * these tests with `openssl req -x509 -newkey rsa:2048 -subj "/CN=OpenMAM Test Data Recovery Agent" -days 36500
 * -addext extendedKeyUsage=1.3.6.1.4.1.311.10.3.4.1 -outform DER`. The private key was discarded.
 */
export const DRA_CERTIFICATE_BASE64 = [
  'MIIDUjCCAjqgAwIBAgIFASNFZ4kwDQYJKoZIhvcNAQELBQAwKzEpMCcGA1UEAwwgT3Blbk1BTSBUZXN0IERhdGEgUmVjb3Zlcnkg',
  'QWdlbnQwIBcNMjYxMTIyMTEyMjM1WhgPMjEyNjEwMjkxMTIyMzVaMCsxKTAnBgNVBAMMIE9wZW5NQU0gVGVzdCBEYXRhIFJlY292',
  'ZXJ5IEFnZW50MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsvQLAWER6ZfUHMUHXhMV1DdQtWn+s7/z8UBGsZZH5g7R',
  '1dfmb1E3fKPb3bBhZBsttDtmYSfsWND7Zptf6Bt4XWONA8khVE17M8jiqfVq0IM1S4XT5ho7zQD7+j1kSCFV/OIEZI/Pxqp24ciN',
  '9KV9dDJGWBShJAC8And1IyXgTVSVlU04O6uB8WOCwB7ePrjaROK+0SgtzvT0BN2i4hAIfDaraI2+yftfcPmpPNcp2Qc7OCBfC7Rn',
  'G48mJhpPtVKbXoXhdnFDpMGGvpIEUcePZORO3gmUXCO7+rlxtbFqexjQehyU3ZRpyxKFtkq5X+2j02vV3nje9wSkG23rNxoevwID',
  'AQABo3sweTAdBgNVHQ4EFgQURB2LQeXKxrK5bwHN86RhqVdQx/0wHwYDVR0jBBgwFoAURB2LQeXKxrK5bwHN86RhqVdQx/0wDwYD',
  'VR0TAQH/BAUwAwEB/zAWBgNVHSUEDzANBgsrBgEEAYI3CgMEATAOBgNVHQ8BAf8EBAMCBSAwDQYJKoZIhvcNAQELBQADggEBAELo',
  'eiYWHsn9JN86nP7n8cUu8OZHBCuW56IoqTfRisD0bn4eTI9PKH8wcJmSL0rkNtDHOykWmo/4VBteucslPxPIcjSIwppqYoLR6Eos',
  'a3tmMC9jv2oWoZ5q0vbMfRtW7VBxiC5i8x+xeQ0LgRqueBZAQUvWhqpl2nd/efdV+gLXU7m5yJj+zNPu119rtQxzPFD72xiYPQ71',
  'jkvnNfz7aspByzovDr8rtUtnIxtyqBQ/FJtzGnRYo6QdFWRfKjxUMvTHHtMgS3uFFYDJs09P0VAhM8ot6V95s7h3AU6bGS7tKy8B',
  'PQrtkf+ctRqDUcYMUwISqkGClkJZWJR1OfNiVoU=',
].join('');

export const TENANT_ID = '6f1c0e2a-8b7d-4c55-9a3e-2d4b1f0c9e77';
export const PROVIDER_ID = 'OpenMAM';
export const POLICY_ID = 'c0ffee00-1111-4222-8333-444455556666';

/** (a) A MAM policy (windowsInformationProtectionPolicy) that sets every property. */
export function fullMamPolicy(): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.windowsInformationProtectionPolicy',
    displayName: 'Contoso WIP without enrollment',
    description: 'Protects Contoso data on personal devices.',
    version: '1',
    enforcementLevel: 'encryptAuditAndBlock',
    enterpriseDomain: 'contoso.com',
    enterpriseProtectedDomainNames: [
      {
        '@odata.type': '#microsoft.graph.windowsInformationProtectionResourceCollection',
        displayName: 'Identity domains',
        resources: ['contoso.com', 'contoso.onmicrosoft.com', 'bücher.example', 'xn--caf-dma.example'],
      },
      { displayName: 'Subsidiaries', resources: ['fabrikam.com', 'contoso.onmicrosoft.com'] },
    ],
    enterpriseNetworkDomainNames: [{ displayName: 'Network', resources: ['corp.contoso.com', 'region.contoso.com'] }],
    enterpriseProxyServers: [{ displayName: 'Internet proxies', resources: ['proxy.contoso.com:80', '192.0.2.10:8080', '[2001:DB8::10]:3128'] }],
    enterpriseInternalProxyServers: [{ displayName: 'Internal proxies', resources: ['contoso.internalproxy1.com', 'contoso.internalproxy2.com:8080'] }],
    neutralDomainResources: [{ displayName: 'Authentication', resources: ['sts.contoso.com', 'login.contoso.com'] }],
    smbAutoEncryptedFileExtensions: [{ displayName: 'Office', resources: ['.docx', '.xlsx', 'pptx'] }],
    enterpriseProxiedDomains: [
      {
        displayName: 'Cloud resources',
        proxiedDomains: [
          { ipAddressOrFQDN: 'contoso.sharepoint.com', proxy: 'contoso.internalproxy1.com' },
          { '@odata.type': 'microsoft.graph.proxiedDomain', ipAddressOrFQDN: 'contoso.visualstudio.com', proxy: 'contoso.internalproxy2.com:8080' },
          { ipAddressOrFQDN: 'contoso.onedrive.com' },
          { ipAddressOrFQDN: '/*AppCompat*/', proxy: null },
        ],
      },
    ],
    enterpriseIPRanges: [
      {
        displayName: 'Intranet',
        ranges: [
          { '@odata.type': '#microsoft.graph.iPv4Range', lowerAddress: '10.0.0.0', upperAddress: '10.255.255.255' },
          { '@odata.type': 'microsoft.graph.iPv4CidrRange', cidrAddress: '192.168.0.0/16' },
          { '@odata.type': '#microsoft.graph.iPv6Range', lowerAddress: '2001:4898:0000::', upperAddress: '2001:4898:7FFF:FFFF:FFFF:FFFF:FFFF:FFFF' },
          { '@odata.type': '#microsoft.graph.iPv6CidrRange', cidrAddress: 'fd00::/8' },
          { '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '157.54.0.0/16' },
        ],
      },
    ],
    enterpriseIPRangesAreAuthoritative: true,
    enterpriseProxyServersAreAuthoritative: false,
    protectedApps: [
      {
        '@odata.type': '#microsoft.graph.windowsInformationProtectionDesktopApp',
        displayName: 'Word',
        description: 'Microsoft Word & friends <desktop>',
        publisherName: 'O=MICROSOFT CORPORATION, L=REDMOND, S=WASHINGTON, C=US',
        productName: 'MICROSOFT OFFICE',
        binaryName: 'WINWORD.EXE',
        binaryVersionLow: '16.0',
        binaryVersionHigh: '*',
        denied: false,
      },
      {
        '@odata.type': '#microsoft.graph.windowsInformationProtectionDesktopApp',
        displayName: 'Old Notepad++ "7"',
        publisherName: 'CN="Notepad++", O="Notepad++", L=Saint Cloud, S=Ile-de-France, C=FR',
        productName: 'NOTEPAD++',
        binaryName: 'NOTEPAD++.EXE',
        binaryVersionLow: '7.0.0.0',
        binaryVersionHigh: '7.9.5.0',
        denied: true,
      },
      {
        '@odata.type': '#microsoft.graph.windowsInformationProtectionStoreApp',
        displayName: 'OneNote',
        publisherName: 'CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US',
        productName: 'Microsoft.Office.OneNote',
        denied: false,
      },
    ],
    exemptApps: [
      {
        '@odata.type': '#microsoft.graph.windowsInformationProtectionDesktopApp',
        displayName: 'Legacy line-of-business app',
        publisherName: 'O=CONTOSO LTD, L=REDMOND, S=WASHINGTON, C=US',
        productName: '*',
        binaryName: 'LOB.EXE',
        denied: false,
      },
      {
        '@odata.type': '#microsoft.graph.windowsInformationProtectionStoreApp',
        displayName: 'Contoso Store app',
        description: null,
        publisherName: 'CN=Contoso',
        productName: 'Contoso.App',
        denied: false,
      },
    ],
    dataRecoveryCertificate: {
      '@odata.type': '#microsoft.graph.windowsInformationProtectionDataRecoveryCertificate',
      subjectName: 'CN=OpenMAM Test Data Recovery Agent',
      description: 'Test DRA',
      expirationDateTime: '2126-10-29T11:22:35Z',
      certificate: DRA_CERTIFICATE_BASE64,
    },
    revokeOnUnenrollDisabled: false,
    rightsManagementServicesTemplateId: '8A6A1E5C-93B0-4A4C-9D22-6E9F3D1B2C4A',
    azureRightsManagementServicesAllowed: true,
    iconsVisible: true,
    revokeOnMdmHandoffDisabled: true,
    mdmEnrollmentUrl: 'https://enrollment.contoso.com/EnrollmentServer/Discovery.svc',
    windowsHelloForBusinessBlocked: false,
    pinMinimumLength: 6,
    pinUppercaseLetters: 'allow',
    pinLowercaseLetters: 'requireAtLeastOne',
    pinSpecialCharacters: 'notAllow',
    pinExpirationDays: 90,
    numberOfPastPinsRemembered: 5,
    passwordMaximumAttemptCount: 10,
    minutesOfInactivityBeforeDeviceLock: 15,
    daysWithoutContactBeforeUnenroll: 90,
  };
}

/** (b) The smallest MAM policy WIP can run with: enforcement level and the enterprise domain. */
export function minimalMamPolicy(): Record<string, unknown> {
  return {
    displayName: 'Minimal WIP',
    enforcementLevel: 'encryptAndAuditOnly',
    enterpriseDomain: 'contoso.com',
  };
}

/** (c) An MDM policy (mdmWindowsInformationProtectionPolicy): no PIN, device lock or DMClient settings exist here. */
export function mdmPolicy(): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.mdmWindowsInformationProtectionPolicy',
    displayName: 'Contoso WIP with enrollment',
    enforcementLevel: 'encryptAuditAndPrompt',
    enterpriseDomain: 'contoso.com',
    enterpriseProtectedDomainNames: [{ displayName: 'Identity', resources: ['contoso.com', 'fabrikam.com'] }],
    enterpriseNetworkDomainNames: [{ displayName: 'Network', resources: ['corp.contoso.com'] }],
    enterpriseIPRanges: [
      { displayName: 'Intranet', ranges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '10.0.0.0/8' }] },
    ],
    protectedApps: [
      {
        '@odata.type': '#microsoft.graph.windowsInformationProtectionStoreApp',
        displayName: 'Microsoft Edge',
        publisherName: 'CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US',
        productName: 'Microsoft.MicrosoftEdge',
      },
    ],
    dataRecoveryCertificate: { certificate: DRA_CERTIFICATE_BASE64 },
    revokeOnUnenrollDisabled: true,
    iconsVisible: false,
  };
}

/** (d) A custom configuration with one setting of each OMA type. */
export function customConfiguration(): Record<string, unknown> {
  const xml = '<?xml version="1.0" encoding="utf-8"?><RuleCollection Type="Exe" EnforcementMode="Enabled"><!-- a & b --></RuleCollection>';
  return {
    '@odata.type': '#microsoft.graph.windows10CustomConfiguration',
    displayName: 'Contoso custom settings',
    description: 'One of each OMA setting type',
    version: 3,
    omaSettings: [
      { '@odata.type': '#microsoft.graph.omaSettingString', displayName: 'Neutral resources', omaUri: './Device/Vendor/MSFT/Policy/Config/NetworkIsolation/NeutralResources', value: 'sts.contoso.com,login.contoso.com' },
      { '@odata.type': '#microsoft.graph.omaSettingInteger', displayName: 'Inactivity', omaUri: './Vendor/MSFT/Policy/Config/DeviceLock/MaxInactivityTimeDeviceLock', value: 15 },
      { '@odata.type': 'microsoft.graph.omaSettingBoolean', displayName: 'Use Windows Hello', omaUri: './User/Vendor/MSFT/PassportForWork/6f1c0e2a-8b7d-4c55-9a3e-2d4b1f0c9e77/Policies/UsePassportForWork', value: true },
      { '@odata.type': '#microsoft.graph.omaSettingBase64', displayName: 'Root certificate', omaUri: './Vendor/MSFT/RootCATrustedCertificates/Root/0123456789abcdef0123456789abcdef01234567/EncodedCertificate', fileName: 'root.cer', value: 'MIIBAA==' },
      { '@odata.type': '#microsoft.graph.omaSettingDateTime', displayName: 'Log start', omaUri: './Vendor/MSFT/Reporting/EnterpriseDataProtection/RetrieveByTimeRange/StartTime', value: '2024-05-01T00:00:00Z' },
      { '@odata.type': '#microsoft.graph.omaSettingFloatingPoint', displayName: 'A float', omaUri: './Vendor/MSFT/Contoso/Ratio', value: 0.75 },
      { '@odata.type': '#microsoft.graph.omaSettingStringXml', displayName: 'AppLocker Exe', omaUri: './Vendor/MSFT/AppLocker/EnterpriseDataProtection/ContosoEdpExempt/EXE/Policy', fileName: 'exe.xml', value: Buffer.from(xml, 'utf8').toString('base64') },
    ],
  };
}
