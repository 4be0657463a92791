import {
  Badge, Button, Field, Input, makeStyles, Select, Spinner, Switch, Text, Title3, tokens,
} from '@fluentui/react-components';
import { ArrowClockwiseRegular, ArrowSyncRegular, DeleteRegular, SignOutRegular } from '@fluentui/react-icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { graphGet, odataString, query, type GraphCollection } from '../../api/graph.ts';
import { useGraph, useGraphWrite } from '../../api/hooks.ts';
import { useSession } from '../../auth/session.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { ErrorBar, fieldMessage } from '../../components/ErrorBar.tsx';
import { formatDateTime, formatRelative } from '../../components/format.ts';
import { PageHeader } from '../../components/PageHeader.tsx';
import { PagedTable, type Column, type TableFilter } from '../../components/PagedTable.tsx';
import { Link, matchPath, useRoute } from '../../router.tsx';
import { Facts } from '../users/labels.tsx';
import { REGISTRATIONS, registrationColumns } from '../users/RegistrationsPage.tsx';
import type { ManagedAppRegistration } from '../users/types.ts';
import { SimpleTable } from '../users/UsersPage.tsx';
import { COMPLIANCE_STATES, MANAGEMENT_STATES, type ComplianceState, type InventoryValue, type ManagedDevice, type ManagementState, type NodeState, type PolicyState, type RawMessage, type WipLogRequest } from './types.ts';

/**
 * MAM devices (Graph `managedDevices`: the active MAM enrollments, with their compliance and management state) and one
 * device as an admin sees it: its compliance (and the grace period's end), manufacturer and model, the Entra device it
 * is linked to and the app registrations a token proved to be on it, the Retire, Wipe and Sync actions, its inventory,
 * each targeted policy's state there and each setting's, with the SyncML status code the device answered for a
 * failure, its last check-in, and the raw message log (switched on per device for a while).
 */
const DEVICES = '/deviceManagement/managedDevices';

const useStyles = makeStyles({
  section: { marginTop: tokens.spacingVerticalXXL, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  row: { display: 'flex', gap: tokens.spacingHorizontalM, flexWrap: 'wrap', alignItems: 'end' },
  message: {
    margin: 0, padding: tokens.spacingHorizontalS, maxHeight: '320px', overflow: 'auto', whiteSpace: 'pre-wrap', overflowWrap: 'anywhere',
    fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200, backgroundColor: tokens.colorNeutralBackground3, borderRadius: tokens.borderRadiusMedium,
  },
  mono: { fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200, overflowWrap: 'anywhere' },
});

export default function DevicesPage() {
  const { path } = useRoute();
  const one = matchPath('/devices/:id', path);
  return one ? <DeviceDetail id={one['id']!} /> : <DeviceList />;
}

type BadgeColor = 'success' | 'danger' | 'warning' | 'informative' | 'important' | 'subtle';

/** Graph's complianceState members as an admin reads them. */
const COMPLIANCE: Readonly<Record<ComplianceState, { color: BadgeColor; text: string }>> = {
  unknown: { color: 'informative', text: 'Not evaluated' },
  compliant: { color: 'success', text: 'Compliant' },
  noncompliant: { color: 'danger', text: 'Not compliant' },
  conflict: { color: 'important', text: 'Conflict' },
  error: { color: 'danger', text: 'Error' },
  inGracePeriod: { color: 'warning', text: 'In grace period' },
  configManager: { color: 'informative', text: 'Configuration Manager' },
};

/** Graph's managementState members a MAM device goes through (retire and wipe progress). */
const MANAGEMENT: Readonly<Record<string, { color: BadgeColor; text: string }>> = {
  managed: { color: 'success', text: 'Managed' },
  retirePending: { color: 'warning', text: 'Retire pending' },
  retireIssued: { color: 'informative', text: 'Retire issued' },
  retireFailed: { color: 'danger', text: 'Retire failed' },
  retireCanceled: { color: 'subtle', text: 'Retire canceled' },
  wipePending: { color: 'warning', text: 'Wipe pending' },
  wipeIssued: { color: 'informative', text: 'Wipe issued' },
  wipeFailed: { color: 'danger', text: 'Wipe failed' },
  wipeCanceled: { color: 'subtle', text: 'Wipe canceled' },
};

export function DeviceComplianceBadge({ state }: { state: ComplianceState }) {
  const known = COMPLIANCE[state] ?? { color: 'informative', text: state };
  return <Badge appearance="tint" color={known.color}>{known.text}</Badge>;
}

export function ManagementStateBadge({ state }: { state: ManagementState }) {
  const known = MANAGEMENT[state] ?? { color: 'informative', text: state };
  return <Badge appearance="tint" color={known.color}>{known.text}</Badge>;
}

/** A retire or wipe already asked for and not over: asking again is refused by the server (409). */
const ACTION_UNDER_WAY: ReadonlySet<string> = new Set(['retirePending', 'retireIssued', 'wipePending', 'wipeIssued']);

const COLUMNS: readonly Column<ManagedDevice>[] = [
  { id: 'name', title: 'Device', render: (d) => <Link to={`/devices/${d.id}`}>{d.deviceName ?? d['@openmam.devId']}</Link>, sortBy: 'deviceName' },
  { id: 'user', title: 'User', render: (d) => (d.userPrincipalName ? <Link to={`/users/${d.userId}`}>{d.userPrincipalName}</Link> : d.userId), sortBy: 'userPrincipalName' },
  { id: 'compliance', title: 'Compliance', render: (d) => <DeviceComplianceBadge state={d.complianceState} />, sortBy: 'complianceState' },
  { id: 'management', title: 'Management', render: (d) => <ManagementStateBadge state={d.managementState} />, sortBy: 'managementState' },
  { id: 'model', title: 'Model', render: (d) => [d.manufacturer, d.model].filter(Boolean).join(' ') || '—' },
  { id: 'os', title: 'Windows', render: (d) => d.osVersion ?? '—', sortBy: 'osVersion' },
  { id: 'entra', title: 'Entra device', render: (d) => d.azureADDeviceId ?? '—', sortBy: 'azureADDeviceId' },
  { id: 'enrolled', title: 'Enrolled', render: (d) => formatDateTime(d.enrolledDateTime), sortBy: 'enrolledDateTime' },
  { id: 'checkin', title: 'Last check-in', render: (d) => <span title={formatDateTime(d.lastSyncDateTime)}>{formatRelative(d.lastSyncDateTime)}</span> },
];

const FILTERS: readonly TableFilter[] = [
  { id: 'compliance', label: 'Compliance', options: COMPLIANCE_STATES.filter((s) => s !== 'configManager').map((s) => ({ value: s, label: COMPLIANCE[s].text })), toOData: (v) => `complianceState eq ${odataString(v)}` },
  { id: 'management', label: 'Management', options: MANAGEMENT_STATES.map((s) => ({ value: s, label: MANAGEMENT[s]?.text ?? s })), toOData: (v) => `managementState eq ${odataString(v)}` },
  { id: 'name', label: 'Device name starts with', toOData: (v) => `startswith(deviceName,${odataString(v)})` },
  { id: 'manufacturer', label: 'Manufacturer starts with', toOData: (v) => `startswith(manufacturer,${odataString(v)})` },
  { id: 'user', label: 'User principal name starts with', toOData: (v) => `startswith(userPrincipalName,${odataString(v)})` },
  { id: 'entra', label: 'Entra device id', toOData: (v) => `azureADDeviceId eq ${odataString(v.toLowerCase())}` },
];

function DeviceList() {
  return (
    <>
      <PageHeader title="Devices" description="Windows devices enrolled for MAM: their policies, settings, check-ins and apps." />
      <PagedTable<ManagedDevice> label="MAM devices" path={DEVICES} columns={COLUMNS} rowKey={(d) => d.id} filters={FILTERS}
        defaultSort={{ by: 'enrolledDateTime', direction: 'desc' }} empty="No device is enrolled for MAM yet." />
    </>
  );
}

const POLICY_STATUS: Readonly<Record<string, { color: 'success' | 'danger' | 'warning' | 'informative' | 'important'; text: string }>> = {
  applied: { color: 'success', text: 'Applied' },
  failed: { color: 'danger', text: 'Failed' },
  conflict: { color: 'important', text: 'Conflict' },
  pending: { color: 'warning', text: 'Pending' },
  completed: { color: 'success', text: 'Completed' },
  notApplicable: { color: 'informative', text: 'Not applicable' },
  exists: { color: 'informative', text: 'Reported' },
};

function StatusBadge({ status }: { status: string }) {
  const known = POLICY_STATUS[status] ?? { color: 'informative', text: status };
  return <Badge appearance="tint" color={known.color}>{known.text}</Badge>;
}

/**
 * SyncML's status codes a device answers (OMA-TS-SyncML-RepPro, "Response Status Codes"; the ones Windows answers:
 * learn.microsoft.com/windows/client-management/oma-dm-protocol-support#syncml-response-status-codes).
 */
const SYNCML_CODES: Readonly<Record<string, string>> = {
  '200': 'OK', '202': 'Accepted for processing', '212': 'Authentication accepted', '214': 'Operation cancelled', '215': 'Not executed',
  '216': 'Atomic roll back OK', '400': 'Bad request', '401': 'Invalid credentials', '403': 'Forbidden', '404': 'Not found',
  '405': 'Command not allowed', '406': 'Optional feature not supported', '415': 'Unsupported type or format', '418': 'Already exists',
  '425': 'Permission denied', '500': 'Command failed', '507': 'Atomic failed', '516': 'Atomic roll back failed',
};

function syncMl(code: string | null): string {
  if (code === null) return '—';
  return SYNCML_CODES[code] ? `${code} ${SYNCML_CODES[code]}` : code;
}

const POLICY_KINDS: Readonly<Record<string, string>> = {
  windowsInformationProtectionPolicy: 'WIP (MAM)',
  mdmWindowsInformationProtectionPolicy: 'WIP (MDM)',
  windows10CustomConfiguration: 'Custom OMA-URI',
  windows81TrustedRootCertificate: 'Trusted root certificate',
  windowsPfxCertificate: 'PFX certificate',
  windowsScepCertificate: 'SCEP certificate',
};

function DeviceDetail({ id }: { id: string }) {
  const styles = useStyles();
  const base = `${DEVICES}/${encodeURIComponent(id)}`;
  const client = useQueryClient();
  const device = useGraph<ManagedDevice>(base);
  const policies = useGraph<GraphCollection<PolicyState>>(`${base}/policyStates`);
  const nodes = useGraph<GraphCollection<NodeState>>(`${base}/openMamNodeStates`);
  const inventory = useGraph<GraphCollection<InventoryValue>>(`${base}/openMamInventory`);
  const registrations = useGraph<GraphCollection<ManagedAppRegistration>>(`${base}/openMamAppRegistrations`);
  if (device.isPending) return <Spinner label="Loading the device" />;
  if (device.error) return (<><PageHeader title="Device" /><ErrorBar error={device.error} /></>);
  const d = device.data;
  const failedNodes = (nodes.data?.value ?? []).filter((n) => n.status === 'failed' || n.status === 'conflict');
  return (
    <>
      <PageHeader title={d.deviceName ?? d['@openmam.devId']} description={<Link to="/devices">All devices</Link>}
        actions={<Button icon={<ArrowClockwiseRegular />} onClick={() => void client.invalidateQueries({ queryKey: ['graph'] })}>Refresh</Button>} />
      <DeviceActions base={base} device={d} />
      <Facts items={[
        ['User', d.userPrincipalName ? <Link key="u" to={`/users/${d.userId}`}>{d.userDisplayName ? `${d.userDisplayName} (${d.userPrincipalName})` : d.userPrincipalName}</Link> : d.userId],
        ['Compliance', <span key="c"><DeviceComplianceBadge state={d.complianceState} />{d.complianceState === 'inGracePeriod' && d.complianceGracePeriodExpirationDateTime ? ` until ${formatDateTime(d.complianceGracePeriodExpirationDateTime)}` : ''}</span>],
        ['Management', <ManagementStateBadge key="m" state={d.managementState} />],
        ['Manufacturer and model', [d.manufacturer, d.model].filter(Boolean).join(' ') || 'not reported yet'],
        ['Encryption', d['@openmam.deviceStatusReportedDateTime'] ? (d.isEncrypted ? 'Encrypted' : 'Not encrypted') : 'not reported yet'],
        ['Operating system', `${d.operatingSystem} ${d.osVersion ?? ''}`.trim()],
        ['Entra device', d.azureADDeviceId ?? 'not linked (no token has proved it yet)'],
        ['Device id (DevID)', d['@openmam.devId']],
        ['Enrolled', formatDateTime(d.enrolledDateTime)],
        ['Last check-in', d.lastSyncDateTime ? `${formatRelative(d.lastSyncDateTime)} (${formatDateTime(d.lastSyncDateTime)})` : 'never'],
      ]} />

      <section className={styles.section} aria-labelledby="policy-states">
        <Title3 as="h2" id="policy-states">Policy states</Title3>
        <ErrorBar error={policies.error} />
        <SimpleTable label="Policy states" rows={policies.data?.value} rowKey={(p) => p.id} empty="No policy targets this device." columns={[
          { id: 'name', title: 'Policy', render: (p) => p.displayName ?? p.id },
          { id: 'kind', title: 'Type', render: (p) => POLICY_KINDS[p.policyKind] ?? p.policyKind },
          { id: 'version', title: 'Version', render: (p) => p.version },
          { id: 'status', title: 'State', render: (p) => <StatusBadge status={p.status} /> },
          { id: 'code', title: 'SyncML status', render: (p) => syncMl(p.statusCode) },
          { id: 'reported', title: 'Last reported', render: (p) => formatDateTime(p.lastReportedDateTime) },
        ]} />
      </section>

      <section className={styles.section} aria-labelledby="setting-states">
        <Title3 as="h2" id="setting-states">Settings</Title3>
        <Text>{nodes.data ? `${nodes.data.value.length} settings, ${failedNodes.length} failed or in conflict.` : ''}</Text>
        <ErrorBar error={nodes.error} />
        <SimpleTable label="Setting states" rows={nodes.data?.value} rowKey={(n) => n.locUri} empty="No setting has been sent to this device." columns={[
          { id: 'uri', title: 'Setting (LocURI)', render: (n) => <span className={styles.mono}>{n.locUri}</span> },
          { id: 'status', title: 'State', render: (n) => <StatusBadge status={n.status} /> },
          { id: 'code', title: 'SyncML status', render: (n) => syncMl(n.statusCode) },
          { id: 'reported', title: 'Last reported', render: (n) => formatDateTime(n.lastReportedDateTime) },
        ]} />
      </section>

      <section className={styles.section} aria-labelledby="inventory">
        <Title3 as="h2" id="inventory">Inventory</Title3>
        <ErrorBar error={inventory.error} />
        <SimpleTable label="Inventory" rows={inventory.data?.value} rowKey={(v) => v.locUri} empty="The device has reported no inventory yet." columns={[
          { id: 'uri', title: 'Node', render: (v) => <span className={styles.mono}>{v.locUri}</span> },
          { id: 'value', title: 'Value', render: (v) => <span className={styles.mono}>{v.value}</span> },
          { id: 'reported', title: 'Reported', render: (v) => formatDateTime(v.lastReportedDateTime) },
        ]} />
      </section>

      <section className={styles.section} aria-labelledby="same-device-apps">
        <Title3 as="h2" id="same-device-apps">App registrations on this device</Title3>
        {d.azureADDeviceId ? (
          <>
            <Text>Registrations whose token proved they run on this Entra device.</Text>
            <ErrorBar error={registrations.error} />
            <SimpleTable<ManagedAppRegistration> label="App registrations on this device" rows={registrations.data?.value} columns={registrationColumns({ user: true })} rowKey={(r) => r.id}
              empty="No managed app has registered on this device." />
          </>
        ) : d.deviceName ? (
          <PagedTable<ManagedAppRegistration> label="App registrations on this device" path={REGISTRATIONS} columns={registrationColumns({ user: true })} rowKey={(r) => r.id}
            baseFilter={`deviceName eq ${odataString(d.deviceName)} and userId eq ${odataString(d.userId)}`} pageSize={10} empty="No managed app of this user has registered from a device of this name." />
        ) : <Text>The device has no Entra device id or name to match registrations with.</Text>}
      </section>

      <WipLogs base={base} />

      <MessageLog base={base} device={d} />
    </>
  );
}

/**
 * Retire (remove OpenMAM's management and the work account's MAM enrollment), Wipe (the same, and revoke the data WIP
 * protects on the device: never a factory reset) and Sync (re-plan and re-read at its next check-in: OpenMAM has no push
 * channel to wake a device): Graph's
 * `managedDevices/{id}/retire | wipe | syncDevice` actions, 204 on success, Graph's error otherwise (shown in the
 * dialog). Hidden for a Reader (ConfirmButton).
 */
function DeviceActions({ base, device }: { base: string; device: ManagedDevice }) {
  const styles = useStyles();
  const { canWrite } = useSession();
  const write = useGraphWrite();
  const underWay = ACTION_UNDER_WAY.has(device.managementState);
  const name = device.deviceName ?? device['@openmam.devId'];
  if (!canWrite) return null;
  return (
    <div className={styles.row} role="group" aria-label="Device actions">
      <ConfirmButton label="Sync" icon={<ArrowSyncRegular />} title={`Sync ${name}?`} confirmLabel="Sync"
        onConfirm={() => write.mutateAsync({ method: 'POST', path: `${base}/syncDevice` })}>
        At its next check-in the device gets all its policies again and reports its state anew (OpenMAM cannot wake a device).
      </ConfirmButton>
      <ConfirmButton label="Retire" icon={<SignOutRegular />} title={`Retire ${name}?`} confirmLabel="Retire" disabled={underWay}
        onConfirm={() => write.mutateAsync({ method: 'POST', path: `${base}/retire` })}>
        OpenMAM stops managing this device: at its next check-in it is told to remove the MAM enrollment of the work
        account. Data that Windows Information Protection protects follows the WIP policy's revoke-on-unenroll setting.
      </ConfirmButton>
      <ConfirmButton label="Wipe" icon={<DeleteRegular />} title={`Wipe ${name}?`} confirmLabel="Wipe" disabled={underWay}
        onConfirm={() => write.mutateAsync({ method: 'POST', path: `${base}/wipe` })}>
        As Retire, and the work data Windows Information Protection protects on this device is revoked. The device is
        not reset: personal data stays.
      </ConfirmButton>
      {underWay ? <Text>A {device.managementState.startsWith('wipe') ? 'wipe' : 'retire'} is under way.</Text> : null}
    </div>
  );
}

const DURATIONS: readonly { minutes: number; label: string }[] = [
  { minutes: 15, label: '15 minutes' },
  { minutes: 60, label: '1 hour' },
  { minutes: 240, label: '4 hours' },
  { minutes: 1440, label: '1 day' },
  { minutes: 10080, label: '7 days' },
];

/**
 * The raw OMA-DM messages of this device, kept only while the admin asks (they can be large, and hold what the
 * device is sent). Switching and reading them needs the Admin role: a message may carry a certificate's password or a
 * SCEP challenge, which the policy API never answers.
 */
function MessageLog({ base, device }: { base: string; device: ManagedDevice }) {
  const styles = useStyles();
  const { canWrite } = useSession();
  const [minutes, setMinutes] = useState('60');
  const write = useGraphWrite();
  const until = device['@openmam.messageLogUntilDateTime'] ?? null;
  const on = until !== null && new Date(until).getTime() > Date.now();
  const messages = useGraph<GraphCollection<RawMessage>>(canWrite ? `${base}/openMamMessages${query({ $top: 50 })}` : undefined);
  return (
    <section className={styles.section} aria-labelledby="message-log">
      <Title3 as="h2" id="message-log">Message log</Title3>
      <Text role="status">{on ? `Keeping this device's raw messages until ${formatDateTime(until)}.` : 'Raw messages are not being kept for this device.'}</Text>
      {canWrite ? (
        <div className={styles.row}>
          <Field label="Keep messages for">
            <Select value={minutes} onChange={(_, data) => setMinutes(data.value)}>
              {DURATIONS.map((o) => <option key={o.minutes} value={String(o.minutes)}>{o.label}</option>)}
            </Select>
          </Field>
          <Button appearance="primary" disabled={write.isPending}
            onClick={() => write.mutate({ method: 'POST', path: `${base}/setMessageLog`, body: { durationInMinutes: Number(minutes) } })}>
            {on ? 'Extend message log' : 'Start message log'}
          </Button>
          {on ? (
            <ConfirmButton label="Stop message log" title="Stop keeping this device's messages?" confirmLabel="Stop"
              onConfirm={() => write.mutateAsync({ method: 'POST', path: `${base}/setMessageLog`, body: { durationInMinutes: 0 } })}>
              New messages are no longer kept. The messages kept so far stay until they expire.
            </ConfirmButton>
          ) : null}
          <Button onClick={() => void messages.refetch()} disabled={messages.isFetching}>Refresh messages</Button>
        </div>
      ) : <Text>Reading the raw messages needs the Admin role: they can hold secrets sent to the device.</Text>}
      <ErrorBar error={write.error ?? messages.error} />
      {messages.data ? (
        messages.data.value.length === 0 ? <Text>No message kept.</Text> : (
          <ol aria-label="Raw messages, newest first">
            {messages.data.value.map((m) => (
              <li key={m.id}>
                <Text weight="semibold">{formatDateTime(m.dateTime)} · {m.direction === 'deviceToServer' ? 'Device to server' : 'Server to device'}</Text>
                <pre className={styles.message} tabIndex={0} aria-label={`${m.direction === 'deviceToServer' ? 'Device to server' : 'Server to device'} message`}>{indentXml(m.syncML)}</pre>
              </li>
            ))}
          </ol>
        )
      ) : null}
    </section>
  );
}

/**
 * WIP logs (the Reporting CSP's EnterpriseDataProtection logs): the admin asks, the device answers at its next
 * check-in, and the entries are listed parsed. Re-read every few seconds while a request is pending.
 */
function WipLogs({ base }: { base: string }) {
  const styles = useStyles();
  const { canWrite } = useSession();
  const [count, setCount] = useState('100');
  const [learning, setLearning] = useState(false);
  const write = useGraphWrite();
  const path = `${base}/wipLogRequests`;
  const requests = useQuery({
    queryKey: ['graph', path],
    queryFn: ({ signal }) => graphGet<GraphCollection<WipLogRequest>>(path, signal),
    refetchInterval: (q) => (q.state.data?.value.some((r) => r.status === 'pending') ? 5000 : false),
  });
  const rows = [...(requests.data?.value ?? [])].sort((a, b) => b.requestedDateTime.localeCompare(a.requestedDateTime));
  const latest = rows.find((r) => r.entries !== null && r.entries.length > 0);
  const columns = latest ? [...new Set(latest.entries!.flatMap((e) => Object.keys(e)))] : [];
  const countError = fieldMessage(write.error, 'byCount');
  return (
    <section className={styles.section} aria-labelledby="wip-logs">
      <Title3 as="h2" id="wip-logs">WIP logs</Title3>
      {canWrite ? (
        <div className={styles.row}>
          <Field label="Latest log entries" validationMessage={countError} validationState={countError ? 'error' : 'none'}>
            <Input type="number" min={1} value={count} onChange={(_, data) => setCount(data.value)} />
          </Field>
          <Switch label="Learning logs" checked={learning} onChange={(_, data) => setLearning(data.checked)} />
          <Button disabled={write.isPending} onClick={() => write.mutate({ method: 'POST', path: `${base}/retrieveWipLogs`, body: { byCount: { count: Number(count) }, learningLogs: learning } })}>
            Retrieve WIP logs
          </Button>
        </div>
      ) : null}
      <ErrorBar error={write.error} shownFields={['byCount']} />
      <ErrorBar error={requests.error} />
      <SimpleTable label="WIP log requests" rows={requests.data ? rows : undefined} rowKey={(r) => r.id} empty="No WIP log has been asked for." columns={[
        { id: 'requested', title: 'Requested', render: (r) => formatDateTime(r.requestedDateTime) },
        { id: 'what', title: 'Asked for', render: (r) => `${r.learningLogs ? 'Learning' : 'Audit'} logs, ${r.mode === 'count' ? `latest ${r.count ?? ''}` : `${formatDateTime(r.startDateTime)} to ${formatDateTime(r.endDateTime)}`}` },
        { id: 'status', title: 'State', render: (r) => <StatusBadge status={r.status} /> },
        { id: 'code', title: 'SyncML status', render: (r) => syncMl(r.statusCode) },
        { id: 'completed', title: 'Answered', render: (r) => formatDateTime(r.completedDateTime) },
        { id: 'entries', title: 'Entries', render: (r) => (r.entries === null ? '—' : String(r.entries.length)) },
      ]} />
      {latest ? (
        <SimpleTable label="Latest WIP log entries" rows={latest.entries!.map((e, i) => ({ e, i }))} rowKey={(x) => String(x.i)} empty="No entry." columns={columns.map((name) => ({ id: name, title: name, render: (x: { e: Record<string, string> }) => x.e[name] ?? '' }))} />
      ) : null}
    </section>
  );
}

/** SyncML as one element a line, indented by depth, so that an admin can read a message without a tool. */
export function indentXml(xml: string): string {
  let depth = 0;
  return xml
    .replace(/>\s*</g, '>\n<')
    .split('\n')
    .map((line) => {
      if (line.startsWith('</')) depth = Math.max(depth - 1, 0);
      const indented = `${'  '.repeat(depth)}${line}`;
      // An opening tag alone on its line (not closed on it, not self-closing, not a declaration) opens a level.
      if (/^<[^!?/]/.test(line) && !line.endsWith('/>') && !/<\/[^>]+>$/.test(line)) depth += 1;
      return indented;
    })
    .join('\n');
}
