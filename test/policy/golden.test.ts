import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { compileScepCertificate, type ScepCompileInput } from '../../src/csp/compile/certificates.ts';
import { compileCustomConfiguration, type CustomCompileConfiguration } from '../../src/csp/compile/custom.ts';
import type { CspSetting } from '../../src/csp/compile/setting.ts';
import { compileWipPolicy, type WipCompilePolicy } from '../../src/csp/compile/wip.ts';
import { locUriProblem } from '../../src/csp/loc-uri.ts';
import { mamRefusal } from '../../src/csp/mam-allow-list.ts';
import { validateScepCertificate, type WindowsScepCertificate } from '../../src/policy/certificates.ts';
import { validateCustomConfiguration, type Windows10CustomConfiguration } from '../../src/policy/custom.ts';
import {
  validateWipPolicy,
  type MdmWindowsInformationProtectionPolicy,
  type WindowsInformationProtectionPolicy,
} from '../../src/policy/wip.ts';
import { attributeValue, childElements, parseXml } from '../../src/protocol/xml/reader.ts';
import type { DesiredSetting } from '../../src/store/records.ts';
import { scepProfile } from './certificate-fixtures.ts';
import { customConfiguration, fullMamPolicy, mdmPolicy, minimalMamPolicy, POLICY_ID, PROVIDER_ID, TENANT_ID } from './fixtures.ts';

/*
 * Golden-file tests of the policy compilers: each fixture goes through the validator (as the admin API would) and the
 * compiler, and the CspSetting[] must equal test/fixtures/golden/<name>.json exactly: node paths, formats, values
 * (AppLocker XML byte for byte, the EFS recovery blob bit for bit) and order.
 *
 * After an intended change to a compiler, rewrite the golden files and review their diff before committing:
 *
 *   UPDATE_GOLDEN=1 node --import tsx --test test/policy/golden.test.ts
 */
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

async function assertGolden(name: string, actual: CspSetting[]): Promise<void> {
  const file = new URL(`../fixtures/golden/${name}.json`, import.meta.url);
  if (UPDATE) {
    await writeFile(file, `${JSON.stringify(actual, null, 2)}\n`);
    return;
  }
  const expected: unknown = JSON.parse(await readFile(file, 'utf8'));
  assert.deepEqual(actual, expected, `${name}.json differs (UPDATE_GOLDEN=1 rewrites it after an intended change)`);
}

// Compile-time checks: compiler output is a DesiredSetting (and back), validated policies are compiler input.
const asDesired = (setting: CspSetting): DesiredSetting => setting;
const asCspSetting = (setting: DesiredSetting): CspSetting => setting;
const mamCompileInput = (policy: WindowsInformationProtectionPolicy & { id: string }): WipCompilePolicy => policy;
const mdmCompileInput = (policy: MdmWindowsInformationProtectionPolicy & { id: string }): WipCompilePolicy => policy;
const customCompileInput = (config: Windows10CustomConfiguration): CustomCompileConfiguration => config;
const scepCompileInput = (profile: WindowsScepCertificate & { id: string }): ScepCompileInput => profile;

const context = { tenantId: TENANT_ID, providerId: PROVIDER_ID };

function compileMam(input: Record<string, unknown>): CspSetting[] {
  return compileWipPolicy(mamCompileInput({ ...validateWipPolicy(input, 'mam', 'create'), id: POLICY_ID }), context);
}

function compileMdm(input: Record<string, unknown>): CspSetting[] {
  return compileWipPolicy(mdmCompileInput({ ...validateWipPolicy(input, 'mdm', 'create'), id: POLICY_ID }), context);
}

function compileCustom(input: Record<string, unknown>): CspSetting[] {
  return compileCustomConfiguration(customCompileInput(validateCustomConfiguration(input, 'create')));
}

function assertLocUris(settings: readonly CspSetting[], mam: boolean): void {
  for (const setting of settings) {
    assert.equal(locUriProblem(setting.locUri), undefined, setting.locUri);
    if (mam) assert.equal(mamRefusal(setting.locUri), undefined, setting.locUri);
    assert.deepEqual(asCspSetting(asDesired(setting)), setting);
  }
}

/** Every AppLocker node holds one well-formed RuleCollection whose rules carry unique Ids. */
function assertAppLockerXml(settings: readonly CspSetting[]): number {
  const appLocker = settings.filter((s) => s.locUri.startsWith('./Vendor/MSFT/AppLocker/'));
  const ids = new Set<string>();
  for (const setting of appLocker) {
    assert.equal(setting.format, 'chr');
    const root = parseXml(setting.value);
    assert.equal(root.local, 'RuleCollection');
    assert.equal(attributeValue(root, 'Type'), setting.locUri.endsWith('/EXE/Policy') ? 'Exe' : 'Appx');
    for (const rule of childElements(root, '', 'FilePublisherRule')) {
      const id = attributeValue(rule, 'Id')!;
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.ok(!ids.has(id), `rule Id ${id} repeats`);
      ids.add(id);
    }
  }
  return appLocker.length;
}

describe('golden: WIP policies', () => {
  it('(a) a full MAM policy exercising every property', async () => {
    const settings = compileMam(fullMamPolicy());
    await assertGolden('wip-mam-full', settings);
    assertLocUris(settings, true);
    assert.equal(assertAppLockerXml(settings), 4, 'protected EXE + StoreApps, exempt EXE + StoreApps');
    assert.deepEqual(compileMam(fullMamPolicy()), settings, 'compiling twice gives the same settings');
  });

  it('(b) a minimal MAM policy', async () => {
    const settings = compileMam(minimalMamPolicy());
    await assertGolden('wip-mam-minimal', settings);
    assertLocUris(settings, true);
  });

  it('(c) an MDM policy', async () => {
    const settings = compileMdm(mdmPolicy());
    await assertGolden('wip-mdm', settings);
    assertLocUris(settings, false);
    assert.equal(assertAppLockerXml(settings), 1);
  });
});

describe('golden: custom configuration', () => {
  it('(d) one OMA setting of each type', async () => {
    const settings = compileCustom(customConfiguration());
    await assertGolden('custom-configuration', settings);
    for (const setting of settings) assert.equal(locUriProblem(setting.locUri), undefined, setting.locUri);
    const xml = settings.find((s) => s.locUri.endsWith('/EXE/Policy'));
    assert.ok(xml);
    assert.equal(parseXml(xml.value).local, 'RuleCollection');
  });
});

describe('golden: certificate profiles', () => {
  it('(e) a SCEP profile for the user store: interior node, Install parameters, Enroll as an exec setting, one Atomic', async () => {
    const settings = compileScepCertificate(scepCompileInput({ ...validateScepCertificate(scepProfile(), 'create'), id: POLICY_ID }));
    await assertGolden('scep-user', settings);
    assertLocUris(settings, true);
    assert.equal(new Set(settings.map((s) => s.atomicGroup)).size, 1, 'one atomic group');
    assert.deepEqual(settings.filter((s) => s.exec).map((s) => s.locUri.split('/').slice(-2).join('/')), ['Install/Enroll'], 'Enroll, last');
    assert.equal(settings.at(-1)?.exec, true);
    assert.deepEqual(compileScepCertificate(scepCompileInput({ ...validateScepCertificate(scepProfile(), 'create'), id: POLICY_ID })), settings, 'deterministic');
  });
});
