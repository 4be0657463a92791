/**
 * `@openmam/contract`: the wire contract of OpenMAM's app protection service, shared by the server and
 * `@openmam/client`. This entry holds the static types of the JSON bodies and the pure rules both sides apply; it
 * loads nothing at run time but its own files. The JSON Schemas the types come from are in `@openmam/contract/schemas`
 * (which loads typebox), for servers, validators and OpenAPI.
 */
import type { Static } from 'typebox';
import type * as Schemas from './schemas.ts';

export { compareVersions, parseVersion, MAX_COMPONENT_DIGITS, MAX_VERSION_COMPONENTS, MAX_VERSION_LENGTH, VERSION_PATTERN } from './versions.ts';
export type { Version } from './versions.ts';
export { parseIsoDuration, MAX_DURATION_LENGTH } from './duration.ts';
export * from './limits.ts';
export { ACTION_PRECEDENCE, UNREADABLE_VERSION_REASON, VERSION_CHECKS, failedVersionChecks } from './health.ts';
export type { RemediationAction, RunningVersions, VersionBound, VersionCheck, VersionCheckFailure, VersionSetting, VersionSubject } from './health.ts';

// /mam/v1
export type RegistrationRequest = Static<typeof Schemas.RegistrationRequest>;
export type CheckInRequest = Static<typeof Schemas.CheckInRequest>;
export type ActionResultRequest = Static<typeof Schemas.ActionResultRequest>;
export type HealthCheckFailure = Static<typeof Schemas.HealthCheckFailure>;
export type PolicySettings = Static<typeof Schemas.PolicySettings>;
export type PolicyDocument = Static<typeof Schemas.PolicyDocument>;
export type ConfigurationDocument = Static<typeof Schemas.ConfigurationDocument>;
export type ActionMessage = Static<typeof Schemas.ActionMessage>;
export type MamAction = Static<typeof Schemas.MamAction>;
export type ComplianceState = Static<typeof Schemas.ComplianceState>;
export type CheckInAnswer = Static<typeof Schemas.CheckInAnswer>;
export type RegistrationAnswer = Static<typeof Schemas.RegistrationAnswer>;
// /mtd/v1
export type ThreatLevel = Static<typeof Schemas.ThreatLevel>;
export type ThreatReportRequest = Static<typeof Schemas.ThreatReportRequest>;
export type HeartbeatRequest = Static<typeof Schemas.HeartbeatRequest>;
// /access/v1
export type AccessRequest = Static<typeof Schemas.AccessRequest>;
export type AccessDecision = Static<typeof Schemas.AccessDecision>;
export type DeviceComplianceRequest = Static<typeof Schemas.DeviceComplianceRequest>;
// every surface
export type ErrorBody = Static<typeof Schemas.ErrorBody>;
