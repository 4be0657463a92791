import { validateWipPolicy, WIP_POLICY_TYPE, type WindowsInformationProtectionApp, type WindowsInformationProtectionPolicy } from '../../policy/wip.ts';

/**
 * A recommended starting MAM WIP policy ("WIP without enrollment") an admin can POST as-is to
 * /deviceAppManagement/windowsInformationProtectionPolicies once the enterprise domain is filled in.
 *
 * Choices, with their sources:
 * - enforcementLevel `encryptAuditAndPrompt` ("Allow Overrides"), not Block: Microsoft's WIP guidance is "start with
 *   Silent or Allow Overrides while verifying with a small group that you have the right apps on your allowed apps
 *   list. After you're done, you can change to your final enforcement policy, Block" (create-wip-policy-using-mam-
 *   intune-azure.md, windows-information-protection-policy-create.md). Allow Overrides already encrypts, prompts the
 *   user on risky sharing and logs every override; Block on an incomplete app list breaks line-of-business apps that
 *   were never tested with WIP.
 * - Protected apps: the enlightened Microsoft apps of Intune's recommended list (enlightened-microsoft-apps-and-wip.md):
 *   Microsoft Edge (the Store app, and the Chromium desktop msedge.exe that replaced it) and the Microsoft 365 desktop
 *   apps Word, Excel, PowerPoint, Outlook and OneNote (publisher `O=MICROSOFT CORPORATION, L=REDMOND, S=WASHINGTON,
 *   C=US`, product `MICROSOFT OFFICE`), from version 16.0 (Office 365 ProPlus / 2016 and later: the enlightened
 *   builds; "min version" is the documented choice "for enlightened apps that weren't previously enlightened").
 * - revokeOnUnenrollDisabled false: unenrolling revokes access to corporate data (the selective wipe MAM promises).
 * - revokeOnMdmHandoffDisabled true: changing to MDM keeps the data (seed 000, "Change MAM enrollment to MDM").
 * - iconsVisible true: users see which files are corporate.
 * - Windows Hello for Business on (windowsHelloForBusinessBlocked false): the PIN rules below apply to the Hello PIN
 *   (PassportForWork); blocking Hello would void them. PIN at least 6 characters, letters and special characters
 *   allowed (not required).
 * - Device lock after 15 minutes of inactivity; 10 failed attempts (DeviceLock MaxDevicePasswordFailedAttempts).
 *
 * Not in the template because only the admin knows them: the data recovery agent certificate, network boundaries
 * (IP ranges, network domain names, proxies, cloud resources) and the MDM upgrade URL.
 */

const OFFICE_PUBLISHER = 'O=MICROSOFT CORPORATION, L=REDMOND, S=WASHINGTON, C=US';
const STORE_PUBLISHER = 'CN=MICROSOFT CORPORATION, O=MICROSOFT CORPORATION, L=REDMOND, S=WASHINGTON, C=US';

function officeApp(displayName: string, binaryName: string): WindowsInformationProtectionApp {
  return {
    '@odata.type': '#microsoft.graph.windowsInformationProtectionDesktopApp',
    displayName,
    description: `${binaryName}, Microsoft 365 Apps (enlightened from Office 16.0)`,
    publisherName: OFFICE_PUBLISHER,
    productName: 'MICROSOFT OFFICE',
    binaryName,
    binaryVersionLow: '16.0.0.0',
    binaryVersionHigh: '*',
    denied: false,
  };
}

export const BASELINE_PROTECTED_APPS: readonly WindowsInformationProtectionApp[] = [
  {
    '@odata.type': '#microsoft.graph.windowsInformationProtectionStoreApp',
    displayName: 'Microsoft Edge',
    description: 'Microsoft Edge (Store app)',
    publisherName: STORE_PUBLISHER,
    productName: 'Microsoft.MicrosoftEdge',
    denied: false,
  },
  {
    '@odata.type': '#microsoft.graph.windowsInformationProtectionDesktopApp',
    displayName: 'Microsoft Edge (desktop)',
    description: 'msedge.exe, the Chromium-based Microsoft Edge',
    publisherName: OFFICE_PUBLISHER,
    productName: 'MICROSOFT EDGE',
    binaryName: 'MSEDGE.EXE',
    binaryVersionLow: '*',
    binaryVersionHigh: '*',
    denied: false,
  },
  officeApp('Microsoft Word', 'WINWORD.EXE'),
  officeApp('Microsoft Excel', 'EXCEL.EXE'),
  officeApp('Microsoft PowerPoint', 'POWERPNT.EXE'),
  officeApp('Microsoft Outlook', 'OUTLOOK.EXE'),
  officeApp('Microsoft OneNote', 'ONENOTE.EXE'),
];

const DESCRIPTION = [
  'OpenMAM baseline: WIP in Allow Overrides mode for Microsoft Edge and the Microsoft 365 desktop apps, Windows Hello PIN of 6+ characters,',
  'lock after 15 minutes, 10 failed attempts. Before assigning: add your data recovery agent certificate and network boundaries;',
  'verify the app list with a pilot group, then move to encryptAuditAndBlock. Set mdmEnrollmentUrl only if users may change to MDM.',
].join(' ');

function templateBody(enterpriseDomain: string | null): WindowsInformationProtectionPolicy {
  return {
    '@odata.type': WIP_POLICY_TYPE.mam,
    displayName: 'Baseline WIP without enrollment',
    description: DESCRIPTION,
    enforcementLevel: 'encryptAuditAndPrompt',
    enterpriseDomain,
    protectedApps: BASELINE_PROTECTED_APPS.map((app) => ({ ...app })),
    revokeOnUnenrollDisabled: false,
    revokeOnMdmHandoffDisabled: true,
    iconsVisible: true,
    windowsHelloForBusinessBlocked: false,
    pinMinimumLength: 6,
    pinUppercaseLetters: 'allow',
    pinLowercaseLetters: 'allow',
    pinSpecialCharacters: 'allow',
    minutesOfInactivityBeforeDeviceLock: 15,
    passwordMaximumAttemptCount: 10,
  };
}

/**
 * The baseline MAM WIP policy body. With `enterpriseDomain` it is validated as a create (the domain refused with
 * `enterpriseDomain: ...` when it is not a canonical domain name) and returned in validated, canonical form; without,
 * `enterpriseDomain` is null and the body needs only that before it validates.
 */
export function baselineWipTemplate(enterpriseDomain?: string): WindowsInformationProtectionPolicy {
  if (enterpriseDomain === undefined) return templateBody(null);
  return validateWipPolicy(templateBody(enterpriseDomain), 'mam', 'create');
}
