// Transcribed by hand (not generated: scripts/graph-schema.py predates it) from the Graph beta reference pages
// learn.microsoft.com/graph/api/resources/intune-policyset-deviceandappmanagementassignmentfilter?view=graph-rest-beta,
// intune-policyset-payloadbyfilter, intune-policyset-assignmentfiltervalidationresult and the enums devicePlatformType,
// assignmentFilterManagementType and associatedAssignmentPayloadType, with the member names of
// github.com/microsoftgraph/msgraph-metadata schemas/type-mappings/beta-enum-types.json (devicePlatformType gained
// windowsMobileApplicationManagement after unknownFutureValue). Beta only: v1.0 has no assignment filters.
// Assignment filters.
import type { GraphSchemaPart } from './model.ts';

export const ASSIGNMENT_FILTERS_SCHEMA: GraphSchemaPart = {
  types: {
    deviceAndAppManagementAssignmentFilter: { base: 'entity', betaOnly: true, properties: {
      createdDateTime: { type: 'Edm.DateTimeOffset', nullable: false, betaOnly: true, readOnly: true },
      lastModifiedDateTime: { type: 'Edm.DateTimeOffset', nullable: false, betaOnly: true, readOnly: true },
      displayName: { type: 'Edm.String', nullable: true, betaOnly: true },
      description: { type: 'Edm.String', nullable: true, betaOnly: true },
      platform: { type: 'devicePlatformType', nullable: false, betaOnly: true },
      rule: { type: 'Edm.String', nullable: true, betaOnly: true },
      roleScopeTags: { type: 'Edm.String', collection: true, nullable: true, betaOnly: true },
      // Which assignments use the filter: computed by the service (OpenMAM refuses to delete a filter in use instead).
      payloads: { type: 'payloadByFilter', collection: true, nullable: true, betaOnly: true, readOnly: true },
      assignmentFilterManagementType: { type: 'assignmentFilterManagementType', nullable: false, betaOnly: true },
    } },
    payloadByFilter: { betaOnly: true, properties: {
      payloadId: { type: 'Edm.String', nullable: true, betaOnly: true },
      payloadType: { type: 'associatedAssignmentPayloadType', nullable: false, betaOnly: true },
      groupId: { type: 'Edm.String', nullable: true, betaOnly: true },
      assignmentFilterType: { type: 'deviceAndAppManagementAssignmentFilterType', nullable: false, betaOnly: true },
    } },
    assignmentFilterValidationResult: { betaOnly: true, properties: {
      isValidRule: { type: 'Edm.Boolean', nullable: false, betaOnly: true },
    } },
  },
  enums: {
    devicePlatformType: { members: ['android', 'androidForWork', 'iOS', 'macOS', 'windowsPhone81', 'windows81AndLater', 'windows10AndLater', 'androidWorkProfile', 'unknown', 'androidAOSP', 'androidMobileApplicationManagement', 'iOSMobileApplicationManagement', 'unknownFutureValue', 'windowsMobileApplicationManagement'] },
    assignmentFilterManagementType: { members: ['devices', 'apps', 'unknownFutureValue'] },
    associatedAssignmentPayloadType: { members: ['unknown', 'deviceConfigurationAndCompliance', 'application', 'androidEnterpriseApp', 'enrollmentConfiguration', 'groupPolicyConfiguration', 'zeroTouchDeploymentDeviceConfigProfile', 'androidEnterpriseConfiguration', 'deviceFirmwareConfigurationInterfacePolicy', 'resourceAccessPolicy', 'win32app', 'deviceManagmentConfigurationAndCompliancePolicy'] },
  },
};
