import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { compilePfxCertificate, compileTrustedCertificate, pfxUniqueId } from '../../src/csp/compile/certificates.ts';
import { mamRefusal } from '../../src/csp/mam-allow-list.ts';
import { isOpenMamError } from '../../src/errors.ts';
import { validatePfxCertificate, validateTrustedRootCertificate } from '../../src/policy/certificates.ts';
import type { ValidationMode } from '../../src/policy/validate.ts';
import { PFX_BASE64, PFX_PASSWORD, sha1Thumbprint, testCertificates, type TestCertificates } from './certificate-fixtures.ts';

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
    refuses(v, trusted({ roleScopeTagIds: [] }), 'roleScopeTagIds', /not a property of windows81TrustedRootCertificate/);
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
