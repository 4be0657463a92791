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
// Windows Information Protection (MAM and MDM).
import type { GraphSchemaPart } from './model.ts';

export const WIP_SCHEMA: GraphSchemaPart = {
  types: {
    iPv4CidrRange: { base: 'ipRange', properties: {
      cidrAddress: { type: 'Edm.String', nullable: false },
    } },
    iPv4Range: { base: 'ipRange', properties: {
      lowerAddress: { type: 'Edm.String', nullable: false },
      upperAddress: { type: 'Edm.String', nullable: false },
    } },
    iPv6CidrRange: { base: 'ipRange', properties: {
      cidrAddress: { type: 'Edm.String', nullable: false },
    } },
    iPv6Range: { base: 'ipRange', properties: {
      lowerAddress: { type: 'Edm.String', nullable: false },
      upperAddress: { type: 'Edm.String', nullable: false },
    } },
    ipRange: { abstract: true, properties: {
    } },
    mdmWindowsInformationProtectionPolicy: { base: 'windowsInformationProtection', properties: {
    } },
    proxiedDomain: { properties: {
      ipAddressOrFQDN: { type: 'Edm.String', nullable: false },
      proxy: { type: 'Edm.String', nullable: true },
    } },
    windowsInformationProtection: { base: 'managedAppPolicy', abstract: true, properties: {
      assignments: { type: 'targetedManagedAppPolicyAssignment', collection: true, nullable: true, navigation: true },
      azureRightsManagementServicesAllowed: { type: 'Edm.Boolean', nullable: false },
      dataRecoveryCertificate: { type: 'windowsInformationProtectionDataRecoveryCertificate', nullable: true },
      enforcementLevel: { type: 'windowsInformationProtectionEnforcementLevel', nullable: false },
      enterpriseDomain: { type: 'Edm.String', nullable: true },
      enterpriseIPRanges: { type: 'windowsInformationProtectionIPRangeCollection', collection: true, nullable: true },
      enterpriseIPRangesAreAuthoritative: { type: 'Edm.Boolean', nullable: false },
      enterpriseInternalProxyServers: { type: 'windowsInformationProtectionResourceCollection', collection: true, nullable: true },
      enterpriseNetworkDomainNames: { type: 'windowsInformationProtectionResourceCollection', collection: true, nullable: true },
      enterpriseProtectedDomainNames: { type: 'windowsInformationProtectionResourceCollection', collection: true, nullable: true },
      enterpriseProxiedDomains: { type: 'windowsInformationProtectionProxiedDomainCollection', collection: true, nullable: true },
      enterpriseProxyServers: { type: 'windowsInformationProtectionResourceCollection', collection: true, nullable: true },
      enterpriseProxyServersAreAuthoritative: { type: 'Edm.Boolean', nullable: false },
      exemptAppLockerFiles: { type: 'windowsInformationProtectionAppLockerFile', collection: true, nullable: true },
      exemptApps: { type: 'windowsInformationProtectionApp', collection: true, nullable: true },
      iconsVisible: { type: 'Edm.Boolean', nullable: false },
      indexingEncryptedStoresOrItemsBlocked: { type: 'Edm.Boolean', nullable: false },
      isAssigned: { type: 'Edm.Boolean', nullable: false, readOnly: true },
      neutralDomainResources: { type: 'windowsInformationProtectionResourceCollection', collection: true, nullable: true },
      protectedAppLockerFiles: { type: 'windowsInformationProtectionAppLockerFile', collection: true, nullable: true },
      protectedApps: { type: 'windowsInformationProtectionApp', collection: true, nullable: true },
      protectionUnderLockConfigRequired: { type: 'Edm.Boolean', nullable: false },
      revokeOnUnenrollDisabled: { type: 'Edm.Boolean', nullable: false },
      rightsManagementServicesTemplateId: { type: 'Edm.Guid', nullable: true },
      smbAutoEncryptedFileExtensions: { type: 'windowsInformationProtectionResourceCollection', collection: true, nullable: true },
    } },
    windowsInformationProtectionApp: { abstract: true, properties: {
      denied: { type: 'Edm.Boolean', nullable: false },
      description: { type: 'Edm.String', nullable: true },
      displayName: { type: 'Edm.String', nullable: false },
      productName: { type: 'Edm.String', nullable: true },
      publisherName: { type: 'Edm.String', nullable: true },
    } },
    windowsInformationProtectionAppLockerFile: { base: 'entity', properties: {
      displayName: { type: 'Edm.String', nullable: true },
      file: { type: 'Edm.Binary', nullable: true },
      fileHash: { type: 'Edm.String', nullable: true },
      version: { type: 'Edm.String', nullable: true },
    } },
    windowsInformationProtectionDataRecoveryCertificate: { properties: {
      certificate: { type: 'Edm.Binary', nullable: true },
      description: { type: 'Edm.String', nullable: true },
      expirationDateTime: { type: 'Edm.DateTimeOffset', nullable: false },
      subjectName: { type: 'Edm.String', nullable: true },
    } },
    windowsInformationProtectionDesktopApp: { base: 'windowsInformationProtectionApp', properties: {
      binaryName: { type: 'Edm.String', nullable: false },
      binaryVersionHigh: { type: 'Edm.String', nullable: true },
      binaryVersionLow: { type: 'Edm.String', nullable: true },
    } },
    windowsInformationProtectionIPRangeCollection: { properties: {
      displayName: { type: 'Edm.String', nullable: false },
      ranges: { type: 'ipRange', collection: true, nullable: false },
    } },
    windowsInformationProtectionPolicy: { base: 'windowsInformationProtection', properties: {
      daysWithoutContactBeforeUnenroll: { type: 'Edm.Int32', nullable: false },
      mdmEnrollmentUrl: { type: 'Edm.String', nullable: true },
      minutesOfInactivityBeforeDeviceLock: { type: 'Edm.Int32', nullable: false },
      numberOfPastPinsRemembered: { type: 'Edm.Int32', nullable: false },
      passwordMaximumAttemptCount: { type: 'Edm.Int32', nullable: false },
      pinExpirationDays: { type: 'Edm.Int32', nullable: false },
      pinLowercaseLetters: { type: 'windowsInformationProtectionPinCharacterRequirements', nullable: false },
      pinMinimumLength: { type: 'Edm.Int32', nullable: false },
      pinSpecialCharacters: { type: 'windowsInformationProtectionPinCharacterRequirements', nullable: false },
      pinUppercaseLetters: { type: 'windowsInformationProtectionPinCharacterRequirements', nullable: false },
      revokeOnMdmHandoffDisabled: { type: 'Edm.Boolean', nullable: false },
      windowsHelloForBusinessBlocked: { type: 'Edm.Boolean', nullable: false },
    } },
    windowsInformationProtectionProxiedDomainCollection: { properties: {
      displayName: { type: 'Edm.String', nullable: false },
      proxiedDomains: { type: 'proxiedDomain', collection: true, nullable: false },
    } },
    windowsInformationProtectionResourceCollection: { properties: {
      displayName: { type: 'Edm.String', nullable: false },
      resources: { type: 'Edm.String', collection: true, nullable: true },
    } },
    windowsInformationProtectionStoreApp: { base: 'windowsInformationProtectionApp', properties: {
    } },
  },
  enums: {
    windowsInformationProtectionEnforcementLevel: { members: ["noProtection", "encryptAndAuditOnly", "encryptAuditAndPrompt", "encryptAuditAndBlock"] },
    windowsInformationProtectionPinCharacterRequirements: { members: ["notAllow", "requireAtLeastOne", "allow"] },
  },
};
