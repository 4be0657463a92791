import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DHA_VALIDATION_REQUEST_NS,
  DHA_VALIDATION_RESPONSE_NS,
  DhaFormatError,
  isDhaNonce,
  readDeviceHealthData,
  readValidationResponse,
  writeValidationRequest,
} from '../../src/protocol/health-attestation/dha.ts';
import { parseXml } from '../../src/protocol/xml/reader.ts';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const CLAIMS = b64('claims signed by the AIK');
const BLOB = b64('an encrypted health certificate');
const NONCE = '00112233445566778899AABBCCDDEEFF';

/** DHA-Data as Windows forwards it from the Certificate node (healthattestation-csp step 6: an XML document, base64). */
function dhaData(inner = `<Claims>${CLAIMS}</Claims><HealthCertificateBlob>${BLOB}</HealthCertificateBlob>`): string {
  return b64(`<?xml version="1.0" encoding="utf-8"?><HealthCertificateValidationRequest ProtocolVersion="1" xmlns="http://schemas.microsoft.com/windows/security/healthcertificate/validation/request/v1">${inner}</HealthCertificateValidationRequest>`);
}

/** The DHA-Report example of the CSP reference (V3), with ErrorCode and the namespace. */
const PROPERTIES = `<Issued>2016-10-21T02:12:58.6656577Z</Issued><AIKPresent>false</AIKPresent><ResetCount>2107533174</ResetCount>
<RestartCount>2749041230</RestartCount><DEPPolicy>0</DEPPolicy><BitlockerStatus>0</BitlockerStatus><BootManagerRevListVersion>0</BootManagerRevListVersion>
<CodeIntegrityRevListVersion>0</CodeIntegrityRevListVersion><SecureBootEnabled>false</SecureBootEnabled><BootDebuggingEnabled>false</BootDebuggingEnabled>
<OSKernelDebuggingEnabled>false</OSKernelDebuggingEnabled><CodeIntegrityEnabled>true</CodeIntegrityEnabled><TestSigningEnabled>true</TestSigningEnabled>
<SafeMode>false</SafeMode><WinPE>false</WinPE><ELAMDriverLoaded>true</ELAMDriverLoaded><VSMEnabled>false</VSMEnabled><PCRHashAlgorithmID>0</PCRHashAlgorithmID>
<BootAppSVN>1</BootAppSVN><BootManagerSVN>1</BootManagerSVN><TpmVersion>2</TpmVersion><PCR0>4ACCBE0ADB9627FFD6285C2E06EC5AC59ABF62C7</PCR0>
<CIPolicy>00000000000001001A000B00200000005300690050006F006C006900630079002E007000370062000000A4BF7EF05585876A61CBFF7CAE8123BE756D58B1BBE04F9719D15D6271514CF5</CIPolicy>
<BootRevListInfo>005D447A7CC6D101200000000B00CBB56E8B19267E24A2986C4A616CCB58B4D53F6020AC8FD5FC205C20F2AB00BC</BootRevListInfo>`;
function response(properties = PROPERTIES, attributes = 'ErrorCode="0" ProtocolVersion="3"', namespace = DHA_VALIDATION_RESPONSE_NS): string {
  return `<?xml version="1.0" encoding="utf-8"?><HealthCertificateValidationResponse xmlns:xsd="http://www.w3.org/2001/XMLSchema" ${attributes} xmlns="${namespace}"><HealthCertificateProperties>${properties}</HealthCertificateProperties></HealthCertificateValidationResponse>`;
}

describe('DHA codec (healthattestation-csp steps 5-8)', () => {
  it('reads the Certificate node: Claims and HealthCertificateBlob out of base64 XML, whitespace ignored', () => {
    assert.deepEqual(readDeviceHealthData(dhaData()), { claims: CLAIMS, healthCertificateBlob: BLOB });
    const spaced = dhaData(`<Claims>\n ${CLAIMS.slice(0, 8)}\n${CLAIMS.slice(8)} </Claims><HealthCertificateBlob>${BLOB}\n</HealthCertificateBlob>`);
    assert.deepEqual(readDeviceHealthData(`${spaced.slice(0, 10)}\n${spaced.slice(10)}`), { claims: CLAIMS, healthCertificateBlob: BLOB });
  });

  it('refuses DHA-Data that is not base64, not XML, hostile XML, or lacks a blob', () => {
    assert.throws(() => readDeviceHealthData(''), DhaFormatError);
    assert.throws(() => readDeviceHealthData('not base64 at all!'), /not base64/);
    assert.throws(() => readDeviceHealthData(b64('plain text')), /not well-formed XML/);
    assert.throws(() => readDeviceHealthData(b64('<!DOCTYPE r [<!ENTITY x "y">]><r><Claims>&x;</Claims></r>')), /not well-formed XML \(DOCTYPE/);
    assert.throws(() => readDeviceHealthData(dhaData(`<Claims>${CLAIMS}</Claims>`)), /HealthCertificateBlob: missing/);
    assert.throws(() => readDeviceHealthData(dhaData(`<Claims>***</Claims><HealthCertificateBlob>${BLOB}</HealthCertificateBlob>`)), /Claims: not base64/);
    assert.throws(() => readDeviceHealthData(b64(`<r>${'<a>'.repeat(20)}${'</a>'.repeat(20)}</r>`)), /not well-formed XML/, 'depth bounded');
    assert.throws(() => readDeviceHealthData('A'.repeat(300 * 1024)), /too large/);
  });

  it('writes the validation request with the nonce, well-formed in the V3 request namespace', () => {
    const xml = writeValidationRequest({ nonce: NONCE, claims: CLAIMS, healthCertificateBlob: BLOB });
    const root = parseXml(xml);
    assert.equal(root.local, 'HealthCertificateValidationRequest');
    assert.equal(root.ns, DHA_VALIDATION_REQUEST_NS);
    assert.deepEqual(
      root.children.map((c) => [c.local, c.text]),
      [
        ['Nonce', NONCE],
        ['Claims', CLAIMS],
        ['HealthCertificateBlob', BLOB],
      ],
    );
    assert.throws(() => writeValidationRequest({ nonce: 'ABC', claims: CLAIMS, healthCertificateBlob: BLOB }), /Nonce/);
    assert.throws(() => writeValidationRequest({ nonce: NONCE, claims: '<x/>', healthCertificateBlob: BLOB }), /Claims/);
  });

  it('knows the CSP nonce: hex, 8 to 32 bytes', () => {
    assert.ok(isDhaNonce('0011223344556677'));
    assert.ok(isDhaNonce('ab'.repeat(32)));
    assert.ok(!isDhaNonce('00112233445566'));
    assert.ok(!isDhaNonce('ab'.repeat(33)));
    assert.ok(!isDhaNonce('0011223344556677g0'));
  });

  it("reads the CSP reference's DHA-Report example", () => {
    const answer = readValidationResponse(response());
    assert.equal(answer.kind, 'report');
    assert.ok(answer.kind === 'report');
    const report = answer.report;
    assert.equal(report.issued, '2016-10-21T02:12:58.6656577Z');
    assert.equal(report.aikPresent, false);
    assert.equal(report.resetCount, 2107533174);
    assert.equal(report.restartCount, 2749041230);
    assert.equal(report.bitLockerStatus, 0);
    assert.equal(report.secureBootEnabled, false);
    assert.equal(report.codeIntegrityEnabled, true);
    assert.equal(report.testSigningEnabled, true);
    assert.equal(report.elamDriverLoaded, true);
    assert.equal(report.tpmVersion, 2);
    assert.equal(report.pcr0, '4ACCBE0ADB9627FFD6285C2E06EC5AC59ABF62C7');
    assert.ok(report.ciPolicy?.startsWith('0000000000000100'));
    assert.equal(report.sbcpHash, undefined);
  });

  it('reads a refusal: ErrorCode other than 0, or no properties; mismatch flags kept', () => {
    const refused = readValidationResponse(
      `<HealthCertificateValidationResponse xmlns="${DHA_VALIDATION_RESPONSE_NS}" ErrorCode="42" ErrorMessage="Nonce mismatch" ProtocolVersion="3"><HealthStatusMismatchFlags><ResumeCount>false</ResumeCount><PCR>true</PCR></HealthStatusMismatchFlags></HealthCertificateValidationResponse>`,
    );
    assert.deepEqual(refused, { kind: 'refused', errorCode: 42, errorMessage: 'Nonce mismatch', healthStatusMismatchFlags: ['PCR'] });
    const empty = readValidationResponse(`<HealthCertificateValidationResponse xmlns="${DHA_VALIDATION_RESPONSE_NS}" ErrorCode="0" ProtocolVersion="3"/>`);
    assert.equal(empty.kind, 'refused');
  });

  it('refuses what is not a well-formed V3 report: nothing of it is trusted', () => {
    assert.throws(() => readValidationResponse('<html>oops</html>'), /expected HealthCertificateValidationResponse/);
    assert.throws(() => readValidationResponse(response(PROPERTIES, 'ErrorCode="0"', 'urn:other')), /expected HealthCertificateValidationResponse/);
    assert.throws(() => readValidationResponse(response(PROPERTIES, 'ProtocolVersion="3"')), /ErrorCode missing/);
    assert.throws(() => readValidationResponse(response(PROPERTIES.replace('<SecureBootEnabled>false</SecureBootEnabled>', ''))), /SecureBootEnabled: missing/);
    assert.throws(() => readValidationResponse(response(PROPERTIES.replace('<SecureBootEnabled>false', '<SecureBootEnabled>1'))), /SecureBootEnabled: must be true or false/);
    assert.throws(() => readValidationResponse(response(PROPERTIES.replace('<ResetCount>2107533174', '<ResetCount>-1'))), /ResetCount: must be an unsigned/);
    assert.throws(() => readValidationResponse(response(PROPERTIES.replace('2016-10-21T02:12:58.6656577Z', 'yesterday'))), /Issued/);
    assert.throws(() => readValidationResponse(response(PROPERTIES.replace('<PCR0>4A', '<PCR0>ZZ'))), /PCR0/);
    assert.throws(() => readValidationResponse(`<!DOCTYPE x [<!ENTITY a "b">]>${response()}`), /DOCTYPE/);
    assert.throws(() => readValidationResponse(response().replace('</HealthCertificateValidationResponse>', '')), /not well-formed XML/);
    assert.throws(() => readValidationResponse(`${response()}${' '.repeat(300 * 1024)}`), /too large/);
  });
});
