import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { compilePfxCertificate, compileScepCertificate, compileTrustedCertificate, pfxUniqueId } from '../../src/csp/compile/certificates.ts';
import { mamRefusal } from '../../src/csp/mam-allow-list.ts';
import { isOpenMamError } from '../../src/errors.ts';
import { validatePfxCertificate, validateScepCertificate, validateTrustedRootCertificate } from '../../src/policy/certificates.ts';
import type { ValidationMode } from '../../src/policy/validate.ts';
import { PFX_BASE64, PFX_PASSWORD, SCEP_CA_THUMBPRINT, scepProfile, sha1Thumbprint, testCertificates, type TestCertificates } from './certificate-fixtures.ts';

function refuses(validate: (input: unknown, mode: ValidationMode) => unknown, input: unknown, path: string, pattern?: RegExp, mode: ValidationMode = 'create'): void {
  assert.throws(
    () => validate(input, mode),
    (error: unknown) => {
      assert.ok(isOpenMamError(error), `expected OpenMamError, got ${String(error)}`);
      assert.equal(error.code, 'malformed_request');
      assert.ok(error.message.startsWith(`${path}: `), `message "${error.message}" does not start with "${path}: "`);
      if (pattern) assert.match(error.message, pattern);
      return true;
    },
  );
}

let certs: TestCertificates;
before(async () => {
  certs = await testCertificates();
});

const trusted = (change: Record<string, unknown> = {}): Record<string, unknown> => ({
  displayName: 'Contoso Root',
  trustedRootCertificate: certs.root,
  certFileName: 'contoso-root.cer',
  destinationStore: 'computerCertStoreRoot',
  ...change,
});

const pfx = (change: Record<string, unknown> = {}): Record<string, unknown> => ({
  displayName: 'Contoso client certificate',
  pfxCertificate: PFX_BASE64,
  password: PFX_PASSWORD,
  ...change,
});

describe('validateTrustedRootCertificate', () => {
  it('accepts a self-signed root for the Root store, @odata.type filled in, DER kept', () => {
    const profile = validateTrustedRootCertificate(trusted(), 'create');
    assert.equal(profile['@odata.type'], '#microsoft.graph.windows81TrustedRootCertificate');
    assert.equal(profile.trustedRootCertificate, certs.root);
    assert.equal(profile.destinationStore, 'computerCertStoreRoot');
  });

  it('accepts a PEM certificate (base64 of the PEM file) and keeps it as base64 DER', () => {
    const pem = `-----BEGIN CERTIFICATE-----\n${certs.root.replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
    const profile = validateTrustedRootCertificate(trusted({ trustedRootCertificate: Buffer.from(pem).toString('base64') }), 'create');
    assert.equal(profile.trustedRootCertificate, certs.root);
  });

  it('accepts an issued certificate for the intermediate stores', () => {
    for (const destinationStore of ['computerCertStoreIntermediate', 'userCertStoreIntermediate']) {
      assert.equal(validateTrustedRootCertificate(trusted({ trustedRootCertificate: certs.issued, destinationStore }), 'create').destinationStore, destinationStore);
    }
  });

  it('refuses garbage, a non-self-signed root, missing and unknown properties', () => {
    const v = validateTrustedRootCertificate;
    refuses(v, trusted({ trustedRootCertificate: Buffer.from('not a certificate').toString('base64') }), 'trustedRootCertificate', /not an X\.509 certificate/);
    refuses(v, trusted({ trustedRootCertificate: '!!!' }), 'trustedRootCertificate', /not base64/);
    refuses(v, trusted({ trustedRootCertificate: '' }), 'trustedRootCertificate', /must not be empty/);
    refuses(v, trusted({ trustedRootCertificate: certs.issued }), 'trustedRootCertificate', /not self-signed/);
    refuses(v, trusted({ destinationStore: 'userCertStoreRoot' }), 'destinationStore', /must be one of/);
    refuses(v, trusted({ certFileName: undefined }), 'certFileName', /is required/);
    refuses(v, trusted({ displayName: '' }), 'displayName', /must not be empty/);
    refuses(v, trusted({ roleScopeTagIds: 'tag' }), 'roleScopeTagIds', /must be an array of Edm.String/);
    refuses(v, trusted({ scopeTags: [] }), 'scopeTags', /not a property of windows81TrustedRootCertificate/);
    refuses(v, trusted({ '@odata.type': '#microsoft.graph.windows10CustomConfiguration' }), '@odata.type');
  });

  it('accepts a PATCH subset', () => {
    assert.deepEqual(validateTrustedRootCertificate({ displayName: 'Renamed' }, 'update'), { '@odata.type': '#microsoft.graph.windows81TrustedRootCertificate', displayName: 'Renamed' });
    refuses(validateTrustedRootCertificate, { trustedRootCertificate: 'AAAA' }, 'trustedRootCertificate', /X\.509/, 'update');
  });
});

describe('compileTrustedCertificate', () => {
  it('writes EncodedCertificate under the store and the upper-case SHA-1 thumbprint', () => {
    const thumbprint = sha1Thumbprint(certs.root);
    assert.match(thumbprint, /^[0-9A-F]{40}$/);
    assert.deepEqual(compileTrustedCertificate(validateTrustedRootCertificate(trusted(), 'create')), [
      { locUri: `./Vendor/MSFT/RootCATrustedCertificates/Root/${thumbprint}/EncodedCertificate`, format: 'b64', value: certs.root },
    ]);
  });

  it('uses CA for the intermediate stores, ./User for the user one, all allowed to MAM', () => {
    const thumbprint = sha1Thumbprint(certs.issued);
    const computer = compileTrustedCertificate({ trustedRootCertificate: certs.issued, destinationStore: 'computerCertStoreIntermediate' });
    const user = compileTrustedCertificate({ trustedRootCertificate: certs.issued, destinationStore: 'userCertStoreIntermediate' });
    assert.equal(computer[0]?.locUri, `./Vendor/MSFT/RootCATrustedCertificates/CA/${thumbprint}/EncodedCertificate`);
    assert.equal(user[0]?.locUri, `./User/Vendor/MSFT/RootCATrustedCertificates/CA/${thumbprint}/EncodedCertificate`);
    for (const setting of [...computer, ...user]) assert.equal(mamRefusal(setting.locUri), undefined);
  });
});

describe('validatePfxCertificate', () => {
  it('accepts a PFX, software KSP by default', () => {
    const profile = validatePfxCertificate(pfx(), 'create');
    assert.equal(profile['@odata.type'], '#microsoft.graph.windows10ImportedPFXCertificateProfile');
    assert.equal(profile.pfxCertificate, PFX_BASE64);
    assert.equal(profile.keyStorageProvider, 'useSoftwareKsp');
    assert.equal(validatePfxCertificate(pfx({ keyStorageProvider: 'useTpmKspOtherwiseUseSoftwareKsp' }), 'create').keyStorageProvider, 'useTpmKspOtherwiseUseSoftwareKsp');
  });

  it('refuses what is not a PFX, an empty password, other key storage providers', () => {
    const v = validatePfxCertificate;
    refuses(v, pfx({ pfxCertificate: certs.root }), 'pfxCertificate', /not a PKCS#12/);
    refuses(v, pfx({ pfxCertificate: Buffer.from('garbage').toString('base64') }), 'pfxCertificate', /not a PKCS#12/);
    refuses(v, pfx({ pfxCertificate: Buffer.from(PFX_BASE64, 'base64').subarray(0, 100).toString('base64') }), 'pfxCertificate', /not a PKCS#12/);
    refuses(v, pfx({ pfxCertificate: '' }), 'pfxCertificate', /must not be empty/);
    refuses(v, pfx({ password: '' }), 'password', /must not be empty/);
    refuses(v, pfx({ password: undefined }), 'password', /is required/);
    refuses(v, pfx({ keyStorageProvider: 'useTpmKspOtherwiseFail' }), 'keyStorageProvider', /must be one of/);
  });
});

describe('compilePfxCertificate', () => {
  it('installs to the user store in one Atomic, password unencrypted, UniqueID from the policy id', () => {
    const id = '6f1c2a9e-3b7d-4e59-9a0c-2d8e4f7b1a35';
    const node = `./User/Vendor/MSFT/ClientCertificateInstall/PFXCertInstall/${pfxUniqueId(id)}`;
    const settings = compilePfxCertificate({ ...validatePfxCertificate(pfx({ keyStorageProvider: 'useTpmKspOtherwiseUseSoftwareKsp' }), 'create'), id });
    assert.deepEqual(
      settings.map((s) => [s.locUri, s.format, s.value]),
      [
        [`${node}/KeyLocation`, 'int', '2'],
        [`${node}/PFXCertPasswordEncryptionType`, 'int', '0'],
        [`${node}/PFXCertPassword`, 'chr', PFX_PASSWORD],
        [`${node}/PFXCertBlob`, 'b64', PFX_BASE64],
      ],
    );
    assert.equal(new Set(settings.map((s) => s.atomicGroup)).size, 1);
    assert.ok(settings[0]?.atomicGroup);
    assert.equal(compilePfxCertificate({ ...validatePfxCertificate(pfx(), 'create'), id })[0]?.value, '3', 'software KSP');
    assert.deepEqual(compilePfxCertificate({ ...validatePfxCertificate(pfx(), 'create'), id }).map((s) => s.locUri), settings.map((s) => s.locUri), 'deterministic');
    for (const setting of settings) assert.equal(mamRefusal(setting.locUri), undefined);
  });
});

const minimalScep = (change: Record<string, unknown> = {}): Record<string, unknown> => ({
  displayName: 'SCEP',
  scepServerUrls: ['https://scep.contoso.example/scep'],
  challenge: 'secret',
  caThumbprint: SCEP_CA_THUMBPRINT,
  subjectNameFormatString: 'CN=MAM user',
  extendedKeyUsages: [{ name: 'Client Authentication', objectIdentifier: '1.3.6.1.5.5.7.3.2' }],
  keyUsage: 'digitalSignature',
  ...change,
});

describe('validateScepCertificate', () => {
  it('accepts a full profile: thumbprint normalised, flags in canonical order, @odata.type filled in', () => {
    const profile = validateScepCertificate(scepProfile(), 'create');
    assert.equal(profile['@odata.type'], '#microsoft.graph.windows81SCEPCertificateProfile');
    assert.equal(profile.caThumbprint, SCEP_CA_THUMBPRINT);
    assert.equal(profile.keyUsage, 'keyEncipherment,digitalSignature');
    assert.equal(profile.customSubjectAlternativeNames[0]?.['@odata.type'], '#microsoft.graph.customSubjectAlternativeName');
  });

  it('fills in the defaults of a minimal profile: user store, software KSP, 2048 bits, SHA-2, custom subject', () => {
    const profile = validateScepCertificate(minimalScep(), 'create');
    assert.equal(profile.certificateStore, 'user');
    assert.equal(profile.keyStorageProvider, 'useSoftwareKsp');
    assert.equal(profile.keySize, 'size2048');
    assert.equal(profile.hashAlgorithm, 'sha2');
    assert.equal(profile.subjectNameFormat, 'custom');
    assert.deepEqual(profile.customSubjectAlternativeNames, []);
  });

  it('refuses what cannot work on a MAM device or cannot be sent, naming the field', () => {
    const v = validateScepCertificate;
    refuses(v, minimalScep({ keyStorageProvider: 'useTpmKspOtherwiseFail' }), 'keyStorageProvider', /not available to MAM devices/);
    refuses(v, minimalScep({ keyStorageProvider: 'usePassportForWorkKspOtherwiseFail' }), 'keyStorageProvider', /Windows Hello for Business/);
    refuses(v, minimalScep({ subjectNameFormat: 'commonNameIncludingEmail' }), 'subjectNameFormat', /only custom/);
    refuses(v, minimalScep({ subjectNameFormatString: 'CN={{UserPrincipalName}}' }), 'subjectNameFormatString', /Intune variables/);
    refuses(v, minimalScep({ subjectAlternativeNameType: 'userPrincipalName' }), 'subjectAlternativeNameType', /only none/);
    refuses(v, minimalScep({ customSubjectAlternativeNames: [{ sanType: 'emailAddress', name: 'a@b.example;c@d.example' }] }), 'customSubjectAlternativeNames[0].name', /list separator/);
    refuses(v, minimalScep({ customSubjectAlternativeNames: [{ sanType: 'customAzureADAttribute', name: 'x' }] }), 'customSubjectAlternativeNames[0].sanType', /must be one of/);
    refuses(v, minimalScep({ scepServerUrls: [] }), 'scepServerUrls', /at least 1/);
    refuses(v, minimalScep({ scepServerUrls: ['ftp://scep.contoso.example'] }), 'scepServerUrls[0]', /http or https/);
    refuses(v, minimalScep({ scepServerUrls: ['https://a.example/x;y'] }), 'scepServerUrls[0]', /";"/);
    refuses(v, minimalScep({ scepServerUrls: ['https://user:pw@a.example/'] }), 'scepServerUrls[0]', /credentials/);
    refuses(v, minimalScep({ caThumbprint: 'ABCD' }), 'caThumbprint', /40 hexadecimal digits/);
    refuses(v, minimalScep({ extendedKeyUsages: [] }), 'extendedKeyUsages', /at least 1/);
    refuses(v, minimalScep({ extendedKeyUsages: [{ name: 'x', objectIdentifier: '1.3.6.01' }] }), 'extendedKeyUsages[0].objectIdentifier', /object identifier/);
    refuses(v, minimalScep({ keyUsage: 'nonRepudiation' }), 'keyUsage', /keyEncipherment, digitalSignature/);
    refuses(v, minimalScep({ keyUsage: 'digitalSignature,digitalSignature' }), 'keyUsage', /twice/);
    refuses(v, minimalScep({ hashAlgorithm: 'md5' }), 'hashAlgorithm', /sha1, sha2/);
    refuses(v, minimalScep({ keySize: 'size512' }), 'keySize', /must be one of/);
    refuses(v, minimalScep({ challenge: '' }), 'challenge', /must not be empty/);
    refuses(v, minimalScep({ challenge: undefined }), 'challenge', /is required/);
    refuses(v, minimalScep({ scepRetryCount: 31 }), 'scepRetryCount', /between 0 and 30/);
    refuses(v, minimalScep({ scepRetryDelayMinutes: 0 }), 'scepRetryDelayMinutes', /between 1 and 1440/);
    refuses(v, minimalScep({ certificateValidityPeriodValue: 2 }), 'certificateValidityPeriodScale', /is required with/);
    refuses(v, minimalScep({ certificateValidityPeriodScale: 'days' }), 'certificateValidityPeriodValue', /is required with/);
    refuses(v, minimalScep({ renewalThresholdPercentage: '20' }), 'renewalThresholdPercentage', /must be an integer/);
    refuses(v, minimalScep({ renewalThreshold: 20 }), 'renewalThreshold', /not a property/);
    refuses(v, minimalScep({ certificateStore: 'both' }), 'certificateStore', /must be one of/);
  });

  it('accepts a PATCH subset', () => {
    assert.deepEqual(validateScepCertificate({ challenge: 'new' }, 'update'), { '@odata.type': '#microsoft.graph.windows81SCEPCertificateProfile', challenge: 'new' });
    refuses(validateScepCertificate, { keyUsage: 'x' }, 'keyUsage', undefined, 'update');
  });
});

describe('compileScepCertificate', () => {
  const id = '6f1c2a9e-3b7d-4e59-9a0c-2d8e4f7b1a35';
  const compile = (change: Record<string, unknown> = {}) => compileScepCertificate({ ...validateScepCertificate(minimalScep(change), 'create'), id });

  it('maps the minimal profile: node, required Install values with defaults, Enroll last, all allowed to MAM', () => {
    const settings = compile();
    const node = settings[0]!.locUri;
    assert.match(node, new RegExp(`^\\./User/Vendor/MSFT/ClientCertificateInstall/SCEP/${pfxUniqueId(id)}-[0-9a-f]{12}$`));
    assert.deepEqual(
      settings.map((s) => [s.locUri.slice(node.length) || '(node)', s.format, s.value, s.exec === true]),
      [
        ['(node)', 'node', '', false],
        ['/Install/ServerURL', 'chr', 'https://scep.contoso.example/scep', false],
        ['/Install/Challenge', 'chr', 'secret', false],
        ['/Install/EKUMapping', 'chr', '1.3.6.1.5.5.7.3.2', false],
        ['/Install/KeyUsage', 'int', '128', false],
        ['/Install/SubjectName', 'chr', 'CN=MAM user', false],
        ['/Install/KeyProtection', 'int', '3', false],
        ['/Install/KeyLength', 'int', '2048', false],
        ['/Install/HashAlgorithm', 'chr', 'SHA-2', false],
        ['/Install/CAThumbprint', 'chr', SCEP_CA_THUMBPRINT, false],
        ['/Install/Enroll', 'null', '', true],
      ],
    );
    assert.equal(new Set(settings.map((s) => s.atomicGroup)).size, 1);
    for (const setting of settings) assert.equal(mamRefusal(setting.locUri), undefined);
  });

  it('puts a machine profile under ./Device (normalised ./Vendor); maps both flags, hashes and key sizes', () => {
    const settings = compile({ certificateStore: 'machine', keyUsage: 'keyEncipherment,digitalSignature', hashAlgorithm: 'sha1,sha2', keySize: 'size4096' });
    assert.ok(settings.every((s) => s.locUri.startsWith('./Vendor/MSFT/ClientCertificateInstall/SCEP/')));
    const value = (name: string) => settings.find((s) => s.locUri.endsWith(`/Install/${name}`))?.value;
    assert.equal(value('KeyUsage'), '160');
    assert.equal(value('HashAlgorithm'), 'SHA-1+SHA-2');
    assert.equal(value('KeyLength'), '4096');
  });

  it('names a new UniqueID when an Install value changes (a new enrollment request), the same one otherwise', () => {
    const node = (change: Record<string, unknown> = {}) => compile(change)[0]!.locUri;
    assert.equal(node(), node({ displayName: 'Renamed', description: 'not sent to the device' }));
    assert.notEqual(node(), node({ challenge: 'another' }));
    assert.notEqual(node(), node({ subjectNameFormatString: 'CN=Other' }));
  });
});
