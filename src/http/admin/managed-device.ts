import { Type, type Static } from 'typebox';
import { DEVICE_STATUS_NODES, deviceFacts } from '../../core/devices/device-facts.ts';
import type { DeviceActionStore, DevicePictureStore } from '../../store/roles.ts';
import { deviceActionResults } from '../../core/management/device-actions.ts';
import { deviceHealthAttestationState } from '../../core/management/health-attestation.ts';
import type { HealthAttestationStore } from '../../store/health-attestation-records.ts';
import type { EnrollmentRecord, ManagementState } from '../../store/records.ts';
import type { ManagementStore } from '../../store/roles.ts';
import { EntityBody, NullableString } from '../graph/schemas.ts';

/**
 * One MAM enrollment as Graph's `managedDevice` (learn.microsoft.com/graph/api/resources/intune-devices-manageddevice;
 * every v1.0 property, src/policy/graph-schema/managed-device.ts), for `deviceManagement/managedDevices` and a user's
 * `managedDevices`. Each property is either what the device or its tokens stated, or Graph's default for what a MAM
 * device cannot tell (null for a string or a time, false, 0, an enum's `none`/`unknown` member): never an invented
 * value. Graph declares some of those times non-nullable (lastSyncDateTime, easActivationDateTime,
 * exchangeLastSuccessfulSyncDateTime, managementCertificateExpirationDate, complianceGracePeriodExpirationDateTime):
 * OpenMAM answers null rather than make one up (docs/graph.md).
 *
 * What is read beside the enrollment row (`DevicePicture`) is loaded a page at a time by `loadDevicePictures`, one
 * query per source whatever the page size; a feature that adds to the picture (device action results, health
 * attestation) adds one batched read there and one line in `presentDevice`.
 */

/** Graph `deviceActionResult` (learn.microsoft.com/graph/api/resources/intune-devices-deviceactionresult). */
export const DeviceActionResult = Type.Object({
  '@odata.type': Type.Optional(Type.String()),
  actionName: NullableString(),
  actionState: Type.String(),
  startDateTime: NullableString(),
  lastUpdatedDateTime: NullableString(),
  /** Who asked (admin, stale, compliance) and the SyncML status the device answered (core/management/device-actions.ts). */
  '@openmam.reason': Type.Optional(Type.String()),
  '@openmam.statusCode': Type.Optional(NullableString()),
});
export type DeviceActionResultBody = Static<typeof DeviceActionResult>;

/** Graph `deviceHealthAttestationState`: every member a string or a time, as the health attestation report gives it. */
export const DeviceHealthAttestationState = Type.Record(Type.String(), Type.Union([Type.String(), Type.Integer(), Type.Null()]));
export type DeviceHealthAttestationStateBody = Static<typeof DeviceHealthAttestationState>;

const Str = () => Type.String();
const NullableBoolean = () => Type.Union([Type.Boolean(), Type.Null()]);

/** The answer's schema (every property optional, so that `$select` may keep any): the one declaration of the shape. */
export const ManagedDevice = EntityBody({
  id: Str(),
  userId: Str(),
  deviceName: NullableString(),
  managedDeviceOwnerType: Str(),
  deviceActionResults: Type.Array(DeviceActionResult),
  enrolledDateTime: Str(),
  lastSyncDateTime: NullableString(),
  operatingSystem: Str(),
  complianceState: Str(),
  jailBroken: NullableString(),
  managementAgent: Str(),
  managementState: Str(),
  osVersion: NullableString(),
  easActivated: Type.Boolean(),
  easDeviceId: NullableString(),
  easActivationDateTime: NullableString(),
  azureADRegistered: NullableBoolean(),
  deviceEnrollmentType: Str(),
  activationLockBypassCode: NullableString(),
  emailAddress: NullableString(),
  azureADDeviceId: NullableString(),
  deviceRegistrationState: Str(),
  deviceCategoryDisplayName: NullableString(),
  isSupervised: Type.Boolean(),
  exchangeLastSuccessfulSyncDateTime: NullableString(),
  exchangeAccessState: Str(),
  exchangeAccessStateReason: Str(),
  remoteAssistanceSessionUrl: NullableString(),
  remoteAssistanceSessionErrorDetails: NullableString(),
  isEncrypted: Type.Boolean(),
  userPrincipalName: NullableString(),
  model: NullableString(),
  manufacturer: NullableString(),
  imei: NullableString(),
  complianceGracePeriodExpirationDateTime: NullableString(),
  serialNumber: NullableString(),
  phoneNumber: NullableString(),
  androidSecurityPatchLevel: NullableString(),
  userDisplayName: NullableString(),
  configurationManagerClientEnabledFeatures: Type.Null(),
  wiFiMacAddress: NullableString(),
  deviceHealthAttestationState: Type.Union([DeviceHealthAttestationState, Type.Null()]),
  subscriberCarrier: NullableString(),
  meid: NullableString(),
  totalStorageSpaceInBytes: Type.Integer(),
  freeStorageSpaceInBytes: Type.Integer(),
  managedDeviceName: NullableString(),
  partnerReportedThreatState: Str(),
  requireUserEnrollmentApproval: NullableBoolean(),
  managementCertificateExpirationDate: NullableString(),
  iccid: NullableString(),
  udid: NullableString(),
  notes: NullableString(),
  ethernetMacAddress: NullableString(),
  physicalMemoryInBytes: Type.Integer(),
  enrollmentProfileName: NullableString(),
  // OpenMAM's own words, as annotations beside Graph's members.
  '@openmam.managementAgent': Str(),
  '@openmam.enrollmentType': Str(),
  '@openmam.devId': Str(),
  /** When the device last reported DeviceStatus (so `isEncrypted: false` reads as a report or as the default); null: never. */
  '@openmam.deviceStatusReportedDateTime': NullableString(),
  /** Until when the device's raw messages are kept (setMessageLog), null when they are not. */
  '@openmam.messageLogUntilDateTime': NullableString(),
});
export type ManagedDeviceBody = Static<typeof ManagedDevice>;

/** What `$select` may name on a managed device: the schema's properties. */
export const MANAGED_DEVICE_PROPERTIES: readonly string[] = Object.keys(ManagedDevice.properties).filter((name) => !name.startsWith('@'));

/** What a managed device's answer reads beside its enrollment row. */
export interface DevicePicture {
  management: Pick<ManagementState, 'lastCheckinAt' | 'messageLogUntil'> | undefined;
  /** The stored values of the inventory nodes device-facts.ts reads (DeviceStatus). */
  inventory: ReadonlyMap<string, { value: string; updatedAt: number }>;
  /** The user's display name from the users OpenMAM saw (the newest token's `name`); null when none. */
  userDisplayName: string | null;
  /** Issue 15 H3 hook: the device's health attestation as Graph's deviceHealthAttestationState; null until known. */
  healthAttestation?: DeviceHealthAttestationStateBody | null;
  /** Issue 15 H1 hook: the retire, wipe and sync actions asked for this device (Graph deviceActionResult). */
  actionResults?: readonly DeviceActionResultBody[];
}

export type DevicePictureSource = Pick<ManagementStore, 'getManagementStatesOf'> & {
  devicePicture: DevicePictureStore;
  deviceActions: Pick<DeviceActionStore, 'deviceActionsOf'>;
  /** The devices' health attestation; absent: `deviceHealthAttestationState` stays null. */
  healthAttestation?: Pick<HealthAttestationStore, 'getHealthAttestationsOf'>;
};

/** The inventory nodes a managed device's answer reads (what deviceFacts judges DeviceStatus by). */
const PICTURE_NODES: readonly string[] = Object.values(DEVICE_STATUS_NODES);

/**
 * The pictures of a page of enrollments of one tenant, by enrollment id: one read per source (management states,
 * inventory values, user names) whatever the page size.
 */
export async function loadDevicePictures(source: DevicePictureSource, tenantId: string, enrollments: readonly EnrollmentRecord[]): Promise<Map<string, DevicePicture>> {
  const ids = enrollments.map((e) => e.id);
  const [states, inventory, names, actions, attestations] = await Promise.all([
    source.getManagementStatesOf(ids),
    source.devicePicture.inventoryOf(ids, PICTURE_NODES),
    source.devicePicture.userDisplayNamesOf(tenantId, enrollments.map((e) => e.userOid)),
    source.deviceActions.deviceActionsOf(tenantId, ids),
    source.healthAttestation?.getHealthAttestationsOf(ids),
  ]);
  return new Map(
    enrollments.map((e) => [
      e.id,
      {
        management: states.get(e.id),
        inventory: inventory.get(e.id) ?? new Map(),
        userDisplayName: names.get(e.userOid) ?? null,
        actionResults: deviceActionResults(actions.get(e.id) ?? []),
        healthAttestation: deviceHealthAttestationState(attestations?.get(e.id)),
      },
    ]),
  );
}

/** A page of enrollments as managed devices, in order. */
export async function presentDevices(source: DevicePictureSource, tenantId: string, enrollments: readonly EnrollmentRecord[]): Promise<ManagedDeviceBody[]> {
  const pictures = await loadDevicePictures(source, tenantId, enrollments);
  return enrollments.map((e) => presentDevice(e, pictures.get(e.id)!));
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** A MAM enrollment as Graph's `managedDevice`. */
export function presentDevice(enrollment: EnrollmentRecord, picture: DevicePicture): ManagedDeviceBody {
  const facts = deviceFacts(enrollment, picture.inventory);
  const linked = enrollment.entraDeviceId !== null;
  return {
    '@odata.type': '#microsoft.graph.managedDevice',
    id: enrollment.id,
    userId: enrollment.userOid,
    deviceName: enrollment.deviceName,
    // A MAM enrollment is the user's own device (BYOD), as Intune's filters call it (device-facts.ts deviceOwnership).
    managedDeviceOwnerType: 'personal',
    deviceActionResults: [...(picture.actionResults ?? [])],
    enrolledDateTime: new Date(enrollment.enrolledAt).toISOString(),
    // Never synced: null (Graph declares it non-nullable; no time is made up).
    lastSyncDateTime: iso(picture.management?.lastCheckinAt),
    operatingSystem: 'Windows',
    complianceState: enrollment.complianceState,
    // Graph documents a free string ("whether the device is jail broken or rooted") and no value for Windows.
    jailBroken: null,
    // managementAgentType (learn.microsoft.com/graph/api/resources/intune-devices-managementagenttype) names the
    // channel that manages the device. A Windows MAM enrollment is served by Windows' own MDM agent over OMA-DM
    // (MS-MDE2 enrollment, the DM client's sessions), restricted to the MAM CSP allow-list: `mdm` is that channel.
    // Graph has no MAM member; OpenMAM's own word stays in `@openmam.managementAgent`.
    managementAgent: 'mdm',
    // Retire and wipe progress (migration 019; the retire and wipe actions move it).
    managementState: enrollment.managementState,
    osVersion: enrollment.osVersion,
    easActivated: false,
    easDeviceId: null,
    easActivationDateTime: null,
    // A token carries `deviceid` only for a device registered or joined in Entra; without one OpenMAM cannot tell.
    azureADRegistered: linked ? true : null,
    // deviceEnrollmentType (learn.microsoft.com/graph/api/resources/intune-devices-deviceenrollmenttype):
    // `userEnrollment` is "user driven enrollment through BYOD channel", which a MAM enrollment is (the user adds a
    // work account to a personal device). Not `windowsAutoEnrollment` ("Add work account" into MDM) nor an Azure AD
    // join: the device is neither joined nor under MDM. OpenMAM's own word stays in `@openmam.enrollmentType`.
    deviceEnrollmentType: 'userEnrollment',
    activationLockBypassCode: null,
    // The users OpenMAM saw carry a UPN, which is not a mail address.
    emailAddress: null,
    azureADDeviceId: enrollment.entraDeviceId,
    deviceRegistrationState: linked ? 'registered' : 'unknown',
    deviceCategoryDisplayName: null,
    isSupervised: false,
    exchangeLastSuccessfulSyncDateTime: null,
    // No Exchange connector: none.
    exchangeAccessState: 'none',
    exchangeAccessStateReason: 'none',
    remoteAssistanceSessionUrl: null,
    remoteAssistanceSessionErrorDetails: null,
    // DeviceStatus Compliance/EncryptionCompliance; false (Graph's default) until the device reported it encrypted.
    isEncrypted: facts.encrypted === true,
    userPrincipalName: enrollment.upn,
    model: enrollment.model,
    manufacturer: enrollment.manufacturer,
    imei: null,
    complianceGracePeriodExpirationDateTime: iso(enrollment.complianceGraceUntil),
    serialNumber: null,
    phoneNumber: null,
    androidSecurityPatchLevel: null,
    userDisplayName: picture.userDisplayName,
    configurationManagerClientEnabledFeatures: null,
    wiFiMacAddress: null,
    deviceHealthAttestationState: picture.healthAttestation ?? null,
    subscriberCarrier: null,
    meid: null,
    totalStorageSpaceInBytes: 0,
    freeStorageSpaceInBytes: 0,
    managedDeviceName: null,
    partnerReportedThreatState: 'unknown',
    requireUserEnrollmentApproval: null,
    managementCertificateExpirationDate: null,
    iccid: null,
    udid: null,
    notes: null,
    ethernetMacAddress: null,
    physicalMemoryInBytes: 0,
    enrollmentProfileName: null,
    '@openmam.managementAgent': 'mam',
    '@openmam.enrollmentType': 'windowsMam',
    '@openmam.devId': enrollment.devId,
    '@openmam.deviceStatusReportedDateTime': iso(facts.deviceStatusReportedAt),
    '@openmam.messageLogUntilDateTime': iso(picture.management?.messageLogUntil),
  };
}
