import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { efsRecoveryPolicyBlob } from '../../src/csp/compile/efs-recovery-policy.ts';
import { formatIPv6, parseCidr, parseIp, parseIPv4, parseIPv6 } from '../../src/csp/compile/ip.ts';
import { joinList } from '../../src/csp/compile/setting.ts';
import { uuidV5 } from '../../src/csp/compile/uuid.ts';
import { appLockerGroupings, compileWipPolicy, type WipCompilePolicy } from '../../src/csp/compile/wip.ts';
import { isOpenMamError } from '../../src/errors.ts';
import { validateWipPolicy } from '../../src/policy/wip.ts';
import { attributeValue, childElements, parseXml } from '../../src/protocol/xml/reader.ts';
import { DRA_CERTIFICATE_BASE64, fullMamPolicy, minimalMamPolicy, POLICY_ID, PROVIDER_ID, TENANT_ID } from './fixtures.ts';

const context = { tenantId: TENANT_ID, providerId: PROVIDER_ID };

function mam(change: Record<string, unknown> = {}, base: () => Record<string, unknown> = minimalMamPolicy): WipCompilePolicy {
  return { ...validateWipPolicy({ ...base(), ...change }, 'mam', 'create'), id: POLICY_ID };
}

function byName(settings: ReturnType<typeof compileWipPolicy>): Map<string, string> {
  return new Map(settings.map((s) => [s.locUri.slice(s.locUri.lastIndexOf('/') + 1), s.value]));
}

function compileRefuses(run: () => unknown, path: string, pattern?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(isOpenMamError(error));
    assert.ok(error.message.startsWith(`${path}: `), error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

describe('ip', () => {
  it('parses strict IPv4 and IPv6 text', () => {
    assert.equal(parseIPv4('192.168.0.1'), 0xc0a80001n);
    for (const bad of ['192.168.0', '192.168.0.1.1', '192.168.00.1', '256.0.0.0', ' 1.2.3.4', '1.2.3.-4']) assert.equal(parseIPv4(bad), undefined, bad);
    assert.equal(parseIPv6('::'), 0n);
    assert.equal(parseIPv6('::1'), 1n);
    assert.equal(parseIPv6('::ffff:10.0.0.1'), 0xffff0a000001n);
    assert.equal(parseIPv6('2001:DB8::1'), 0x20010db8000000000000000000000001n);
    for (const bad of ['1::2::3', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'fe80::1%eth0', '1.2.3.4::', '::1.2.3']) {
      assert.equal(parseIPv6(bad), undefined, bad);
    }
    assert.deepEqual(parseIp('10.0.0.1'), { family: 4, value: 0x0a000001n });
    assert.equal(parseIp('example.com'), undefined);
  });

  it('formats IPv6 per RFC 5952', () => {
    const format = (text: string) => formatIPv6(parseIPv6(text)!);
    assert.equal(format('2001:0db8:0000:0000:0001:0000:0000:0001'), '2001:db8::1:0:0:1', 'the first of two equal runs');
    assert.equal(format('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1', 'a single zero group is not compressed');
    assert.equal(format('2001:db8:0:0:1:0:0:0'), '2001:db8:0:0:1::', 'the longest run');
    assert.equal(format('0:0:0:0:0:0:0:0'), '::');
    assert.equal(format('fe80:0:0:0:0:0:0:1'), 'fe80::1');
  });

  it('expands CIDR blocks and notices host bits', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8', 4), { family: 4, first: 0x0a000000n, last: 0x0affffffn, prefixLength: 8, hostBitsSet: false });
    assert.equal(parseCidr('10.0.0.1/8', 4)?.hostBitsSet, true);
    assert.deepEqual(parseCidr('0.0.0.0/0', 4), { family: 4, first: 0n, last: 0xffffffffn, prefixLength: 0, hostBitsSet: false });
    assert.equal(parseCidr('::1/128', 6)?.last, 1n);
    for (const bad of ['10.0.0.0', '10.0.0.0/', '10.0.0.0/08', '10.0.0.0/33', '::/8']) assert.equal(parseCidr(bad, 4), undefined, bad);
  });
});

describe('uuidV5', () => {
  it('matches the RFC 9562 test vector and is stable', () => {
    assert.equal(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
    assert.equal(uuidV5('x'), uuidV5('x'));
    assert.notEqual(uuidV5('x'), uuidV5('y'));
  });
});

describe('efsRecoveryPolicyBlob ([MS-GPEF] 2.2.1.2)', () => {
  it('lays out EfsBlob and EfsKey as the spec and the CSP structures say', () => {
    const der = Buffer.from(DRA_CERTIFICATE_BASE64, 'base64');
    const blob = efsRecoveryPolicyBlob([der]);
    assert.deepEqual([...blob.subarray(0, 4)], [0x01, 0x00, 0x01, 0x00], 'Reserved: MajorRevision 1, MinorRevision 1');
    assert.equal(blob.readUInt32LE(4), 1, 'Key count');
    const key = blob.subarray(8);
    const length1 = key.readUInt32LE(0);
    const length2 = key.readUInt32LE(4);
    assert.equal(length1, key.length, 'Length1 runs to the end of the certificate');
    assert.equal(length2, length1 - 4);
    assert.equal(key.readUInt32LE(8), 0, 'no SID');
    assert.equal(key.readUInt32LE(12), 2, 'Reserved1 = KeySourceTag EfsCertificate');
    const certificateLength = key.readUInt32LE(16);
    const certificateOffset = key.readUInt32LE(20);
    assert.equal(certificateLength, der.length);
    assert.deepEqual([...key.subarray(24, 32)], new Array(8).fill(0), 'Reserved2');
    const embedded = key.subarray(4 + certificateOffset, 4 + certificateOffset + certificateLength);
    assert.ok(embedded.equals(der));
    assert.equal(new X509Certificate(embedded).subject, 'CN=OpenMAM Test Data Recovery Agent');
  });

  it('holds several keys back to back', () => {
    const der = Buffer.from(DRA_CERTIFICATE_BASE64, 'base64');
    const blob = efsRecoveryPolicyBlob([der, der]);
    assert.equal(blob.readUInt32LE(4), 2);
    const first = blob.readUInt32LE(8);
    assert.equal(blob.readUInt32LE(8 + first), first);
    assert.equal(blob.length, 8 + 2 * first);
  });
});

describe('compileWipPolicy', () => {
  it('a policy with WIP off sends the enforcement level only', () => {
    const settings = compileWipPolicy(mam({ enforcementLevel: 'noProtection', enterpriseDomain: undefined }), context);
    assert.deepEqual(settings, [{ locUri: './Vendor/MSFT/EnterpriseDataProtection/Settings/EDPEnforcementLevel', format: 'int', value: '0' }]);
  });

  it('maps the enforcement levels to EDPEnforcementLevel 0-3 and the flags to 0/1', () => {
    const levels = ['noProtection', 'encryptAndAuditOnly', 'encryptAuditAndPrompt', 'encryptAuditAndBlock'];
    levels.forEach((enforcementLevel, i) => assert.equal(byName(compileWipPolicy(mam({ enforcementLevel }), context)).get('EDPEnforcementLevel'), String(i)));
    const on = byName(compileWipPolicy(mam({ revokeOnUnenrollDisabled: true, revokeOnMdmHandoffDisabled: false, iconsVisible: false }), context));
    assert.equal(on.get('RevokeOnUnenroll'), '0');
    assert.equal(on.get('RevokeOnMDMHandoff'), '1');
    assert.equal(on.get('EDPShowIcons'), '0');
  });

  it('puts the primary enterprise ID first and drops repeats', () => {
    const settings = byName(compileWipPolicy(mam({ enterpriseDomain: 'fabrikam.com', enterpriseProtectedDomainNames: [{ resources: ['contoso.com', 'fabrikam.com', 'contoso.com'] }] }), context));
    assert.equal(settings.get('EnterpriseProtectedDomainNames'), 'fabrikam.com|contoso.com');
  });

  it('refuses WIP on without an enterprise domain (input not from the validator)', () => {
    compileRefuses(() => compileWipPolicy({ '@odata.type': '#microsoft.graph.windowsInformationProtectionPolicy', id: 'p', enforcementLevel: 'encryptAndAuditOnly' }, context), 'enterpriseDomain', /mandatory/);
  });

  it('refuses list items that would change the list (input not from the validator)', () => {
    const policy: WipCompilePolicy = { ...mam(), enterpriseNetworkDomainNames: [{ resources: ['a.com,b.com'] }] };
    compileRefuses(() => compileWipPolicy(policy, context), 'enterpriseNetworkDomainNames[0]', /list separator/);
    assert.throws(() => joinList(['a', ''], ',', 'x'), /x\[1\]: an empty list item/);
  });

  it('expands CIDRs and keeps ranges canonical', () => {
    const settings = byName(
      compileWipPolicy(
        mam({
          enterpriseIPRanges: [
            { ranges: [{ '@odata.type': '#microsoft.graph.iPv6CidrRange', cidrAddress: '2001:db8::/32' }, { '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '10.1.2.3/32' }] },
            { ranges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '10.1.2.3/32' }] },
          ],
        }),
        context,
      ),
    );
    assert.equal(settings.get('EnterpriseIPRange'), '2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,10.1.2.3-10.1.2.3');
  });

  it('AppLocker: stable groupings and rule Ids, Deny for denied apps, one rule per repeated app', () => {
    const app = { '@odata.type': '#microsoft.graph.windowsInformationProtectionDesktopApp', displayName: 'A', publisherName: 'O=A', productName: 'A', binaryName: 'A.EXE' };
    const other = { ...app, displayName: 'B', binaryName: 'B.EXE', denied: true };
    const forward = compileWipPolicy(mam({ protectedApps: [app, other, app] }), context);
    const backward = compileWipPolicy(mam({ protectedApps: [other, app] }), context);
    const groupings = appLockerGroupings(POLICY_ID);
    assert.equal(forward[2]?.locUri, `./Vendor/MSFT/AppLocker/EnterpriseDataProtection/${groupings.protected}/EXE/Policy`);
    assert.doesNotMatch(groupings.protected, /edpexempt/i);
    assert.match(groupings.exempt, /EdpExempt/);
    const rules = (xml: string) => childElements(parseXml(xml), '', 'FilePublisherRule').map((r) => [attributeValue(r, 'Name'), attributeValue(r, 'Id'), attributeValue(r, 'Action')]);
    const forwardRules = rules(forward[2]!.value);
    assert.equal(forwardRules.length, 2, 'the repeated app is written once');
    assert.deepEqual(forwardRules.map((r) => r[2]), ['Allow', 'Deny']);
    assert.deepEqual(new Set(forwardRules.map((r) => r[1])), new Set(rules(backward[2]!.value).map((r) => r[1])), 'Ids do not depend on order');
    const otherPolicy = compileWipPolicy({ ...mam({ protectedApps: [app] }), id: 'another-policy' }, context);
    assert.notEqual(rules(otherPolicy[2]!.value)[0]?.[1], forwardRules[0]?.[1], 'Ids differ between policies');
  });

  it('AppLocker XML escapes attribute text', () => {
    const app = { '@odata.type': '#microsoft.graph.windowsInformationProtectionStoreApp', displayName: `<"&'>`, publisherName: 'CN=a&b', productName: 'x' };
    const policy = compileWipPolicy(mam({ exemptApps: [app] }), context)[2];
    assert.ok(policy);
    assert.ok(policy.locUri.endsWith('-EdpExempt/StoreApps/Policy'));
    const rule = childElements(parseXml(policy.value), '', 'FilePublisherRule')[0]!;
    assert.equal(attributeValue(rule, 'Name'), `<"&'>`);
    assert.match(policy.value, /Name="&lt;&quot;&amp;&apos;&gt;"/);
  });

  it('DeviceLock settings go in one Atomic, DevicePasswordEnabled=0 first', () => {
    const settings = compileWipPolicy(mam({ minutesOfInactivityBeforeDeviceLock: 5 }), context).filter((s) => s.locUri.includes('/DeviceLock/'));
    assert.deepEqual(settings, [
      { locUri: './Vendor/MSFT/Policy/Config/DeviceLock/DevicePasswordEnabled', format: 'int', value: '0', atomicGroup: 'DeviceLock' },
      { locUri: './Vendor/MSFT/Policy/Config/DeviceLock/MaxInactivityTimeDeviceLock', format: 'int', value: '5', atomicGroup: 'DeviceLock' },
    ]);
  });

  it('PassportForWork: UsePassportForWork is the inverse of windowsHelloForBusinessBlocked', () => {
    const blocked = compileWipPolicy(mam({ windowsHelloForBusinessBlocked: true }), context);
    assert.deepEqual(blocked.at(-1), { locUri: `./Vendor/MSFT/PassportForWork/${TENANT_ID}/Policies/UsePassportForWork`, format: 'bool', value: 'false' });
    compileRefuses(() => compileWipPolicy(mam({ pinMinimumLength: 6 }), { tenantId: 'contoso' }), 'context.tenantId', /not a GUID/);
  });

  it('DMClient nodes need the provider id', () => {
    compileRefuses(() => compileWipPolicy(mam({ daysWithoutContactBeforeUnenroll: 30 }), { tenantId: TENANT_ID }), 'context.providerId');
    const settings = compileWipPolicy(mam({ daysWithoutContactBeforeUnenroll: 30 }), context);
    assert.deepEqual(settings.at(-1), { locUri: './Vendor/MSFT/DMClient/Provider/OpenMAM/NumberOfDaysAfterLostContactToUnenroll', format: 'int', value: '30' });
  });

  it('an MDM policy never gets MAM-only nodes, even if such properties are present', () => {
    const policy: WipCompilePolicy = { ...mam({}, fullMamPolicy), '@odata.type': '#microsoft.graph.mdmWindowsInformationProtectionPolicy' };
    const locUris = compileWipPolicy(policy, context).map((s) => s.locUri);
    for (const forbidden of ['RevokeOnMDMHandoff', 'PassportForWork', 'DeviceLock', 'DMClient']) {
      assert.ok(!locUris.some((u) => u.includes(forbidden)), forbidden);
    }
  });

  it('does not change its input', () => {
    const policy = mam({}, fullMamPolicy);
    const before = structuredClone(policy);
    compileWipPolicy(policy, context);
    assert.deepEqual(policy, before);
  });
});
