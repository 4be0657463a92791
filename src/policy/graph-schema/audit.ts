// Transcribed by hand from Graph's beta metadata (github.com/microsoftgraph/msgraph-metadata, beta: EntityType
// auditEvent, ComplexTypes auditActor, auditResource, auditProperty, roleScopeTagInfo) and the reference pages
// learn.microsoft.com/graph/api/resources/intune-auditing-auditevent?view=graph-rest-beta, intune-auditing-auditactor,
// intune-auditing-auditresource, intune-auditing-auditproperty. Beta only: v1.0's deviceManagement has no auditEvents.
// The audit trail (core/audit).
import type { GraphSchemaPart } from './model.ts';

export const AUDIT_SCHEMA: GraphSchemaPart = {
  types: {
    auditEvent: { base: 'entity', betaOnly: true, properties: {
      displayName: { type: 'Edm.String', nullable: true, betaOnly: true },
      componentName: { type: 'Edm.String', nullable: true, betaOnly: true },
      actor: { type: 'auditActor', nullable: true, betaOnly: true },
      activity: { type: 'Edm.String', nullable: true, betaOnly: true },
      activityDateTime: { type: 'Edm.DateTimeOffset', nullable: false, betaOnly: true },
      activityType: { type: 'Edm.String', nullable: true, betaOnly: true },
      activityOperationType: { type: 'Edm.String', nullable: true, betaOnly: true },
      activityResult: { type: 'Edm.String', nullable: true, betaOnly: true },
      correlationId: { type: 'Edm.Guid', nullable: false, betaOnly: true },
      resources: { type: 'auditResource', collection: true, nullable: true, betaOnly: true },
      category: { type: 'Edm.String', nullable: true, betaOnly: true },
    } },
    auditActor: { betaOnly: true, properties: {
      type: { type: 'Edm.String', nullable: true, betaOnly: true },
      auditActorType: { type: 'Edm.String', nullable: true, betaOnly: true },
      userPermissions: { type: 'Edm.String', collection: true, nullable: true, betaOnly: true },
      applicationId: { type: 'Edm.String', nullable: true, betaOnly: true },
      applicationDisplayName: { type: 'Edm.String', nullable: true, betaOnly: true },
      userPrincipalName: { type: 'Edm.String', nullable: true, betaOnly: true },
      servicePrincipalName: { type: 'Edm.String', nullable: true, betaOnly: true },
      ipAddress: { type: 'Edm.String', nullable: true, betaOnly: true },
      userId: { type: 'Edm.String', nullable: true, betaOnly: true },
      userRoleScopeTags: { type: 'roleScopeTagInfo', collection: true, nullable: true, betaOnly: true },
      remoteTenantId: { type: 'Edm.String', nullable: true, betaOnly: true },
      remoteUserId: { type: 'Edm.String', nullable: true, betaOnly: true },
    } },
    roleScopeTagInfo: { betaOnly: true, properties: {
      displayName: { type: 'Edm.String', nullable: true, betaOnly: true },
      roleScopeTagId: { type: 'Edm.String', nullable: true, betaOnly: true },
    } },
    auditResource: { betaOnly: true, properties: {
      displayName: { type: 'Edm.String', nullable: true, betaOnly: true },
      modifiedProperties: { type: 'auditProperty', collection: true, nullable: true, betaOnly: true },
      type: { type: 'Edm.String', nullable: true, betaOnly: true },
      auditResourceType: { type: 'Edm.String', nullable: true, betaOnly: true },
      resourceId: { type: 'Edm.String', nullable: true, betaOnly: true },
    } },
    auditProperty: { betaOnly: true, properties: {
      displayName: { type: 'Edm.String', nullable: true, betaOnly: true },
      oldValue: { type: 'Edm.String', nullable: true, betaOnly: true },
      newValue: { type: 'Edm.String', nullable: true, betaOnly: true },
    } },
  },
  enums: {},
};
