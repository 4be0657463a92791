import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { partialUpn, resolveValueTokens, type TokenUser } from '../../src/core/app-protection/value-tokens.ts';

const JOHN: TokenUser = {
  tenantId: 'fc0dc142-71d8-4b12-bbea-bae2a8514c81',
  userId: '3ec2c00f-b125-4519-acf0-302ac3761822',
  upn: 'John@contoso.com',
  mail: 'john.doe@contoso.com',
  name: 'John Doe',
};

describe('resolveValueTokens: the tokens Intune documents for managed apps', () => {
  const cases: [string, string][] = [
    ['{{userprincipalname}}', 'John@contoso.com'],
    ['{{mail}}', 'john.doe@contoso.com'],
    ['{{partialupn}}', 'John'],
    ['{{accountid}}', 'fc0dc142-71d8-4b12-bbea-bae2a8514c81'],
    ['{{userid}}', '3ec2c00f-b125-4519-acf0-302ac3761822'],
    ['{{username}}', 'John Doe'],
    ['{{PrimarySMTPAddress}}', 'john.doe@contoso.com'],
  ];
  for (const [token, value] of cases) {
    it(`${token} is ${value}`, () => {
      assert.equal(resolveValueTokens(token, JOHN), value);
    });
  }
});

describe('resolveValueTokens: rules', () => {
  it('matches token names in any case', () => {
    assert.equal(resolveValueTokens('{{UserPrincipalName}} {{MAIL}} {{primarysmtpaddress}} {{AccountId}}', JOHN), 'John@contoso.com john.doe@contoso.com john.doe@contoso.com fc0dc142-71d8-4b12-bbea-bae2a8514c81');
  });

  it('resolves tokens inside text, several times', () => {
    assert.equal(resolveValueTokens('https://{{partialupn}}.contoso.com/?u={{userid}}&again={{partialupn}}', JOHN), 'https://John.contoso.com/?u=3ec2c00f-b125-4519-acf0-302ac3761822&again=John');
  });

  it('leaves text without tokens as is', () => {
    assert.equal(resolveValueTokens('plain value {with} {single} braces }}{{', JOHN), 'plain value {with} {single} braces }}{{');
    assert.equal(resolveValueTokens('', JOHN), '');
  });

  it('leaves an unknown token as written', () => {
    assert.equal(resolveValueTokens('{{deviceid}}/{{serialnumber}}/{{mail}}', JOHN), '{{deviceid}}/{{serialnumber}}/john.doe@contoso.com');
  });

  it('does not read tokens with spaces or other characters inside the braces', () => {
    assert.equal(resolveValueTokens('{{ mail }} {{mail-x}} {{{mail}}}', JOHN), '{{ mail }} {{mail-x}} {john.doe@contoso.com}');
  });

  it('turns a known token without a value into the empty string', () => {
    const bare: TokenUser = { tenantId: 't', userId: 'u', upn: null, mail: null, name: null };
    assert.equal(resolveValueTokens('[{{userprincipalname}}|{{mail}}|{{partialupn}}|{{username}}|{{PrimarySMTPAddress}}|{{userid}}]', bare), '[|||||u]');
  });

  it('falls back to the UPN for PrimarySMTPAddress without mail', () => {
    assert.equal(resolveValueTokens('{{PrimarySMTPAddress}}', { ...JOHN, mail: null }), 'John@contoso.com');
  });

  it('resolves once: a value that looks like a token or a replacement pattern stays literal', () => {
    const tricky: TokenUser = { ...JOHN, name: '{{mail}} $& $1 $$' };
    assert.equal(resolveValueTokens('{{username}}', tricky), '{{mail}} $& $1 $$');
  });
});

describe('partialUpn', () => {
  it('is the UPN before its first @', () => {
    assert.equal(partialUpn('john@contoso.com'), 'john');
    assert.equal(partialUpn('john.doe@sub.contoso.com'), 'john.doe');
    assert.equal(partialUpn('john'), 'john');
    assert.equal(partialUpn('@contoso.com'), '');
    assert.equal(partialUpn(null), null);
  });
});
