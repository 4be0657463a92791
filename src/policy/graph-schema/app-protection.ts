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
// App protection, app configuration and threat defense connectors.
import type { GraphSchemaPart } from './model.ts';

export const APP_PROTECTION_SCHEMA: GraphSchemaPart = {
  types: {
    keyValuePair: { properties: {
      name: { type: 'Edm.String', nullable: false },
      value: { type: 'Edm.String', nullable: true },
    } },
    managedAppConfiguration: { base: 'managedAppPolicy', abstract: true, properties: {
      customSettings: { type: 'keyValuePair', collection: true, nullable: false },
      settings: { type: 'entity', nullable: true, betaOnly: true, navigation: true },
    } },
    mobileThreatDefenseConnector: { base: 'entity', properties: {
      allowPartnerToCollectIOSApplicationMetadata: { type: 'Edm.Boolean', nullable: false },
      allowPartnerToCollectIOSPersonalApplicationMetadata: { type: 'Edm.Boolean', nullable: false },
      allowPartnerToCollectIosCertificateMetadata: { type: 'Edm.Boolean', nullable: false, betaOnly: true },
      allowPartnerToCollectIosPersonalCertificateMetadata: { type: 'Edm.Boolean', nullable: false, betaOnly: true },
      androidDeviceBlockedOnMissingPartnerData: { type: 'Edm.Boolean', nullable: false },
      androidEnabled: { type: 'Edm.Boolean', nullable: false },
      androidMobileApplicationManagementEnabled: { type: 'Edm.Boolean', nullable: false },
      grantMobileThreatDefensePartnerRole: { type: 'Edm.Boolean', nullable: false, betaOnly: true },
      iosDeviceBlockedOnMissingPartnerData: { type: 'Edm.Boolean', nullable: false },
      iosEnabled: { type: 'Edm.Boolean', nullable: false },
      iosMobileApplicationManagementEnabled: { type: 'Edm.Boolean', nullable: false },
      lastHeartbeatDateTime: { type: 'Edm.DateTimeOffset', nullable: false, readOnly: true },
      launchMobileThreatDefensePartnerOnSetupEnabled: { type: 'Edm.Boolean', nullable: false, betaOnly: true },
      macDeviceBlockedOnMissingPartnerData: { type: 'Edm.Boolean', nullable: false, betaOnly: true },
      macEnabled: { type: 'Edm.Boolean', nullable: false, betaOnly: true },
      microsoftDefenderForEndpointAttachEnabled: { type: 'Edm.Boolean', nullable: false },
      partnerState: { type: 'mobileThreatPartnerTenantState', nullable: false },
      partnerUnresponsivenessThresholdInDays: { type: 'Edm.Int32', nullable: false },
      partnerUnsupportedOsVersionBlocked: { type: 'Edm.Boolean', nullable: false },
      windowsDeviceBlockedOnMissingPartnerData: { type: 'Edm.Boolean', nullable: false },
      windowsEnabled: { type: 'Edm.Boolean', nullable: false },
      windowsMobileApplicationManagementEnabled: { type: 'Edm.Boolean', nullable: false, betaOnly: true },
    } },
    targetedManagedAppConfiguration: { base: 'managedAppConfiguration', properties: {
      appGroupType: { type: 'targetedManagedAppGroupType', nullable: false, betaOnly: true },
      apps: { type: 'managedMobileApp', collection: true, nullable: true, navigation: true },
      assignments: { type: 'targetedManagedAppPolicyAssignment', collection: true, nullable: true, navigation: true },
      deployedAppCount: { type: 'Edm.Int32', nullable: false, readOnly: true },
      deploymentSummary: { type: 'managedAppPolicyDeploymentSummary', nullable: true, navigation: true },
      isAssigned: { type: 'Edm.Boolean', nullable: false, readOnly: true },
      targetedAppManagementLevels: { type: 'appManagementLevel', nullable: false, betaOnly: true },
    } },
    windowsManagedAppProtection: { base: 'managedAppPolicy', betaOnly: true, properties: {
      allowedInboundDataTransferSources: { type: 'windowsManagedAppDataTransferLevel', nullable: false, betaOnly: true },
      allowedOutboundClipboardSharingLevel: { type: 'windowsManagedAppClipboardSharingLevel', nullable: false, betaOnly: true },
      allowedOutboundDataTransferDestinations: { type: 'windowsManagedAppDataTransferLevel', nullable: false, betaOnly: true },
      appActionIfUnableToAuthenticateUser: { type: 'managedAppRemediationAction', nullable: true, betaOnly: true },
      apps: { type: 'entity', nullable: true, betaOnly: true, navigation: true },
      assignments: { type: 'entity', nullable: true, betaOnly: true, navigation: true },
      deployedAppCount: { type: 'Edm.Int32', nullable: false, betaOnly: true, readOnly: true },
      deploymentSummary: { type: 'entity', nullable: true, betaOnly: true, navigation: true },
      isAssigned: { type: 'Edm.Boolean', nullable: false, betaOnly: true, readOnly: true },
      maximumAllowedDeviceThreatLevel: { type: 'managedAppDeviceThreatLevel', nullable: false, betaOnly: true },
      maximumRequiredOsVersion: { type: 'Edm.String', nullable: true, betaOnly: true },
      maximumWarningOsVersion: { type: 'Edm.String', nullable: true, betaOnly: true },
      maximumWipeOsVersion: { type: 'Edm.String', nullable: true, betaOnly: true },
      minimumRequiredAppVersion: { type: 'Edm.String', nullable: true, betaOnly: true },
      minimumRequiredOsVersion: { type: 'Edm.String', nullable: true, betaOnly: true },
      minimumRequiredSdkVersion: { type: 'Edm.String', nullable: true, betaOnly: true },
      minimumWarningAppVersion: { type: 'Edm.String', nullable: true, betaOnly: true },
      minimumWarningOsVersion: { type: 'Edm.String', nullable: true, betaOnly: true },
      minimumWipeAppVersion: { type: 'Edm.String', nullable: true, betaOnly: true },
      minimumWipeOsVersion: { type: 'Edm.String', nullable: true, betaOnly: true },
      minimumWipeSdkVersion: { type: 'Edm.String', nullable: true, betaOnly: true },
      mobileThreatDefenseRemediationAction: { type: 'managedAppRemediationAction', nullable: false, betaOnly: true },
      periodOfflineBeforeAccessCheck: { type: 'Edm.Duration', nullable: false, betaOnly: true },
      periodOfflineBeforeWipeIsEnforced: { type: 'Edm.Duration', nullable: false, betaOnly: true },
      printBlocked: { type: 'Edm.Boolean', nullable: false, betaOnly: true },
    } },
  },
  enums: {
    appManagementLevel: { members: ["androidEnterprise", "androidEnterpriseDedicatedDevicesWithAzureAdSharedMode", "androidOpenSourceProjectUserAssociated", "androidOpenSourceProjectUserless", "mdm", "unknownFutureValue", "unmanaged", "unspecified"], flags: true },
    managedAppDeviceThreatLevel: { members: ["high", "low", "medium", "notConfigured", "secured"] },
    managedAppRemediationAction: { members: ["block", "blockWhenSettingIsSupported", "warn", "wipe"] },
    mobileThreatPartnerTenantState: { members: ["unavailable", "available", "enabled", "unresponsive", "unknownFutureValue", "error", "notSetUp"] },
    targetedManagedAppGroupType: { members: ["selectedPublicApps", "allCoreMicrosoftApps", "allMicrosoftApps", "allApps"] },
    windowsManagedAppClipboardSharingLevel: { members: ["anyDestinationAnySource", "none", "orgDestinationAnySource", "orgDestinationOrgSource", "unknownFutureValue"] },
    windowsManagedAppDataTransferLevel: { members: ["allApps", "none"] },
  },
};
