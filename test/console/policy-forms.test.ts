import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { POLICY_COLLECTIONS, POLICY_KINDS, appProtectionTemplate } from '../../src/core/policy-kinds/index.ts';
import { CONFIGURATION_TOKENS as SERVER_TOKENS } from '../../src/policy/app-protection.ts';
import { COLLECTIONS, CONFIGURATION_TOKENS, defaultsOf, type PolicyKind } from '../../web/src/pages/policies/kinds.ts';
import { bodyOf, formValues, type FormValue, type Row } from '../../web/src/pages/policies/form-model.ts';

/**
 * The console's Policies forms (web/src/pages/policies) against the server's registry and validators: the console
 * mirrors the registry's collections and kinds, so these tests fail when the two drift apart, and what the forms send
 * is what the validators accept.
 */
const kindByType = (odataType: string): PolicyKind => {
  for (const collection of COLLECTIONS) for (const kind of collection.kinds) if (kind.odataType === odataType) return kind;
  throw new Error(`the console has no kind ${odataType}`);
};

const declarationOf = (odataType: string) => {
  const declaration = POLICY_KINDS.find((d) => d.odataType === odataType);
  if (declaration === undefined) throw new Error(`the server has no kind ${odataType}`);
  return declaration;
};

describe('console policy forms', () => {
  it('lists every policy collection and kind of the registry, with its path, assignment type and target apps', () => {
    assert.deepEqual(
      COLLECTIONS.map((c) => ({ path: c.path, kinds: c.kinds.map((k) => k.odataType), assignment: c.assignmentType, delivery: c.delivery, targetApps: c.targetApps, reachesMamDevices: c.reachesMamDevices ?? true })),
      POLICY_COLLECTIONS.map((c) => ({
        path: `/${c.path}`,
        kinds: POLICY_KINDS.filter((d) => d.collection === c).map((d) => d.odataType),
        assignment: `#microsoft.graph.${c.assignment.entityType}`,
        delivery: c.delivery,
        targetApps: c.targetApps,
        reachesMamDevices: POLICY_KINDS.some((d) => d.collection === c && (!('reachesMamDevices' in d) || d.reachesMamDevices)),
      })),
    );
  });

  it('edits only properties the server acts on (its validator specs)', () => {
    for (const collection of COLLECTIONS) {
      for (const kind of collection.kinds) {
        const specs = declarationOf(kind.odataType).specs;
        for (const field of kind.fields) assert.ok(Object.hasOwn(specs, field.name), `${kind.title}: ${field.name} is not a property OpenMAM acts on`);
      }
    }
  });

  it("names the server's configuration value tokens", () => {
    assert.deepEqual([...CONFIGURATION_TOKENS], [...SERVER_TOKENS]);
  });

  it('sends a framework level template back as the server answered it', () => {
    const template = appProtectionTemplate(2, { minimumOsVersion: '10.0.19045' }) as unknown as Record<string, unknown>;
    const kind = kindByType('#microsoft.graph.windowsManagedAppProtection');
    const sent = { ...template, ...bodyOf(kind.fields, formValues(kind.fields, template)) };
    assert.deepEqual(declarationOf(kind.odataType).validate(sent, 'create'), declarationOf(kind.odataType).validate(template, 'create'));
  });

  it('on edit sends only the fields the admin changed', () => {
    const kind = kindByType('#microsoft.graph.windowsManagedAppProtection');
    const stored = appProtectionTemplate(3, { minimumOsVersion: '10.0.19045', maximumOsVersion: '10.0.26100' }) as unknown as Record<string, unknown>;
    const initial = formValues(kind.fields, stored);
    const edited: Record<string, FormValue> = { ...initial, minimumPinLength: '6', maximumRequiredOsVersion: '', printBlocked: false };
    assert.deepEqual(bodyOf(kind.fields, edited, initial), { minimumPinLength: 6, maximumRequiredOsVersion: null, printBlocked: false });
  });

  it('builds a WIP policy the validator accepts from the fields the scenario fills (name, domain, Edge)', () => {
    const kind = kindByType('#microsoft.graph.windowsInformationProtectionPolicy');
    const apps = kind.fields.find((f) => f.name === 'protectedApps')!;
    const edge = apps.kind.type === 'rows' ? apps.kind.presets![0]!.row : {};
    const store: Row = { '@odata.type': '#microsoft.graph.windowsInformationProtectionStoreApp', displayName: 'Edge', publisherName: 'CN=MICROSOFT CORPORATION, O=MICROSOFT CORPORATION, L=REDMOND, S=WASHINGTON, C=US', productName: 'Microsoft.MicrosoftEdge', binaryName: 'ignored', denied: 'false' };
    const values = { ...formValues(kind.fields, {}), ...defaultsOf(kind), displayName: 'WIP pilot', enterpriseDomain: 'contoso.com', protectedApps: [edge, store], enterpriseProtectedDomainNames: 'fabrikam.com\n\n' };
    const policy = declarationOf(kind.odataType).validate({ '@odata.type': kind.odataType, ...bodyOf(kind.fields, values) }, 'create');
    assert.equal(policy['enforcementLevel'], 'encryptAuditAndBlock');
    assert.deepEqual(policy['enterpriseProtectedDomainNames'], [{ resources: ['fabrikam.com'] }]);
    const [desktop, storeApp] = policy['protectedApps'] as Record<string, unknown>[];
    assert.equal(desktop!['binaryName'], 'MSEDGE.EXE');
    // A Store app has no binaryName: the form leaves it out rather than have the server refuse the row.
    assert.equal(Object.hasOwn(storeApp!, 'binaryName'), false);
  });

  it('types OMA-URI values by their data type (an XML value as base64) and reads them back', () => {
    const kind = kindByType('#microsoft.graph.windows10CustomConfiguration');
    const rows: Row[] = [
      { displayName: 'Lock', omaUri: './Vendor/MSFT/DeviceLock/DevicePasswordEnabled', '@odata.type': '#microsoft.graph.omaSettingInteger', value: '0' },
      { displayName: 'Xml', omaUri: './Vendor/MSFT/Policy/Config/DeviceLock/MinDevicePasswordLength', '@odata.type': '#microsoft.graph.omaSettingStringXml', value: '<a>é</a>' },
    ];
    const body = bodyOf(kind.fields, { ...formValues(kind.fields, {}), displayName: 'Custom', omaSettings: rows });
    const settings = body['omaSettings'] as Record<string, unknown>[];
    assert.equal(settings[0]!['value'], 0);
    assert.equal(Buffer.from(String(settings[1]!['value']), 'base64').toString('utf8'), '<a>é</a>');
    const stored = declarationOf(kind.odataType).validate({ '@odata.type': kind.odataType, ...body }, 'create');
    assert.deepEqual(formValues(kind.fields, stored)['omaSettings'], rows);
  });

  it('leaves a write-only secret out of an edit the admin did not retype', () => {
    const kind = kindByType('#microsoft.graph.windows81SCEPCertificateProfile');
    const initial = formValues(kind.fields, { displayName: 'SCEP', keyUsage: 'digitalSignature', hashAlgorithm: 'sha2' });
    assert.equal(initial['challenge'], '');
    assert.deepEqual(bodyOf(kind.fields, { ...initial, displayName: 'SCEP 2' }, initial), { displayName: 'SCEP 2' });
    assert.deepEqual(bodyOf(kind.fields, { ...initial, keyUsage: ['keyEncipherment', 'digitalSignature'] }, initial), { keyUsage: 'keyEncipherment,digitalSignature' });
  });
});
