// Generated from Microsoft Graph metadata (github.com/microsoftgraph/msgraph-metadata): schemas/v1.0-Prod.csdl at
// commit 0564689b82afc308d5aa8be54edfb9e5f1e0539f (types, nullability, enum members and order), and
// schemas/type-mappings/beta-{entity,complex,enum}-types.json at commit f54f11b60956ea7b185ca0447b2b80805836ec7b (the beta
// property names and enum members; beta-Prod.csdl is too large to mirror). Properties and types marked betaOnly exist
// in beta only; their EDM types are transcribed from the beta reference pages (learn.microsoft.com/graph/api/resources/
// intune-*?view=graph-rest-beta), and were checked (type, collection, enum members) against github.com/microsoftgraph/
// microsoft-graph-docs-contrib (formerly microsoft-graph-docs) api-reference/beta/resources at commit
// 022b186da1bf6d2f88b9513122ebb32b0b70ef0e (the pages' ms.date 08/01/2024); nullability the pages do not state is kept,
// and what no page documents is listed in scripts/graph-schema.py. readOnly marks what Graph computes (ignored on
// input). Edit by regenerating.
// Device configurations: custom OMA settings and certificate profiles.
import type { GraphSchemaPart } from './model.ts';

export const DEVICE_CONFIGURATION_SCHEMA: GraphSchemaPart = {
  types: {
    customSubjectAlternativeName: { betaOnly: true, properties: {
      name: { type: 'Edm.String', nullable: true, betaOnly: true },
      sanType: { type: 'subjectAlternativeNameType', nullable: false, betaOnly: true },
    } },
    extendedKeyUsage: { betaOnly: true, properties: {
      name: { type: 'Edm.String', nullable: true, betaOnly: true },
      objectIdentifier: { type: 'Edm.String', nullable: true, betaOnly: true },
    } },
    omaSetting: { abstract: true, properties: {
      description: { type: 'Edm.String', nullable: true },
      displayName: { type: 'Edm.String', nullable: false },
      isEncrypted: { type: 'Edm.Boolean', nullable: false, betaOnly: true },
      omaUri: { type: 'Edm.String', nullable: false },
      secretReferenceValueId: { type: 'Edm.String', nullable: true, betaOnly: true, readOnly: true },
    } },
    omaSettingBase64: { base: 'omaSetting', properties: {
      fileName: { type: 'Edm.String', nullable: true },
      value: { type: 'Edm.String', nullable: false },
    } },
    omaSettingBoolean: { base: 'omaSetting', properties: {
      value: { type: 'Edm.Boolean', nullable: false },
    } },
    omaSettingDateTime: { base: 'omaSetting', properties: {
      value: { type: 'Edm.DateTimeOffset', nullable: false },
    } },
    omaSettingFloatingPoint: { base: 'omaSetting', properties: {
      value: { type: 'Edm.Single', nullable: false },
    } },
    omaSettingInteger: { base: 'omaSetting', properties: {
      isReadOnly: { type: 'Edm.Boolean', nullable: false, betaOnly: true },
      value: { type: 'Edm.Int32', nullable: false },
    } },
    omaSettingString: { base: 'omaSetting', properties: {
      value: { type: 'Edm.String', nullable: false },
    } },
    omaSettingStringXml: { base: 'omaSetting', properties: {
      fileName: { type: 'Edm.String', nullable: true },
      value: { type: 'Edm.Binary', nullable: false },
    } },
    windows10CustomConfiguration: { base: 'deviceConfiguration', properties: {
      omaSettings: { type: 'omaSetting', collection: true, nullable: true },
    } },
    windows10ImportedPFXCertificateProfile: { base: 'windowsCertificateProfileBase', betaOnly: true, properties: {
      intendedPurpose: { type: 'intendedPurpose', nullable: false, betaOnly: true },
      managedDeviceCertificateStates: { type: 'entity', nullable: true, betaOnly: true, navigation: true },
    } },
    windows81CertificateProfileBase: { base: 'windowsCertificateProfileBase', abstract: true, betaOnly: true, properties: {
      customSubjectAlternativeNames: { type: 'customSubjectAlternativeName', collection: true, nullable: true, betaOnly: true },
      extendedKeyUsages: { type: 'extendedKeyUsage', collection: true, nullable: true, betaOnly: true },
    } },
    windows81SCEPCertificateProfile: { base: 'windows81CertificateProfileBase', betaOnly: true, properties: {
      certificateStore: { type: 'certificateStore', nullable: false, betaOnly: true },
      hashAlgorithm: { type: 'hashAlgorithms', nullable: false, betaOnly: true },
      keySize: { type: 'keySize', nullable: false, betaOnly: true },
      keyUsage: { type: 'keyUsages', nullable: false, betaOnly: true },
      managedDeviceCertificateStates: { type: 'entity', nullable: true, betaOnly: true, navigation: true },
      rootCertificate: { type: 'entity', nullable: true, betaOnly: true, navigation: true },
      scepServerUrls: { type: 'Edm.String', collection: true, nullable: true, betaOnly: true },
      subjectAlternativeNameFormatString: { type: 'Edm.String', nullable: true, betaOnly: true },
      subjectNameFormatString: { type: 'Edm.String', nullable: true, betaOnly: true },
    } },
    windows81TrustedRootCertificate: { base: 'deviceConfiguration', betaOnly: true, properties: {
      certFileName: { type: 'Edm.String', nullable: true, betaOnly: true },
      destinationStore: { type: 'certificateDestinationStore', nullable: false, betaOnly: true },
      trustedRootCertificate: { type: 'Edm.Binary', nullable: true, betaOnly: true },
    } },
    windowsCertificateProfileBase: { base: 'deviceConfiguration', abstract: true, betaOnly: true, properties: {
      certificateValidityPeriodScale: { type: 'certificateValidityPeriodScale', nullable: false, betaOnly: true },
      certificateValidityPeriodValue: { type: 'Edm.Int32', nullable: false, betaOnly: true },
      keyStorageProvider: { type: 'keyStorageProviderOption', nullable: false, betaOnly: true },
      renewalThresholdPercentage: { type: 'Edm.Int32', nullable: false, betaOnly: true },
      subjectAlternativeNameType: { type: 'subjectAlternativeNameType', nullable: false, betaOnly: true },
      subjectNameFormat: { type: 'subjectNameFormat', nullable: false, betaOnly: true },
    } },
  },
  enums: {
    certificateDestinationStore: { members: ["computerCertStoreIntermediate", "computerCertStoreRoot", "userCertStoreIntermediate"] },
    certificateStore: { members: ["machine", "user"] },
    certificateValidityPeriodScale: { members: ["days", "months", "years"] },
    hashAlgorithms: { members: ["sha1", "sha2"], flags: true },
    intendedPurpose: { members: ["smimeEncryption", "smimeSigning", "unassigned", "vpn", "wifi"] },
    keySize: { members: ["size1024", "size2048", "size4096"] },
    keyStorageProviderOption: { members: ["usePassportForWorkKspOtherwiseFail", "useSoftwareKsp", "useTpmKspOtherwiseFail", "useTpmKspOtherwiseUseSoftwareKsp"] },
    keyUsages: { members: ["digitalSignature", "keyEncipherment"], flags: true },
    subjectAlternativeNameType: { members: ["customAzureADAttribute", "domainNameService", "emailAddress", "none", "universalResourceIdentifier", "userPrincipalName"], flags: true },
    subjectNameFormat: { members: ["commonName", "commonNameAsAadDeviceId", "commonNameAsDurableDeviceId", "commonNameAsEmail", "commonNameAsIMEI", "commonNameAsIntuneDeviceId", "commonNameAsSerialNumber", "commonNameIncludingEmail", "custom"] },
  },
};
