import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateFilterRule, MAX_RULE_DEPTH, MAX_RULE_LENGTH, parseFilterRule, RuleRefusal, type FilterSubject } from '../../src/policy/assignment-filter-rule.ts';

const device: FilterSubject = {
  deviceName: 'Sara-Laptop',
  manufacturer: 'Contoso',
  model: 'Surface Laptop 5',
  osVersion: '10.0.22631.2428',
  operatingSystemVersion: '10.0.22631.2428',
  operatingSystemSKU: 'Professional',
  deviceOwnership: 'Personal',
};

function matches(rule: string, subject: FilterSubject = device): boolean {
  return evaluateFilterRule(parseFilterRule(rule, 'devices'), subject);
}

function refusal(rule: string, managementType: 'devices' | 'apps' = 'devices'): RuleRefusal {
  try {
    parseFilterRule(rule, managementType);
  } catch (err) {
    assert.ok(err instanceof RuleRefusal, String(err));
    return err;
  }
  assert.fail(`${rule} parsed`);
}

describe('assignment filter rules: operators', () => {
  it('-eq and -ne ignore case', () => {
    assert.equal(matches('(device.manufacturer -eq "contoso")'), true);
    assert.equal(matches('(device.manufacturer -eq "Fabrikam")'), false);
    assert.equal(matches('(device.manufacturer -ne "Fabrikam")'), true);
    assert.equal(matches('(device.manufacturer -ne "CONTOSO")'), false);
  });
  it('-startsWith, -contains, -notContains', () => {
    assert.equal(matches('(device.deviceName -startsWith "sara")'), true);
    assert.equal(matches('(device.deviceName -startsWith "Laptop")'), false);
    assert.equal(matches('(device.model -contains "laptop")'), true);
    assert.equal(matches('(device.model -notContains "laptop")'), false);
    assert.equal(matches('(device.model -notContains "Studio")'), true);
  });
  it('-in and -notIn', () => {
    assert.equal(matches('(device.operatingSystemSKU -in ["Enterprise", "professional"])'), true);
    assert.equal(matches('(device.operatingSystemSKU -notIn ["Core","CoreN"])'), true);
    assert.equal(matches('(device.operatingSystemSKU -in ["Core"])'), false);
    assert.equal(matches('(device.operatingSystemSKU -notIn ["Professional"])'), false);
  });
  it('-gt -ge -lt -le compare versions part by part', () => {
    assert.equal(matches('(device.operatingSystemVersion -gt "10.0.22000.0")'), true);
    assert.equal(matches('(device.operatingSystemVersion -gt "10.0.22631.2428")'), false);
    assert.equal(matches('(device.operatingSystemVersion -ge "10.0.22631.2428")'), true);
    assert.equal(matches('(device.operatingSystemVersion -lt "10.0.100000")'), true);
    assert.equal(matches('(device.operatingSystemVersion -le "10.0.9")'), false);
    assert.equal(matches('(device.operatingSystemVersion -eq "10.0.22631.2428")'), true);
  });
  it('operators and keywords are case-insensitive; clauses may go without parentheses', () => {
    assert.equal(matches('device.Manufacturer -EQ "Contoso" AND device.model -STARTSWITH "surface"'), true);
  });
  it('a property the device has not reported makes every clause false, -ne and -notIn included', () => {
    const unknown = { ...device, manufacturer: null, operatingSystemSKU: null };
    assert.equal(matches('(device.manufacturer -ne "Fabrikam")', unknown), false);
    assert.equal(matches('(device.operatingSystemSKU -notIn ["Core"])', unknown), false);
    assert.equal(matches('(device.manufacturer -eq "Contoso")', unknown), false);
  });
  it('the Personal ownership of a MAM device', () => {
    assert.equal(matches('(device.deviceOwnership -eq "Personal")'), true);
    assert.equal(matches('(device.deviceOwnership -eq "Corporate")'), false);
  });
});

describe('assignment filter rules: structure', () => {
  it('and binds tighter than or; parentheses override', () => {
    // true or (false and false) = true; (true or false) and false = false
    assert.equal(matches('(device.manufacturer -eq "Contoso") or (device.model -eq "x") and (device.deviceName -eq "y")'), true);
    assert.equal(matches('((device.manufacturer -eq "Contoso") or (device.model -eq "x")) and (device.deviceName -eq "y")'), false);
    assert.deepEqual(parseFilterRule('(device.model -eq "a") or (device.model -eq "b") and (device.model -eq "c")', 'devices'), {
      kind: 'or',
      operands: [
        { kind: 'clause', entity: 'device', property: 'model', operator: 'eq', values: ['a'] },
        {
          kind: 'and',
          operands: [
            { kind: 'clause', entity: 'device', property: 'model', operator: 'eq', values: ['b'] },
            { kind: 'clause', entity: 'device', property: 'model', operator: 'eq', values: ['c'] },
          ],
        },
      ],
    });
  });
  it('quotes inside values are escaped with a backslash', () => {
    assert.equal(matches('(device.deviceName -eq "Sara\\"s")', { ...device, deviceName: 'Sara"s' }), true);
  });
  it('app filters read app.* properties', () => {
    const rule = parseFilterRule('(app.appVersion -startsWith "2.") and (app.operatingSystemVersion -ge "10.0.22000")', 'apps');
    assert.equal(evaluateFilterRule(rule, { appVersion: '2.4.1', operatingSystemVersion: '10.0.22631.1' }), true);
    assert.equal(evaluateFilterRule(rule, { appVersion: '1.9', operatingSystemVersion: '10.0.22631.1' }), false);
  });
});

describe('assignment filter rules: refusals name the position', () => {
  it('an unknown property', () => {
    const r = refusal('(device.foo -eq "x")');
    assert.equal(r.position, 1);
    assert.match(r.message, /device\.foo is not a property of windows10AndLater filters at position 1/);
  });
  it('a property Intune has but a MAM device never reports', () => {
    assert.match(refusal('(device.cpuArchitecture -eq "arm64")').message, /not reported by a Windows MAM device/);
  });
  it('device.* on an app filter and app.* on a device filter', () => {
    assert.match(refusal('(device.model -eq "x")', 'apps').message, /device\.model is not a property of windowsMobileApplicationManagement filters/);
    assert.match(refusal('(app.appVersion -eq "1")').message, /app\.appVersion is not a property of windows10AndLater filters/);
  });
  it('an unknown operator and one the property does not take', () => {
    const unknown = refusal('(device.model -endsWith "x")');
    assert.equal(unknown.position, 14);
    assert.match(unknown.message, /-endsWith is not an operator/);
    const notAllowed = refusal('(device.operatingSystemSKU -contains "Pro")');
    assert.equal(notAllowed.position, 27);
    assert.match(notAllowed.message, /-contains is not an operator of device\.operatingSystemSKU/);
    assert.match(refusal('(device.model -gt "1.0")').message, /-gt is not an operator of device\.model/);
  });
  it('a version comparison with something that is not a version', () => {
    const r = refusal('(device.operatingSystemVersion -gt "ten")');
    assert.equal(r.position, 35);
  });
  it('syntax: unbalanced parentheses, missing value, unterminated string, stray character, trailing text', () => {
    assert.equal(refusal('(device.model -eq "x"').position, 21);
    assert.equal(refusal('(device.model -eq)').position, 17);
    assert.match(refusal('(device.model -eq "x)').message, /unterminated string at position 18/);
    assert.match(refusal('(device.model -eq "x") & (device.model -eq "y")').message, /unexpected character "&" at position 23/);
    assert.match(refusal('(device.model -eq "x") (device.model -eq "y")').message, /expected and, or or the end of the rule.* at position 23/);
    assert.match(refusal('(device.model -in ["a" "b"])').message, /expected "," or "]".* at position 23/);
    assert.match(refusal('').message, /expected a property/);
  });
  it('bounds: length, depth, values', () => {
    assert.match(refusal(`(device.model -eq "${'x'.repeat(MAX_RULE_LENGTH)}")`).message, /longer than/);
    const deep = `${'('.repeat(MAX_RULE_DEPTH + 1)}device.model -eq "x"${')'.repeat(MAX_RULE_DEPTH + 1)}`;
    assert.match(refusal(deep).message, /nest deeper than/);
    const ok = `${'('.repeat(MAX_RULE_DEPTH)}device.model -eq "x"${')'.repeat(MAX_RULE_DEPTH)}`;
    assert.doesNotThrow(() => parseFilterRule(ok, 'devices'));
    const many = `(device.model -in [${Array.from({ length: 101 }, (_, i) => `"${i}"`).join(',')}])`;
    assert.match(refusal(many).message, /at most 100 values/);
  });
});
