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
// Bases shared by the families: entity, managedAppPolicy, deviceConfiguration.
import type { GraphSchemaPart } from './model.ts';

export const COMMON_SCHEMA: GraphSchemaPart = {
  types: {
    deviceConfiguration: { base: 'entity', abstract: true, properties: {
      assignments: { type: 'deviceConfigurationAssignment', collection: true, nullable: true, navigation: true },
      createdDateTime: { type: 'Edm.DateTimeOffset', nullable: false, readOnly: true },
      description: { type: 'Edm.String', nullable: true },
      deviceManagementApplicabilityRuleDeviceMode: { type: 'deviceManagementApplicabilityRuleDeviceMode', nullable: true, betaOnly: true },
      deviceManagementApplicabilityRuleOsEdition: { type: 'deviceManagementApplicabilityRuleOsEdition', nullable: true, betaOnly: true },
      deviceManagementApplicabilityRuleOsVersion: { type: 'deviceManagementApplicabilityRuleOsVersion', nullable: true, betaOnly: true },
      deviceSettingStateSummaries: { type: 'settingStateDeviceSummary', collection: true, nullable: true, navigation: true },
      deviceStatusOverview: { type: 'deviceConfigurationDeviceOverview', nullable: true, navigation: true },
      deviceStatuses: { type: 'deviceConfigurationDeviceStatus', collection: true, nullable: true, navigation: true },
      displayName: { type: 'Edm.String', nullable: false },
      groupAssignments: { type: 'entity', nullable: true, betaOnly: true, navigation: true },
      lastModifiedDateTime: { type: 'Edm.DateTimeOffset', nullable: false, readOnly: true },
      roleScopeTagIds: { type: 'Edm.String', collection: true, nullable: true, betaOnly: true },
      supportsScopeTags: { type: 'Edm.Boolean', nullable: false, betaOnly: true, readOnly: true },
      userStatusOverview: { type: 'deviceConfigurationUserOverview', nullable: true, navigation: true },
      userStatuses: { type: 'deviceConfigurationUserStatus', collection: true, nullable: true, navigation: true },
      version: { type: 'Edm.Int32', nullable: false, readOnly: true },
    } },
    deviceManagementApplicabilityRuleDeviceMode: { betaOnly: true, properties: {
      deviceMode: { type: 'windows10DeviceModeType', nullable: false, betaOnly: true },
      name: { type: 'Edm.String', nullable: true, betaOnly: true },
      ruleType: { type: 'deviceManagementApplicabilityRuleType', nullable: false, betaOnly: true },
    } },
    deviceManagementApplicabilityRuleOsEdition: { betaOnly: true, properties: {
      name: { type: 'Edm.String', nullable: true, betaOnly: true },
      osEditionTypes: { type: 'windows10EditionType', collection: true, nullable: true, betaOnly: true },
      ruleType: { type: 'deviceManagementApplicabilityRuleType', nullable: false, betaOnly: true },
    } },
    deviceManagementApplicabilityRuleOsVersion: { betaOnly: true, properties: {
      maxOSVersion: { type: 'Edm.String', nullable: true, betaOnly: true },
      minOSVersion: { type: 'Edm.String', nullable: true, betaOnly: true },
      name: { type: 'Edm.String', nullable: true, betaOnly: true },
      ruleType: { type: 'deviceManagementApplicabilityRuleType', nullable: false, betaOnly: true },
    } },
    entity: { abstract: true, properties: {
      id: { type: 'Edm.String', nullable: false, readOnly: true },
    } },
    managedAppPolicy: { base: 'entity', abstract: true, properties: {
      createdDateTime: { type: 'Edm.DateTimeOffset', nullable: false, readOnly: true },
      description: { type: 'Edm.String', nullable: true },
      displayName: { type: 'Edm.String', nullable: false },
      lastModifiedDateTime: { type: 'Edm.DateTimeOffset', nullable: false, readOnly: true },
      roleScopeTagIds: { type: 'Edm.String', collection: true, nullable: true, betaOnly: true },
      version: { type: 'Edm.String', nullable: true, readOnly: true },
    } },
  },
  enums: {
    deviceManagementApplicabilityRuleType: { members: ["exclude", "include"] },
    windows10DeviceModeType: { members: ["sModeConfiguration", "standardConfiguration"] },
    windows10EditionType: { members: ["windows10Enterprise", "windows10EnterpriseN", "windows10Education", "windows10EducationN", "windows10MobileEnterprise", "windows10HolographicEnterprise", "windows10Professional", "windows10ProfessionalN", "windows10ProfessionalEducation", "windows10ProfessionalEducationN", "windows10ProfessionalWorkstation", "windows10ProfessionalWorkstationN", "notConfigured", "windows10Home", "windows10HomeChina", "windows10HomeN", "windows10HomeSingleLanguage", "windows10IoTCore", "windows10IoTCoreCommercial", "windows10Mobile"] },
  },
};
