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
// Entra conditional access policies.
import type { GraphSchemaPart } from './model.ts';

export const CONDITIONAL_ACCESS_SCHEMA: GraphSchemaPart = {
  types: {
    applicationEnforcedRestrictionsSessionControl: { base: 'conditionalAccessSessionControl', properties: {
    } },
    cloudAppSecuritySessionControl: { base: 'conditionalAccessSessionControl', properties: {
      cloudAppSecurityType: { type: 'cloudAppSecuritySessionControlType', nullable: true },
    } },
    conditionalAccessApplications: { properties: {
      applicationFilter: { type: 'conditionalAccessFilter', nullable: true },
      excludeApplications: { type: 'Edm.String', collection: true, nullable: false },
      includeApplications: { type: 'Edm.String', collection: true, nullable: false },
      includeAuthenticationContextClassReferences: { type: 'Edm.String', collection: true, nullable: false },
      includeUserActions: { type: 'Edm.String', collection: true, nullable: false },
    } },
    conditionalAccessAuthenticationFlows: { properties: {
      transferMethods: { type: 'conditionalAccessTransferMethods', nullable: false },
    } },
    conditionalAccessClientApplications: { properties: {
      excludeServicePrincipals: { type: 'Edm.String', collection: true, nullable: false },
      includeServicePrincipals: { type: 'Edm.String', collection: true, nullable: false },
      servicePrincipalFilter: { type: 'conditionalAccessFilter', nullable: true },
    } },
    conditionalAccessConditionSet: { properties: {
      applications: { type: 'conditionalAccessApplications', nullable: true },
      authenticationFlows: { type: 'conditionalAccessAuthenticationFlows', nullable: true },
      clientAppTypes: { type: 'conditionalAccessClientApp', collection: true, nullable: false },
      clientApplications: { type: 'conditionalAccessClientApplications', nullable: true },
      devices: { type: 'conditionalAccessDevices', nullable: true },
      insiderRiskLevels: { type: 'conditionalAccessInsiderRiskLevels', nullable: true },
      locations: { type: 'conditionalAccessLocations', nullable: true },
      platforms: { type: 'conditionalAccessPlatforms', nullable: true },
      servicePrincipalRiskLevels: { type: 'riskLevel', collection: true, nullable: false },
      signInRiskLevels: { type: 'riskLevel', collection: true, nullable: false },
      userRiskLevels: { type: 'riskLevel', collection: true, nullable: false },
      users: { type: 'conditionalAccessUsers', nullable: true },
    } },
    conditionalAccessDevices: { properties: {
      deviceFilter: { type: 'conditionalAccessFilter', nullable: true },
    } },
    conditionalAccessExternalTenants: { abstract: true, properties: {
      membershipKind: { type: 'conditionalAccessExternalTenantsMembershipKind', nullable: true },
    } },
    conditionalAccessFilter: { properties: {
      mode: { type: 'filterMode', nullable: false },
      rule: { type: 'Edm.String', nullable: false },
    } },
    conditionalAccessGrantControls: { properties: {
      authenticationStrength: { type: 'authenticationStrengthPolicy', nullable: true, navigation: true },
      builtInControls: { type: 'conditionalAccessGrantControl', collection: true, nullable: false },
      customAuthenticationFactors: { type: 'Edm.String', collection: true, nullable: false },
      operator: { type: 'Edm.String', nullable: true },
      termsOfUse: { type: 'Edm.String', collection: true, nullable: false },
    } },
    conditionalAccessGuestsOrExternalUsers: { properties: {
      externalTenants: { type: 'conditionalAccessExternalTenants', nullable: true },
      guestOrExternalUserTypes: { type: 'conditionalAccessGuestOrExternalUserTypes', nullable: false },
    } },
    conditionalAccessLocations: { properties: {
      excludeLocations: { type: 'Edm.String', collection: true, nullable: false },
      includeLocations: { type: 'Edm.String', collection: true, nullable: false },
    } },
    conditionalAccessPlatforms: { properties: {
      excludePlatforms: { type: 'conditionalAccessDevicePlatform', collection: true, nullable: false },
      includePlatforms: { type: 'conditionalAccessDevicePlatform', collection: true, nullable: false },
    } },
    conditionalAccessPolicy: { base: 'policyDeletableItem', properties: {
      conditions: { type: 'conditionalAccessConditionSet', nullable: false },
      createdDateTime: { type: 'Edm.DateTimeOffset', nullable: true, readOnly: true },
      description: { type: 'Edm.String', nullable: true },
      displayName: { type: 'Edm.String', nullable: false },
      grantControls: { type: 'conditionalAccessGrantControls', nullable: true },
      id: { type: 'Edm.String', nullable: false, readOnly: true },
      modifiedDateTime: { type: 'Edm.DateTimeOffset', nullable: true, readOnly: true },
      sessionControls: { type: 'conditionalAccessSessionControls', nullable: true },
      state: { type: 'conditionalAccessPolicyState', nullable: false },
      templateId: { type: 'Edm.String', nullable: true, readOnly: true },
    } },
    conditionalAccessSessionControl: { abstract: true, properties: {
      isEnabled: { type: 'Edm.Boolean', nullable: true },
    } },
    conditionalAccessSessionControls: { properties: {
      applicationEnforcedRestrictions: { type: 'applicationEnforcedRestrictionsSessionControl', nullable: true },
      cloudAppSecurity: { type: 'cloudAppSecuritySessionControl', nullable: true },
      disableResilienceDefaults: { type: 'Edm.Boolean', nullable: true },
      persistentBrowser: { type: 'persistentBrowserSessionControl', nullable: true },
      secureSignInSession: { type: 'secureSignInSessionControl', nullable: true },
      signInFrequency: { type: 'signInFrequencySessionControl', nullable: true },
    } },
    conditionalAccessUsers: { properties: {
      excludeGroups: { type: 'Edm.String', collection: true, nullable: false },
      excludeGuestsOrExternalUsers: { type: 'conditionalAccessGuestsOrExternalUsers', nullable: true },
      excludeRoles: { type: 'Edm.String', collection: true, nullable: false },
      excludeUsers: { type: 'Edm.String', collection: true, nullable: false },
      includeGroups: { type: 'Edm.String', collection: true, nullable: false },
      includeGuestsOrExternalUsers: { type: 'conditionalAccessGuestsOrExternalUsers', nullable: true },
      includeRoles: { type: 'Edm.String', collection: true, nullable: false },
      includeUsers: { type: 'Edm.String', collection: true, nullable: false },
    } },
    persistentBrowserSessionControl: { base: 'conditionalAccessSessionControl', properties: {
      mode: { type: 'persistentBrowserSessionMode', nullable: true },
    } },
    policyDeletableItem: { abstract: true, properties: {
      deletedDateTime: { type: 'Edm.DateTimeOffset', nullable: true, readOnly: true },
    } },
    secureSignInSessionControl: { base: 'conditionalAccessSessionControl', properties: {
    } },
    signInFrequencySessionControl: { base: 'conditionalAccessSessionControl', properties: {
      authenticationType: { type: 'signInFrequencyAuthenticationType', nullable: true },
      frequencyInterval: { type: 'signInFrequencyInterval', nullable: true },
      type: { type: 'signinFrequencyType', nullable: true },
      value: { type: 'Edm.Int32', nullable: true },
    } },
  },
  enums: {
    cloudAppSecuritySessionControlType: { members: ["mcasConfigured", "monitorOnly", "blockDownloads", "unknownFutureValue"] },
    conditionalAccessClientApp: { members: ["all", "browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "easSupported", "other", "unknownFutureValue"] },
    conditionalAccessDevicePlatform: { members: ["android", "iOS", "windows", "windowsPhone", "macOS", "all", "unknownFutureValue", "linux"] },
    conditionalAccessExternalTenantsMembershipKind: { members: ["all", "enumerated", "unknownFutureValue"] },
    conditionalAccessGrantControl: { members: ["block", "mfa", "compliantDevice", "domainJoinedDevice", "approvedApplication", "compliantApplication", "passwordChange", "unknownFutureValue", "riskRemediation"] },
    conditionalAccessGuestOrExternalUserTypes: { members: ["none", "internalGuest", "b2bCollaborationGuest", "b2bCollaborationMember", "b2bDirectConnectUser", "otherExternalUser", "serviceProvider", "unknownFutureValue"], flags: true },
    conditionalAccessInsiderRiskLevels: { members: ["minor", "moderate", "elevated", "unknownFutureValue"], flags: true },
    conditionalAccessPolicyState: { members: ["enabled", "disabled", "enabledForReportingButNotEnforced"] },
    conditionalAccessTransferMethods: { members: ["none", "deviceCodeFlow", "authenticationTransfer", "unknownFutureValue"], flags: true },
    filterMode: { members: ["include", "exclude"] },
    persistentBrowserSessionMode: { members: ["always", "never"] },
    riskLevel: { members: ["low", "medium", "high", "hidden", "none", "unknownFutureValue"] },
    signInFrequencyAuthenticationType: { members: ["primaryAndSecondaryAuthentication", "secondaryAuthentication", "unknownFutureValue"] },
    signInFrequencyInterval: { members: ["timeBased", "everyTime", "unknownFutureValue"] },
    signinFrequencyType: { members: ["days", "hours"] },
  },
};
