import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOpenMamError } from '../../src/errors.ts';
import type { ValidationMode } from '../../src/policy/validate.ts';
import { validateWipPolicy, type WipPolicyKind } from '../../src/policy/wip.ts';
import { DRA_CERTIFICATE_BASE64, fullMamPolicy, mdmPolicy, minimalMamPolicy } from './fixtures.ts';

/** The validator refuses `input` with a malformed_request whose message starts with `path: `. */
function refuses(input: unknown, path: string, pattern?: RegExp, kind: WipPolicyKind = 'mam', mode: ValidationMode = 'create'): void {
  assert.throws(
    () => validateWipPolicy(input, kind, mode),
    (error: unknown) => {
      assert.ok(isOpenMamError(error), `expected OpenMamError, got ${String(error)}`);
      assert.equal(error.code, 'malformed_request');
      assert.ok(error.message.startsWith(`${path}: `), `message "${error.message}" does not start with "${path}: "`);
      if (pattern) assert.match(error.message, pattern);
      return true;
    },
  );
}

const full = (change: Record<string, unknown>): Record<string, unknown> => ({ ...fullMamPolicy(), ...change });
const minimal = (change: Record<string, unknown>): Record<string, unknown> => ({ ...minimalMamPolicy(), ...change });
const domains = (...resources: unknown[]): unknown[] => [{ displayName: 'd', resources }];
const ranges = (...items: unknown[]): unknown[] => [{ displayName: 'r', ranges: items }];
const v4 = (lowerAddress: string, upperAddress: string) => ({ '@odata.type': '#microsoft.graph.iPv4Range', lowerAddress, upperAddress });
const desktopApp = (change: Record<string, unknown> = {}) => ({
  '@odata.type': '#microsoft.graph.windowsInformationProtectionDesktopApp',
  displayName: 'App',
  publisherName: 'O=CONTOSO',
  productName: 'APP',
  binaryName: 'APP.EXE',
  ...change,
});

describe('validateWipPolicy: accepts and normalises', () => {
  it('accepts the full MAM policy and the MDM policy', () => {
    const mam = validateWipPolicy(fullMamPolicy(), 'mam', 'create');
    assert.equal(mam['@odata.type'], '#microsoft.graph.windowsInformationProtectionPolicy');
    assert.equal(mam.pinMinimumLength, 6);
    const mdm = validateWipPolicy(mdmPolicy(), 'mdm', 'create');
    assert.equal(mdm['@odata.type'], '#microsoft.graph.mdmWindowsInformationProtectionPolicy');
  });

  it('fills in @odata.type and defaults, and writes @odata.type values with their #', () => {
    const policy = validateWipPolicy(minimal({ protectedApps: [{ ...desktopApp(), '@odata.type': 'microsoft.graph.windowsInformationProtectionDesktopApp', productName: undefined }] }), 'mam', 'create');
    assert.equal(Object.keys(policy)[0], '@odata.type');
    const app = policy.protectedApps?.[0];
    assert.equal(app?.['@odata.type'], '#microsoft.graph.windowsInformationProtectionDesktopApp');
    assert.equal(app?.denied, false, 'denied defaults to false');
    assert.equal(app?.productName, '*', 'a desktop productName defaults to *');
  });

  it('keeps IDNs in the CSP canonical form, IPs canonical, GUIDs lower-case, versions four-part', () => {
    const policy = validateWipPolicy(fullMamPolicy(), 'mam', 'create');
    assert.deepEqual(policy.enterpriseProtectedDomainNames?.[0]?.resources.slice(2), ['bücher.example', 'café.example']);
    assert.deepEqual(policy.enterpriseIPRanges?.[0]?.ranges[2], {
      '@odata.type': '#microsoft.graph.iPv6Range',
      lowerAddress: '2001:4898::',
      upperAddress: '2001:4898:7fff:ffff:ffff:ffff:ffff:ffff',
    });
    assert.equal(policy.enterpriseProxyServers?.[0]?.resources[2], '[2001:db8::10]:3128');
    assert.equal(policy.rightsManagementServicesTemplateId, '8a6a1e5c-93b0-4a4c-9d22-6e9f3d1b2c4a');
    const word = policy.protectedApps?.[0];
    assert.equal(word?.['@odata.type'] === '#microsoft.graph.windowsInformationProtectionDesktopApp' ? word.binaryVersionLow : undefined, '16.0.0.0');
  });

  it('accepts a base64url certificate and keeps standard base64', () => {
    const url = Buffer.from(DRA_CERTIFICATE_BASE64, 'base64').toString('base64url');
    const policy = validateWipPolicy(minimal({ dataRecoveryCertificate: { certificate: url } }), 'mam', 'create');
    assert.equal(policy.dataRecoveryCertificate?.certificate, DRA_CERTIFICATE_BASE64);
  });

  it('update (PATCH): any subset, null clears a nullable property, field rules still apply', () => {
    assert.deepEqual(validateWipPolicy({ pinMinimumLength: 8, mdmEnrollmentUrl: null }, 'mam', 'update'), {
      '@odata.type': '#microsoft.graph.windowsInformationProtectionPolicy',
      mdmEnrollmentUrl: null,
      pinMinimumLength: 8,
    });
    refuses({ pinMinimumLength: 2 }, 'pinMinimumLength', /between 4 and 127/, 'mam', 'update');
    refuses({ enforcementLevel: null }, 'enforcementLevel', /must not be null/, 'mam', 'update');
  });
});

describe('validateWipPolicy: refusals name the field', () => {
  it('the document is not an object', () => {
    refuses([], '$', /must be an object/);
    refuses('policy', '$', /must be an object/);
  });

  it('unknown properties, top-level and nested, and MAM properties on an MDM policy', () => {
    refuses(full({ protectionUnderLockConfigRequired: 'yes' }), 'protectionUnderLockConfigRequired', /must be true or false/);
    refuses(full({ protectionUnderLock: true }), 'protectionUnderLock', /not a property of windowsInformationProtectionPolicy/);
    refuses(full(JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>), '__proto__', /not a property/);
    refuses(minimal({ enterpriseIPRanges: [{ displayName: 'x', ranges: [], extra: 1 }] }), 'enterpriseIPRanges[0].extra', /not a property of windowsInformationProtectionIPRangeCollection/);
    refuses({ ...mdmPolicy(), pinMinimumLength: 6 }, 'pinMinimumLength', /not a property of mdmWindowsInformationProtectionPolicy/, 'mdm');
  });

  it('missing required properties', () => {
    refuses({ enforcementLevel: 'noProtection' }, 'displayName', /is required/);
    refuses({ displayName: 'x' }, 'enforcementLevel', /is required/);
    refuses(minimal({ enterpriseIPRanges: [{ displayName: 'x' }] }), 'enterpriseIPRanges[0].ranges', /is required/);
    refuses(minimal({ dataRecoveryCertificate: { subjectName: 'CN=x' } }), 'dataRecoveryCertificate.certificate', /is required/);
  });

  it('wrong types', () => {
    refuses(full({ iconsVisible: 'yes' }), 'iconsVisible', /must be true or false/);
    refuses(full({ displayName: 42 }), 'displayName', /must be a string/);
    refuses(full({ enterpriseNetworkDomainNames: { resources: [] } }), 'enterpriseNetworkDomainNames', /must be an array/);
    refuses(full({ enterpriseNetworkDomainNames: domains(7) }), 'enterpriseNetworkDomainNames[0].resources[0]', /must be a string/);
    refuses(full({ pinExpirationDays: '90' }), 'pinExpirationDays', /must be an integer/);
    refuses(full({ pinExpirationDays: 4.5 }), 'pinExpirationDays', /must be an integer/);
    refuses(full({ iconsVisible: null }), 'iconsVisible', /must not be null/);
  });

  it('invalid enum values', () => {
    refuses(full({ enforcementLevel: 'encrypt' }), 'enforcementLevel', /one of noProtection, encryptAndAuditOnly/);
    refuses(full({ pinUppercaseLetters: 'required' }), 'pinUppercaseLetters', /one of notAllow, requireAtLeastOne, allow/);
  });

  it('numbers outside the Graph/CSP ranges', () => {
    const cases: Array<[string, number, RegExp]> = [
      ['pinMinimumLength', 3, /between 4 and 127/],
      ['pinMinimumLength', 128, /between 4 and 127/],
      ['numberOfPastPinsRemembered', 51, /between 0 and 50/],
      ['pinExpirationDays', 731, /between 0 and 730/],
      ['pinExpirationDays', -1, /between 0 and 730/],
      ['minutesOfInactivityBeforeDeviceLock', 1000, /between 0 and 999/],
      ['passwordMaximumAttemptCount', 1000, /between 0 and 999/],
      ['daysWithoutContactBeforeUnenroll', -1, /between 0 and 2147483647/],
      ['daysWithoutContactBeforeUnenroll', 2 ** 31, /between 0 and 2147483647/],
    ];
    for (const [field, value, pattern] of cases) refuses(full({ [field]: value }), field, pattern);
    for (const [field, value] of [['pinMinimumLength', 4], ['pinMinimumLength', 127], ['numberOfPastPinsRemembered', 0], ['pinExpirationDays', 730]] as const) {
      assert.equal(validateWipPolicy(full({ [field]: value }), 'mam', 'create')[field], value);
    }
  });

  it('non-canonical or invalid domain names', () => {
    refuses(full({ enterpriseDomain: 'Contoso.com' }), 'enterpriseDomain', /canonical \(lower-case\): "contoso.com"/);
    refuses(full({ enterpriseProtectedDomainNames: domains('contoso.com', 'FABRIKAM.COM') }), 'enterpriseProtectedDomainNames[0].resources[1]', /lower-case/);
    refuses(full({ enterpriseNetworkDomainNames: domains('corp.contoso.com.') }), 'enterpriseNetworkDomainNames[0].resources[0]', /must not start or end with "."/);
    refuses(full({ neutralDomainResources: domains('-bad.contoso.com') }), 'neutralDomainResources[0].resources[0]', /label "-bad"/);
    refuses(full({ neutralDomainResources: domains('sts_1.contoso.com') }), 'neutralDomainResources[0].resources[0]', /not a valid domain name/);
    refuses(full({ enterpriseDomain: '10.0.0.1' }), 'enterpriseDomain', /numeric top-level label/);
    refuses(full({ enterpriseDomain: '' }), 'enterpriseDomain', /must not be empty/);
    refuses(full({ enterpriseDomain: `${'a'.repeat(64)}.com` }), 'enterpriseDomain', /not a valid domain name/);
  });

  it('invalid proxies and cloud resources', () => {
    refuses(full({ enterpriseProxyServers: domains('proxy.contoso.com:0') }), 'enterpriseProxyServers[0].resources[0]', /port "0" must be 1-65535/);
    refuses(full({ enterpriseProxyServers: domains('[2001:db8::1') }), 'enterpriseProxyServers[0].resources[0]', /bracketed IPv6/);
    refuses(full({ enterpriseProxyServers: domains('Proxy.contoso.com') }), 'enterpriseProxyServers[0].resources[0]', /lower-case/);
    refuses(
      full({ enterpriseProxiedDomains: [{ proxiedDomains: [{ ipAddressOrFQDN: 'x|y.com' }] }] }),
      'enterpriseProxiedDomains[0].proxiedDomains[0].ipAddressOrFQDN',
      /not a valid domain name/,
    );
    refuses(full({ smbAutoEncryptedFileExtensions: domains('.docx;.exe') }), 'smbAutoEncryptedFileExtensions[0].resources[0]', /not a file extension/);
  });

  it('IP ranges: reversed, mixed families, not addresses', () => {
    refuses(full({ enterpriseIPRanges: ranges(v4('10.0.0.1', '10.0.0.255'), v4('10.0.1.0', '10.0.0.255')) }), 'enterpriseIPRanges[0].ranges[1].upperAddress', /below lowerAddress 10.0.1.0/);
    refuses(full({ enterpriseIPRanges: ranges(v4('10.0.0.1', '2001:db8::1')) }), 'enterpriseIPRanges[0].ranges[0].upperAddress', /IPv6 address in an IPv4 range/);
    refuses(
      full({ enterpriseIPRanges: ranges({ '@odata.type': '#microsoft.graph.iPv6Range', lowerAddress: '10.0.0.1', upperAddress: '::1' }) }),
      'enterpriseIPRanges[0].ranges[0].lowerAddress',
      /IPv4 address in an IPv6 range/,
    );
    refuses(full({ enterpriseIPRanges: ranges(v4('10.0.0.01', '10.0.0.2')) }), 'enterpriseIPRanges[0].ranges[0].lowerAddress', /not an IP address/);
    refuses(full({ enterpriseIPRanges: ranges(v4('10.0.0.256', '10.0.0.2')) }), 'enterpriseIPRanges[0].ranges[0].lowerAddress', /not an IP address/);
    refuses(full({ enterpriseIPRanges: ranges({ lowerAddress: '10.0.0.1', upperAddress: '10.0.0.2' }) }), 'enterpriseIPRanges[0].ranges[0].@odata.type', /is required/);
    refuses(full({ enterpriseIPRanges: ranges({ '@odata.type': '#microsoft.graph.ipRange' }) }), 'enterpriseIPRanges[0].ranges[0].@odata.type', /must be one of/);
    refuses(full({ enterpriseIPRanges: ranges({ ...v4('10.0.0.1', '10.0.0.2'), cidrAddress: '10.0.0.0/8' }) }), 'enterpriseIPRanges[0].ranges[0].cidrAddress', /not a property of iPv4Range/);
  });

  it('CIDR blocks: bad prefix, host bits, wrong family', () => {
    const cidr = (type: string, cidrAddress: string) => full({ enterpriseIPRanges: ranges({ '@odata.type': `#microsoft.graph.${type}`, cidrAddress }) });
    refuses(cidr('iPv4CidrRange', '10.0.0.0/33'), 'enterpriseIPRanges[0].ranges[0].cidrAddress', /prefix 0-32/);
    refuses(cidr('iPv4CidrRange', '10.1.2.3/8'), 'enterpriseIPRanges[0].ranges[0].cidrAddress', /host bits set; the block is 10.0.0.0\/8/);
    refuses(cidr('iPv4CidrRange', '2001:db8::/32'), 'enterpriseIPRanges[0].ranges[0].cidrAddress', /not an IPv4 CIDR block/);
    refuses(cidr('iPv6CidrRange', 'fd00::/129'), 'enterpriseIPRanges[0].ranges[0].cidrAddress', /prefix 0-128/);
    refuses(cidr('iPv6CidrRange', '10.0.0.0'), 'enterpriseIPRanges[0].ranges[0].cidrAddress', /not an IPv6 CIDR block/);
  });

  it('invalid GUIDs', () => {
    refuses(full({ rightsManagementServicesTemplateId: '{8a6a1e5c-93b0-4a4c-9d22-6e9f3d1b2c4a}' }), 'rightsManagementServicesTemplateId', /must be a GUID/);
    refuses(full({ rightsManagementServicesTemplateId: '8a6a1e5c93b04a4c9d226e9f3d1b2c4a' }), 'rightsManagementServicesTemplateId', /must be a GUID/);
  });

  it('invalid certificates', () => {
    const withCertificate = (certificate: unknown) => full({ dataRecoveryCertificate: { certificate } });
    refuses(withCertificate('not base64!'), 'dataRecoveryCertificate.certificate', /not base64/);
    refuses(withCertificate(''), 'dataRecoveryCertificate.certificate', /must not be empty/);
    refuses(withCertificate(Buffer.from('hello, world').toString('base64')), 'dataRecoveryCertificate.certificate', /not a DER X.509 certificate/);
    const pem = `-----BEGIN CERTIFICATE-----\n${DRA_CERTIFICATE_BASE64}\n-----END CERTIFICATE-----\n`;
    refuses(withCertificate(Buffer.from(pem).toString('base64')), 'dataRecoveryCertificate.certificate', /exactly one DER certificate|not a DER/);
    const trailing = Buffer.concat([Buffer.from(DRA_CERTIFICATE_BASE64, 'base64'), Buffer.from([0, 0])]).toString('base64');
    refuses(withCertificate(trailing), 'dataRecoveryCertificate.certificate', /exactly one DER certificate|not a DER/);
    refuses(full({ dataRecoveryCertificate: { certificate: DRA_CERTIFICATE_BASE64, expirationDateTime: '2126-02-30T00:00:00Z' } }), 'dataRecoveryCertificate.expirationDateTime', /not a date/);
  });

  it('invalid URLs: mdmEnrollmentUrl must be https', () => {
    refuses(full({ mdmEnrollmentUrl: 'http://enrollment.contoso.com/' }), 'mdmEnrollmentUrl', /https URL, not http:/);
    refuses(full({ mdmEnrollmentUrl: 'enrollment.contoso.com' }), 'mdmEnrollmentUrl', /not an absolute URL/);
    refuses(full({ mdmEnrollmentUrl: 'https://user:secret@enrollment.contoso.com/' }), 'mdmEnrollmentUrl', /credentials/);
  });

  it('apps: discriminator, empty names, XML-hostile text, versions', () => {
    refuses(minimal({ protectedApps: [{ displayName: 'x' }] }), 'protectedApps[0].@odata.type', /is required/);
    refuses(minimal({ protectedApps: [desktopApp({ '@odata.type': '#microsoft.graph.windowsInformationProtectionApp' })] }), 'protectedApps[0].@odata.type', /must be one of/);
    refuses(minimal({ exemptApps: [desktopApp({ publisherName: '' })] }), 'exemptApps[0].publisherName', /must not be empty/);
    refuses(minimal({ exemptApps: [desktopApp({ displayName: 'a\u0001b' })] }), 'exemptApps[0].displayName', /control character/);
    refuses(minimal({ exemptApps: [desktopApp({ displayName: 'two\nlines' })] }), 'exemptApps[0].displayName', /one line/);
    refuses(minimal({ protectedApps: [desktopApp({ binaryVersionLow: '1.2.3.4.5' })] }), 'protectedApps[0].binaryVersionLow', /not a version/);
    refuses(minimal({ protectedApps: [desktopApp({ binaryVersionHigh: '70000' })] }), 'protectedApps[0].binaryVersionHigh', /not a version/);
    refuses(minimal({ protectedApps: [desktopApp({ binaryVersionLow: '2.0', binaryVersionHigh: '1.9.9' })] }), 'protectedApps[0].binaryVersionHigh', /1.9.9.0 is below binaryVersionLow 2.0.0.0/);
    refuses(
      minimal({ protectedApps: [{ '@odata.type': '#microsoft.graph.windowsInformationProtectionStoreApp', displayName: 'x', publisherName: 'CN=x', productName: 'x', binaryName: 'x.exe' }] }),
      'protectedApps[0].binaryName',
      /not a property of windowsInformationProtectionStoreApp/,
    );
  });

  it('@odata.type of the policy must match its kind', () => {
    refuses(mdmPolicy(), '@odata.type', /must be "#microsoft.graph.windowsInformationProtectionPolicy"/, 'mam');
  });

  it('cross-property rules of a complete policy', () => {
    const noDomain = minimal({ enterpriseDomain: undefined });
    refuses(noDomain, 'enterpriseDomain', /required when enforcementLevel is encryptAndAuditOnly/);
    assert.equal(validateWipPolicy({ ...noDomain, enforcementLevel: 'noProtection' }, 'mam', 'create').enterpriseDomain, undefined);
    refuses(
      full({ enterpriseProxiedDomains: [{ proxiedDomains: [{ ipAddressOrFQDN: 'contoso.sharepoint.com', proxy: 'other.contoso.com' }] }] }),
      'enterpriseProxiedDomains[0].proxiedDomains[0].proxy',
      /not one of the enterpriseInternalProxyServers/,
    );
    refuses(full({ enterpriseProxyServers: domains('proxy.contoso.com:80', 'contoso.internalproxy1.com') }), 'enterpriseProxyServers[0].resources[1]', /also an enterprise internal proxy server/);
  });
});
