/**
 * The EFS recovery policy blob that EnterpriseDataProtection `Settings/DataRecoveryCertificate` carries
 * (EnterpriseDataProtection CSP: "DRA information from MDM policy must be a serialized binary blob identical to what
 * we expect from GP"). The layout is the Group Policy EfsBlob of [MS-GPEF] 2.2.1.2.1 / 2.2.1.2.2, which is the
 * CSP page's RECOVERY_POLICY_1_1 / RECOVERY_KEY_1_1 / EFS_PUBLIC_KEY_INFO structures, serialized little-endian:
 *
 * ```
 * EfsBlob   Reserved 01 00 01 00 (MajorRevision 1, MinorRevision 1) | Key count u32 | EfsKey...
 * EfsKey    Length1 u32 (RECOVERY_KEY_1_1.TotalLength, from Length1 to the end of the certificate)
 *           Length2 u32 (EFS_PUBLIC_KEY_INFO.Length = Length1 - 4)
 *           SID offset u32 (PossibleKeyOwner, from Length2; 0 = no SID: the SID is optional and "a hint only")
 *           Reserved1 u32 = 2 (KeySourceTag EfsCertificate)
 *           Certificate length u32 | Certificate offset u32 (from Length2)
 *           Reserved2 8 zero bytes (rest of the 16-byte union) | [SID] | DER certificate
 * ```
 * [MS-GPEF] defines Length1/Length2 as ending exactly at the end of the certificate, so no alignment padding is
 * appended (the C header's "should be a multiple of 8" comment is not a wire requirement there).
 */
const EFS_BLOB_REVISION = Buffer.from([0x01, 0x00, 0x01, 0x00]);
const KEY_SOURCE_EFS_CERTIFICATE = 2;
/** Length2, SID offset, Reserved1, certificate length, certificate offset (4 bytes each) and Reserved2 (8). */
const PUBLIC_KEY_INFO_FIXED = 28;

function efsKey(der: Buffer): Buffer {
  const length2 = PUBLIC_KEY_INFO_FIXED + der.length;
  const fixed = Buffer.alloc(4 + PUBLIC_KEY_INFO_FIXED);
  fixed.writeUInt32LE(4 + length2, 0); // Length1
  fixed.writeUInt32LE(length2, 4); // Length2
  fixed.writeUInt32LE(0, 8); // SID offset: no SID
  fixed.writeUInt32LE(KEY_SOURCE_EFS_CERTIFICATE, 12); // Reserved1
  fixed.writeUInt32LE(der.length, 16); // Certificate length
  fixed.writeUInt32LE(PUBLIC_KEY_INFO_FIXED, 20); // Certificate offset, from Length2
  // bytes 24..31: Reserved2, zero.
  return Buffer.concat([fixed, der]);
}

/** One recovery key per DER-encoded X.509 certificate, in order. */
export function efsRecoveryPolicyBlob(certificates: readonly Buffer[]): Buffer {
  if (certificates.length === 0) throw new RangeError('an EFS recovery policy needs at least one certificate');
  const count = Buffer.alloc(4);
  count.writeUInt32LE(certificates.length, 0);
  return Buffer.concat([EFS_BLOB_REVISION, count, ...certificates.map(efsKey)]);
}
