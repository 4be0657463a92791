import { Badge, makeStyles, Text, tokens } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import { useGraph } from '../../api/hooks.ts';
import { Link } from '../../router.tsx';
import type { ManagedAppOperation, ManagedAppRegistration, User } from './types.ts';

/**
 * What the server's reason codes (src/core/app-protection/messages.ts REASON_CODES) mean to an admin. An unknown code
 * is shown as it is, so a code added on the server is never hidden.
 */
const REASONS: Readonly<Record<string, string>> = {
  minimumWipeSdkVersion: 'App protection SDK below the wipe version',
  minimumRequiredSdkVersion: 'App protection SDK below the required version',
  minimumWarningAppVersion: 'App below the recommended version',
  minimumRequiredAppVersion: 'App below the required version',
  minimumWipeAppVersion: 'App below the wipe version',
  minimumWarningOsVersion: 'Windows below the recommended version',
  minimumRequiredOsVersion: 'Windows below the required version',
  minimumWipeOsVersion: 'Windows below the wipe version',
  maximumWarningOsVersion: 'Windows above the recommended version',
  maximumRequiredOsVersion: 'Windows above the allowed version',
  maximumWipeOsVersion: 'Windows above the wipe version',
  deviceThreatLevel: 'Device threat level above the allowed level',
  threatDefenseUnsupportedOs: 'Threat defense does not support this Windows',
  offlineBlock: 'Offline too long: access blocked',
  offlineWipe: 'Offline too long: data wiped',
  appActionIfUnableToAuthenticateUser: 'Account disabled',
  adminWipe: 'Wiped by an admin',
  userBlocked: 'User wiped and blocked',
  wipePending: 'Wipe pending',
  wrongAccount: 'Signed in with another account',
  appNotSetUp: 'App not set up (no policy applied)',
  accountNotSetUp: 'Account not set up',
  unableToRegister: 'Unable to register',
  policyConflict: 'Conflicting policies',
  protectionPolicyRequired: 'App protection policy required',
  approvedAppRequired: 'Approved app required',
  deviceNotCompliant: 'Device not compliant',
  invalidUserToken: 'User token invalid',
  tokenAudienceMismatch: 'Token for another audience',
  foreignTenant: 'Token from another tenant',
  userTokenRequired: 'User token required',
  appIdMismatch: 'App id does not match the token',
  deviceIdMismatch: 'Device id does not match the token',
  clientMismatch: 'Client does not match the token',
  unknownResource: 'Unknown resource',
  unknownFailure: 'Unknown failure',
  noPolicy: 'No conditional access policy applies',
  compliantDevice: 'Compliant device',
  approvedApplication: 'Approved app',
  compliantApplication: 'App protection policy satisfied',
};

const useFactStyles = makeStyles({
  list: { display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: tokens.spacingHorizontalXXL, rowGap: tokens.spacingVerticalXS, margin: 0 },
  row: { display: 'contents' },
  value: { margin: 0, overflowWrap: 'anywhere' },
  badge: { whiteSpace: 'nowrap', flexShrink: 0 },
  /** Long ids without spaces (app ids, device tags) wrap inside their cell rather than run over the next one. */
  breakable: { overflowWrap: 'anywhere', wordBreak: 'break-word', minWidth: '6em' },
  stack: { display: 'flex', flexDirection: 'column', alignItems: 'flex-start', gap: tokens.spacingVerticalXXS },
});

export function reasonLabel(code: string): string {
  return REASONS[code] ?? code;
}

export function reasonsText(codes: readonly string[]): string {
  return codes.length === 0 ? '—' : codes.map(reasonLabel).join('; ');
}

/** The threat defense verdict a registration's compliance reasons carry: short, for a table cell. */
export function threatOf(registration: ManagedAppRegistration): string {
  const reasons = registration['@openmam.complianceReasons'];
  if (reasons.includes('deviceThreatLevel')) return 'Above the allowed level';
  if (reasons.includes('threatDefenseUnsupportedOs')) return 'Windows not supported by the partner';
  return 'None above the allowed level';
}

export function ComplianceBadge({ state }: { state: ManagedAppRegistration['@openmam.complianceState'] }) {
  const styles = useFactStyles();
  const [color, text] = state === 'compliant' ? (['success', 'Compliant'] as const) : state === 'notCompliant' ? (['danger', 'Not compliant'] as const) : (['informative', 'Unknown'] as const);
  return <Badge appearance="tint" color={color} className={styles.badge}>{text}</Badge>;
}

/** Text that may break anywhere (an id), in a column of its own. */
export function Breakable({ children }: { children: ReactNode }) {
  const styles = useFactStyles();
  return <span className={styles.breakable}>{children}</span>;
}

/** A registration's device: its name, with its device tag under it. */
export function DeviceCell({ registration }: { registration: ManagedAppRegistration }) {
  const styles = useFactStyles();
  return (
    <div className={styles.stack}>
      <span>{registration.deviceName ?? '—'}</span>
      <Text size={200} className={styles.breakable}>Tag {registration.deviceTag}</Text>
    </div>
  );
}

/** The compliance badge with the reasons under it, for a table cell. */
export function Compliance({ registration }: { registration: ManagedAppRegistration }) {
  const styles = useFactStyles();
  const reasons = registration['@openmam.complianceReasons'];
  return (
    <div className={styles.stack}>
      <ComplianceBadge state={registration['@openmam.complianceState']} />
      {reasons.length > 0 ? <Text size={200}>{reasonsText(reasons)}</Text> : null}
    </div>
  );
}

export function OperationBadge({ state }: { state: ManagedAppOperation['state'] }) {
  const [color, text] = state === 'succeeded' ? (['success', 'Succeeded'] as const) : state === 'failed' ? (['danger', 'Failed'] as const) : (['warning', 'Pending'] as const);
  return <Badge appearance="tint" color={color}>{text}</Badge>;
}

export const OPERATION_REASONS: Readonly<Record<ManagedAppOperation['reason'], string>> = {
  deviceTag: 'Wipe by device tag',
  azureAdDeviceId: 'Wipe by Entra device',
  userBlocked: 'User wiped and blocked',
  healthCheck: 'Health check',
};

/**
 * A user by object id, shown by UPN with a link to their page. One cached read per user (TanStack Query shares it
 * between rows), so a page of registrations of a few users costs a few reads.
 */
export function UserLink({ id }: { id: string }): ReactNode {
  const user = useGraph<User>(`/users/${encodeURIComponent(id)}?$select=id,userPrincipalName,displayName`);
  return <Link to={`/users/${encodeURIComponent(id)}`}>{user.data?.userPrincipalName ?? user.data?.displayName ?? id}</Link>;
}


/** Facts about one entity as a description list (label, value), which a screen reader reads as pairs. */
export function Facts({ items }: { items: readonly (readonly [string, ReactNode])[] }) {
  const styles = useFactStyles();
  return (
    <dl className={styles.list}>
      {items.map(([label, value]) => (
        <div key={label} className={styles.row}>
          <dt><Text weight="semibold">{label}</Text></dt>
          <dd className={styles.value}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
