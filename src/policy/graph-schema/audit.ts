// Transcribed by hand from Graph's metadata (github.com/microsoftgraph/msgraph-metadata, schemas/v1.0-Prod.csdl and
// beta: EntityType auditEvent, ComplexTypes auditActor, auditResource, auditProperty, roleScopeTagInfo) and the
// reference pages learn.microsoft.com/graph/api/resources/intune-auditing-auditevent (v1.0 and beta),
// intune-auditing-auditactor, intune-auditing-auditresource, intune-auditing-auditproperty. v1.0's deviceManagement
// has auditEvents too, with the same auditEvent and auditProperty; properties and types marked betaOnly exist in
// beta only (auditActor's type, userRoleScopeTags, remoteTenantId and remoteUserId, auditResource's type,
// roleScopeTagInfo). The audit trail (core/audit).
import type { GraphSchemaPart } from './model.ts';

export const AUDIT_SCHEMA: GraphSchemaPart = {
  types: {
    auditEvent: { base: 'entity', properties: {
      displayName: { type: 'Edm.String', nullable: true },
      componentName: { type: 'Edm.String', nullable: true },
      actor: { type: 'auditActor', nullable: true },
      activity: { type: 'Edm.String', nullable: true },
      activityDateTime: { type: 'Edm.DateTimeOffset', nullable: false },
      activityType: { type: 'Edm.String', nullable: true },
      activityOperationType: { type: 'Edm.String', nullable: true },
      activityResult: { type: 'Edm.String', nullable: true },
      correlationId: { type: 'Edm.Guid', nullable: false },
      resources: { type: 'auditResource', collection: true, nullable: true },
      category: { type: 'Edm.String', nullable: true },
    } },
    auditActor: { properties: {
      type: { type: 'Edm.String', nullable: true, betaOnly: true },
      auditActorType: { type: 'Edm.String', nullable: true },
      userPermissions: { type: 'Edm.String', collection: true, nullable: true },
      applicationId: { type: 'Edm.String', nullable: true },
      applicationDisplayName: { type: 'Edm.String', nullable: true },
      userPrincipalName: { type: 'Edm.String', nullable: true },
      servicePrincipalName: { type: 'Edm.String', nullable: true },
      ipAddress: { type: 'Edm.String', nullable: true },
      userId: { type: 'Edm.String', nullable: true },
      userRoleScopeTags: { type: 'roleScopeTagInfo', collection: true, nullable: true, betaOnly: true },
      remoteTenantId: { type: 'Edm.String', nullable: true, betaOnly: true },
      remoteUserId: { type: 'Edm.String', nullable: true, betaOnly: true },
    } },
    roleScopeTagInfo: { betaOnly: true, properties: {
      displayName: { type: 'Edm.String', nullable: true, betaOnly: true },
      roleScopeTagId: { type: 'Edm.String', nullable: true, betaOnly: true },
    } },
    auditResource: { properties: {
      displayName: { type: 'Edm.String', nullable: true },
      modifiedProperties: { type: 'auditProperty', collection: true, nullable: true },
      type: { type: 'Edm.String', nullable: true, betaOnly: true },
      auditResourceType: { type: 'Edm.String', nullable: true },
      resourceId: { type: 'Edm.String', nullable: true },
    } },
    auditProperty: { properties: {
      displayName: { type: 'Edm.String', nullable: true },
      oldValue: { type: 'Edm.String', nullable: true },
      newValue: { type: 'Edm.String', nullable: true },
    } },
  },
  enums: {},
};
