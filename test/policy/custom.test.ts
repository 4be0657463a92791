import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCustomConfiguration } from '../../src/csp/compile/custom.ts';
import { isOpenMamError } from '../../src/errors.ts';
import { validateCustomConfiguration } from '../../src/policy/custom.ts';
import type { ValidationMode } from '../../src/policy/validate.ts';
import { customConfiguration } from './fixtures.ts';

function refuses(input: unknown, path: string, pattern?: RegExp, mode: ValidationMode = 'create'): void {
  assert.throws(
    () => validateCustomConfiguration(input, mode),
    (error: unknown) => {
      assert.ok(isOpenMamError(error), `expected OpenMamError, got ${String(error)}`);
      assert.equal(error.code, 'malformed_request');
      assert.ok(error.message.startsWith(`${path}: `), `message "${error.message}" does not start with "${path}: "`);
      if (pattern) assert.match(error.message, pattern);
      return true;
    },
  );
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** A configuration holding one setting of the given type and value. */
function withSetting(type: string, value: unknown, change: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    displayName: 'Custom',
    omaSettings: [{ '@odata.type': `#microsoft.graph.omaSetting${type}`, displayName: type, omaUri: './Vendor/MSFT/Contoso/Node', value, ...change }],
  };
}

describe('validateCustomConfiguration: accepts', () => {
  it('one setting of each type, @odata.type filled in', () => {
    const config = validateCustomConfiguration(customConfiguration(), 'create');
    assert.equal(config['@odata.type'], '#microsoft.graph.windows10CustomConfiguration');
    assert.deepEqual(
      config.omaSettings.map((s) => s['@odata.type']),
      ['String', 'Integer', 'Boolean', 'Base64', 'DateTime', 'FloatingPoint', 'StringXml'].map((t) => `#microsoft.graph.omaSetting${t}`),
    );
  });

  it('int32 bounds, float32 bounds, a UTF-8 BOM dropped from XML, base64url turned into base64', () => {
    assert.equal(validateCustomConfiguration(withSetting('Integer', -2147483648), 'create').omaSettings[0]?.value, -2147483648);
    assert.equal(validateCustomConfiguration(withSetting('FloatingPoint', 3.4e38), 'create').omaSettings[0]?.value, 3.4e38);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<a/>')]).toString('base64');
    assert.equal(validateCustomConfiguration(withSetting('StringXml', bom), 'create').omaSettings[0]?.value, b64('<a/>'));
    assert.equal(validateCustomConfiguration(withSetting('Base64', '-_8'), 'create').omaSettings[0]?.value, '+/8=');
  });

  it('update (PATCH): a subset', () => {
    assert.deepEqual(validateCustomConfiguration({ description: null }, 'update'), {
      '@odata.type': '#microsoft.graph.windows10CustomConfiguration',
      description: null,
    });
  });
});

describe('validateCustomConfiguration: refusals name the field', () => {
  it('unknown properties and types', () => {
    refuses({ ...customConfiguration(), roleScopeTagIds: [7] }, 'roleScopeTagIds[0]', /must be a string/);
    refuses({ ...customConfiguration(), scopeTags: [] }, 'scopeTags', /not a property of windows10CustomConfiguration/);
    refuses(withSetting('String', 'x', { isEncrypted: 'no' }), 'omaSettings[0].isEncrypted', /must be true or false/);
    refuses(withSetting('String', 'x', { encrypted: false }), 'omaSettings[0].encrypted', /not a property of omaSettingString/);
    refuses(withSetting('Json', 'x'), 'omaSettings[0].@odata.type', /must be one of/);
    refuses(withSetting('String', 'x', { fileName: 'a.txt' }), 'omaSettings[0].fileName', /not a property of omaSettingString/);
  });

  it('required properties', () => {
    refuses({ displayName: 'x' }, 'omaSettings', /is required/);
    refuses({ displayName: 'x', omaSettings: [] }, 'omaSettings', /at least 1/);
    refuses(withSetting('String', undefined), 'omaSettings[0].value', /is required/);
    refuses({ displayName: 'x', omaSettings: [{ '@odata.type': '#microsoft.graph.omaSettingString', displayName: 'x', value: 'v' }] }, 'omaSettings[0].omaUri', /is required/);
  });

  it('omaUri must be a LocURI', () => {
    refuses(withSetting('String', 'x', { omaUri: '/Vendor/MSFT/X' }), 'omaSettings[0].omaUri', /not a LocURI: it must not start with \//);
    refuses(withSetting('String', 'x', { omaUri: 'Vendor/MSFT/X' }), 'omaSettings[0].omaUri', /must start with \.\//);
    refuses(withSetting('String', 'x', { omaUri: './Vendor//X' }), 'omaSettings[0].omaUri', /empty or \* segment/);
    refuses(withSetting('String', 'x', { omaUri: './Vendor/../X' }), 'omaSettings[0].omaUri', /\. only as its first segment/);
  });

  it('the same node twice', () => {
    const config = customConfiguration();
    const settings = config['omaSettings'] as Array<Record<string, unknown>>;
    settings.push({ ...settings[1], omaUri: './Device/Vendor/MSFT/Policy/Config/DeviceLock/MaxInactivityTimeDeviceLock' });
    refuses(config, 'omaSettings[7].omaUri', /repeats omaSettings\[1\]\.omaUri/);
  });

  it('values that do not match their type', () => {
    refuses(withSetting('String', 5), 'omaSettings[0].value', /must be a string/);
    refuses(withSetting('Integer', 2147483648), 'omaSettings[0].value', /between -2147483648 and 2147483647/);
    refuses(withSetting('Integer', 1.5), 'omaSettings[0].value', /must be an integer/);
    refuses(withSetting('Integer', '1'), 'omaSettings[0].value', /must be an integer/);
    refuses(withSetting('Boolean', 'true'), 'omaSettings[0].value', /true or false/);
    refuses(withSetting('Base64', 'not base64!'), 'omaSettings[0].value', /not base64/);
    refuses(withSetting('DateTime', '2024-05-01 00:00:00'), 'omaSettings[0].value', /ISO 8601 date-time/);
    refuses(withSetting('DateTime', '2024-05-01T00:00:00'), 'omaSettings[0].value', /with a time zone/);
    refuses(withSetting('DateTime', '2023-02-29T00:00:00Z'), 'omaSettings[0].value', /2023-02-29 is not a date/);
    refuses(withSetting('FloatingPoint', Number.NaN), 'omaSettings[0].value', /finite number/);
    refuses(withSetting('FloatingPoint', 1e39), 'omaSettings[0].value', /float32 range/);
    refuses(withSetting('FloatingPoint', '0.5'), 'omaSettings[0].value', /finite number/);
  });

  it('StringXml must be base64 of well-formed UTF-8 XML', () => {
    refuses(withSetting('StringXml', '<a/>'), 'omaSettings[0].value', /not base64/);
    refuses(withSetting('StringXml', b64('<a><b></a>')), 'omaSettings[0].value', /not well-formed XML/);
    refuses(withSetting('StringXml', b64('<a/><b/>')), 'omaSettings[0].value', /not well-formed XML/);
    refuses(withSetting('StringXml', b64('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')), 'omaSettings[0].value', /DOCTYPE/);
    refuses(withSetting('StringXml', Buffer.from([0x3c, 0x61, 0xff, 0x2f, 0x3e]).toString('base64')), 'omaSettings[0].value', /not UTF-8/);
    refuses(withSetting('StringXml', ''), 'omaSettings[0].value', /must not be empty/);
  });
});

describe('compileCustomConfiguration', () => {
  it('maps each OMA type to its SyncML format and normalises ./Device paths', () => {
    const settings = compileCustomConfiguration(validateCustomConfiguration(customConfiguration(), 'create'));
    assert.deepEqual(
      settings.map((s) => s.format),
      ['chr', 'int', 'bool', 'b64', 'chr', 'float', 'chr'],
    );
    assert.equal(settings[0]?.locUri, './Vendor/MSFT/Policy/Config/NetworkIsolation/NeutralResources');
    assert.equal(settings[2]?.locUri.startsWith('./User/'), true, './User paths stay user-scoped');
  });

  it('writes StringXml as the XML text, unescaped: the SyncML writer escapes it once', () => {
    const xml = '<r a="1 &amp; 2">x &lt; y</r>';
    const [setting] = compileCustomConfiguration(validateCustomConfiguration(withSetting('StringXml', b64(xml)), 'create'));
    assert.deepEqual(setting, { locUri: './Vendor/MSFT/Contoso/Node', format: 'chr', value: xml });
  });

  it('writes integers, booleans and floats in their wire form', () => {
    const compile = (type: string, value: unknown) => compileCustomConfiguration(validateCustomConfiguration(withSetting(type, value), 'create'))[0]?.value;
    assert.equal(compile('Integer', -5), '-5');
    assert.equal(compile('Boolean', false), 'false');
    assert.equal(compile('FloatingPoint', 1e-7), '0.0000001', 'no exponent');
    assert.equal(compile('FloatingPoint', -1.5e-7), '-0.00000015');
    assert.equal(compile('FloatingPoint', 3.4e38), `34${'0'.repeat(37)}`);
    assert.equal(compile('FloatingPoint', 0.75), '0.75');
    assert.equal(compile('FloatingPoint', 2), '2');
  });
});
