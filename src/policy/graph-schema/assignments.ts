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
// Assignments and their targets.
import type { GraphSchemaPart } from './model.ts';

export const ASSIGNMENTS_SCHEMA: GraphSchemaPart = {
  types: {
    allDevicesAssignmentTarget: { base: 'deviceAndAppManagementAssignmentTarget', properties: {
    } },
    allLicensedUsersAssignmentTarget: { base: 'deviceAndAppManagementAssignmentTarget', properties: {
    } },
    configurationManagerCollectionAssignmentTarget: { base: 'deviceAndAppManagementAssignmentTarget', properties: {
      collectionId: { type: 'Edm.String', nullable: true },
    } },
    deviceAndAppManagementAssignmentTarget: { abstract: true, properties: {
      deviceAndAppManagementAssignmentFilterId: { type: 'Edm.String', nullable: true, betaOnly: true },
      deviceAndAppManagementAssignmentFilterType: { type: 'deviceAndAppManagementAssignmentFilterType', nullable: false, betaOnly: true },
    } },
    deviceConfigurationAssignment: { base: 'entity', properties: {
      intent: { type: 'deviceConfigAssignmentIntent', nullable: false, betaOnly: true },
      source: { type: 'deviceAndAppManagementAssignmentSource', nullable: false, betaOnly: true },
      sourceId: { type: 'Edm.String', nullable: true, betaOnly: true },
      target: { type: 'deviceAndAppManagementAssignmentTarget', nullable: true },
    } },
    groupAssignmentTarget: { base: 'deviceAndAppManagementAssignmentTarget', properties: {
      groupId: { type: 'Edm.String', nullable: true },
    } },
    targetedManagedAppPolicyAssignment: { base: 'entity', properties: {
      source: { type: 'deviceAndAppManagementAssignmentSource', nullable: false, betaOnly: true },
      sourceId: { type: 'Edm.String', nullable: true, betaOnly: true },
      target: { type: 'deviceAndAppManagementAssignmentTarget', nullable: true },
    } },
  },
  enums: {
    deviceAndAppManagementAssignmentFilterType: { members: ["exclude", "include", "none"] },
    deviceAndAppManagementAssignmentSource: { members: ["direct", "policySets"] },
    deviceConfigAssignmentIntent: { members: ["apply", "remove"] },
  },
};
