/**
 * What the end user reads when the app protection service blocks, wipes, warns or refuses: one fixed entry per
 * reason code, titled and worded after the end-user dialogs of seed 003 ("App not set up", "Internet connection
 * required", "Accessing your organization's data", ...), each with a remediation the user can act on. The health
 * check reasons name what to update (the app, its app protection component, or Windows).
 */

export interface UserMessage {
  title: string;
  text: string;
  /** One actionable sentence (or two) for the end user. */
  remediation: string;
}

export const REASON_CODES = [
  // Health checks (docs/app-protection.md, "Action").
  'minimumWipeSdkVersion',
  'minimumRequiredSdkVersion',
  'minimumWarningAppVersion',
  'minimumRequiredAppVersion',
  'minimumWipeAppVersion',
  'minimumWarningOsVersion',
  'minimumRequiredOsVersion',
  'minimumWipeOsVersion',
  'maximumWarningOsVersion',
  'maximumRequiredOsVersion',
  'maximumWipeOsVersion',
  'deviceThreatLevel',
  /** The threat partner does not report on this Windows, and the connector blocks such devices. */
  'threatDefenseUnsupportedOs',
  'offlineBlock',
  'offlineWipe',
  /** The "Disabled account" health check, which only the app can run. */
  'appActionIfUnableToAuthenticateUser',
  // Wipes and registration.
  'adminWipe',
  'userBlocked',
  'wipePending',
  'wrongAccount',
  'appNotSetUp',
  'accountNotSetUp',
  'unableToRegister',
  // Access decisions (conditional access).
  'protectionPolicyRequired',
  'approvedAppRequired',
  'deviceNotCompliant',
  // Access requests that prove nothing, or disagree with what the token proves (caller-identity.ts, access.ts).
  'invalidUserToken',
  'tokenAudienceMismatch',
  'foreignTenant',
  'userTokenRequired',
  'appIdMismatch',
  'deviceIdMismatch',
  'clientMismatch',
  'unknownResource',
  /** Anything else: seed 003's "Unknown failure". */
  'unknownFailure',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

const CONTACT_ADMIN = 'Contact your IT administrator for help.';
const CANNOT_BE_USED = 'App can no longer be used';
const UPDATE_RECOMMENDED = 'Update recommended';
const DATA_REMOVED = 'Your organization has removed its data';
const NOT_COMPLIANT = 'Device non-compliant';
const OFFLINE = 'Internet connection required';
const NOT_SET_UP = 'App not set up';

const UPDATE_APP = 'Update the app to its latest version (from the Microsoft Store or your company app catalog), then open it again.';
const UPDATE_APP_SDK =
  'Update the app to its latest version, which includes the current app protection component (from the Microsoft Store or your company app catalog), then open it again.';
const UPDATE_WINDOWS = 'Install the latest Windows updates (Settings > Windows Update), restart the device, then open the app again.';
const NEWER_WINDOWS =
  'Ask your IT administrator when this version of Windows will be supported, or use a device with a supported version of Windows.';
const SIGN_IN_REQUIRED = 'Sign-in required';
const SIGN_IN_TO_RESOURCE = 'Sign in again in the app with your work or school account, then try again.';
const USE_MANAGED_APP = 'Open the resource from an app your organization manages, signed in with your work or school account.';
const SIGN_IN_AGAIN = 'Sign in to the app again with your work or school account to get your organization\'s data back once the problem is fixed.';

const MESSAGES: Record<ReasonCode, UserMessage> = {
  minimumWipeSdkVersion: {
    title: CANNOT_BE_USED,
    text: "This app can no longer be used because its app protection component is out of date, and your organization's data was removed from it. Your personal data was not affected.",
    remediation: `${UPDATE_APP_SDK} ${SIGN_IN_AGAIN}`,
  },
  minimumRequiredSdkVersion: {
    title: CANNOT_BE_USED,
    text: 'This app can no longer be used because its app protection component is out of date. Contact your IT administrator for more information.',
    remediation: UPDATE_APP_SDK,
  },
  minimumWarningAppVersion: {
    title: UPDATE_RECOMMENDED,
    text: 'This version of the app will soon no longer be allowed to open your organization\'s data. You can keep using it for now.',
    remediation: UPDATE_APP,
  },
  minimumRequiredAppVersion: {
    title: CANNOT_BE_USED,
    text: 'This app can no longer be used because this version of the app is out of date. Contact your IT administrator for more information.',
    remediation: UPDATE_APP,
  },
  minimumWipeAppVersion: {
    title: CANNOT_BE_USED,
    text: "This app can no longer be used because this version of the app is out of date, and your organization's data was removed from it. Your personal data was not affected.",
    remediation: `${UPDATE_APP} ${SIGN_IN_AGAIN}`,
  },
  minimumWarningOsVersion: {
    title: UPDATE_RECOMMENDED,
    text: 'Your version of Windows will soon no longer be allowed to open your organization\'s data in this app. You can keep using it for now.',
    remediation: UPDATE_WINDOWS,
  },
  minimumRequiredOsVersion: {
    title: CANNOT_BE_USED,
    text: 'This app can no longer be used because your version of Windows is out of date. Contact your IT administrator for more information.',
    remediation: UPDATE_WINDOWS,
  },
  minimumWipeOsVersion: {
    title: CANNOT_BE_USED,
    text: "This app can no longer be used because your version of Windows is out of date, and your organization's data was removed from it. Your personal data was not affected.",
    remediation: `${UPDATE_WINDOWS} ${SIGN_IN_AGAIN}`,
  },
  maximumWarningOsVersion: {
    title: UPDATE_RECOMMENDED,
    text: 'Your version of Windows is newer than your organization has approved for its data, and this app may soon stop opening it. You can keep using it for now.',
    remediation: 'Keep working as usual; if the app stops opening your organization\'s data, ask your IT administrator when this version of Windows will be supported.',
  },
  maximumRequiredOsVersion: {
    title: CANNOT_BE_USED,
    text: 'This app can no longer be used because your version of Windows is newer than your organization has approved. Contact your IT administrator for more information.',
    remediation: NEWER_WINDOWS,
  },
  maximumWipeOsVersion: {
    title: CANNOT_BE_USED,
    text: "This app can no longer be used because your version of Windows is newer than your organization has approved, and your organization's data was removed from it. Your personal data was not affected.",
    remediation: NEWER_WINDOWS,
  },
  deviceThreatLevel: {
    title: NOT_COMPLIANT,
    text: `This app can't be used because your device's security state does not meet your organization's requirements. ${CONTACT_ADMIN}`,
    remediation: 'Open Windows Security, resolve the threats and warnings it shows, then open the app again (it can take a few minutes to be recognized).',
  },
  threatDefenseUnsupportedOs: {
    title: NOT_COMPLIANT,
    text: "This app can't be used because your organization checks the security of devices with Windows Security, which needs Windows 11 version 23H2 or later.",
    remediation: UPDATE_WINDOWS,
  },
  offlineBlock: {
    title: OFFLINE,
    text: 'You must be connected to the Internet to verify that you can use this app.',
    remediation: 'Connect the device to a Wi-Fi or mobile data network, then open the app again.',
  },
  offlineWipe: {
    title: OFFLINE,
    text: "You must be connected to the Internet to verify that you can use this app. The app was offline for too long, so your organization's data was removed from it. Your personal data was not affected.",
    remediation: "Connect the device to a Wi-Fi or mobile data network, then sign in to the app again with your work or school account to get your organization's data back.",
  },
  appActionIfUnableToAuthenticateUser: {
    title: 'Sign-in failed',
    text: 'Try to sign in again. If this problem persists, contact your IT administrator for help.',
    remediation: 'Sign in again with your work or school account; if your account was disabled or its password changed, contact your IT administrator.',
  },
  adminWipe: {
    title: DATA_REMOVED,
    text: 'Your IT administrator removed your organization\'s data from this app. Your personal data was not affected.',
    remediation: 'If you think this is a mistake, contact your IT administrator; once they allow it, sign in to the app again with your work or school account.',
  },
  userBlocked: {
    title: DATA_REMOVED,
    text: 'Your IT administrator removed your organization\'s data from your apps and blocked your work or school account from using them. Your personal data was not affected.',
    remediation: 'Contact your IT administrator; you can sign in again only after they unblock your account.',
  },
  wipePending: {
    title: DATA_REMOVED,
    text: 'Your organization is removing its data from this app. Your personal data is not affected.',
    remediation: 'Keep the app open and connected to the Internet until it finishes; then contact your IT administrator if you still need access.',
  },
  wrongAccount: {
    title: "Accessing your organization's data",
    text: `The work or school account you specified does not have access to this app. You may have to sign in with a different account. ${CONTACT_ADMIN}`,
    remediation:
      'Sign in with the work or school account whose user name is filled in on the sign-in screen, or remove that account from the managed apps on this device and then sign in with the new one.',
  },
  appNotSetUp: {
    title: NOT_SET_UP,
    text: `This app has not been set up for you to use. ${CONTACT_ADMIN}`,
    remediation: 'Ask your IT administrator to assign an app protection policy for this app to you, then open the app again.',
  },
  accountNotSetUp: {
    title: 'Account not set up',
    text: `This app must be managed by your organization, but your account has not been set up. ${CONTACT_ADMIN}`,
    remediation: 'Ask your IT administrator to set up your work or school account for app management, then sign in to the app again.',
  },
  unableToRegister: {
    title: 'Unable to register the app',
    text: `This app must be managed by your organization, but we were unable to register this app at this time. ${CONTACT_ADMIN}`,
    remediation: 'Use an app your organization manages for its data (ask your IT administrator which ones), signed in with your work or school account.',
  },
  protectionPolicyRequired: {
    title: 'App protection required',
    text: "Application needs to enforce Intune protection policies: your organization allows access to this resource only from an app that protects its data.",
    remediation:
      'Open the resource from an app your organization protects, signed in with your work or school account, and let the app check in (open it and wait a minute) before trying again.',
  },
  approvedAppRequired: {
    title: 'App not approved',
    text: `Your organization allows access to this resource only from approved apps. ${CONTACT_ADMIN}`,
    remediation: 'Use an app your organization approved for this resource (ask your IT administrator which one), signed in with your work or school account, and open it once so it registers this device.',
  },
  deviceNotCompliant: {
    title: NOT_COMPLIANT,
    text: `This resource can't be used from this device because the device does not meet your organization's requirements. ${CONTACT_ADMIN}`,
    remediation: 'Open Settings > Accounts > Access work or school, select your work account, choose Info and Sync, fix any issues it reports, then try again.',
  },
  invalidUserToken: {
    title: SIGN_IN_REQUIRED,
    text: 'Your sign-in could not be verified: it may have expired or been issued by another organization.',
    remediation: SIGN_IN_TO_RESOURCE,
  },
  tokenAudienceMismatch: {
    title: SIGN_IN_REQUIRED,
    text: 'The app signed you in for a different service than the one you are opening.',
    remediation: SIGN_IN_TO_RESOURCE,
  },
  foreignTenant: {
    title: SIGN_IN_REQUIRED,
    text: `Your work or school account belongs to another organization than this resource. ${CONTACT_ADMIN}`,
    remediation: 'Sign in with an account of the organization that owns this resource.',
  },
  userTokenRequired: {
    title: SIGN_IN_REQUIRED,
    text: 'This resource is available only to a signed-in user, not to an app on its own.',
    remediation: SIGN_IN_TO_RESOURCE,
  },
  appIdMismatch: {
    title: 'App not recognized',
    text: `The request claims to come from another app than the one you signed in with. ${CONTACT_ADMIN}`,
    remediation: USE_MANAGED_APP,
  },
  clientMismatch: {
    title: 'App not recognized',
    text: `The request names an app registration that this app did not make. ${CONTACT_ADMIN}`,
    remediation: USE_MANAGED_APP,
  },
  deviceIdMismatch: {
    title: 'Device not recognized',
    text: `The request names another device than the one you signed in on. ${CONTACT_ADMIN}`,
    remediation: 'Open the resource on this device from an app your organization manages; do not copy app data or settings between devices.',
  },
  unknownResource: {
    title: 'Resource not set up',
    text: `This resource is not set up for access checks in your organization. ${CONTACT_ADMIN}`,
    remediation: 'Ask your IT administrator to register this resource (its service principal) with your organization\'s app management service.',
  },
  unknownFailure: {
    title: 'Unknown failure',
    text: 'Try restarting this app. If the problem persists, contact your IT administrator for help.',
    remediation: 'Wait a while and try again. If the error persists, contact your IT administrator.',
  },
};

const KNOWN: ReadonlySet<string> = new Set(REASON_CODES);

export function isReasonCode(reason: string): reason is ReasonCode {
  return KNOWN.has(reason);
}

/** The fixed message of a reason; a reason outside the table (e.g. a setting only the app checks) gets "Unknown failure". */
export function userMessage(reason: string): UserMessage {
  return MESSAGES[isReasonCode(reason) ? reason : 'unknownFailure'];
}
