import { Badge, Button, Field, Input, makeStyles, Select, Switch, Text, Title3, tokens } from '@fluentui/react-components';
import { Add20Regular } from '@fluentui/react-icons';
import { useState } from 'react';
import { useGraphWrite } from '../../api/hooks.ts';
import { useSession } from '../../auth/session.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { fieldMessage } from '../../components/ErrorBar.tsx';
import { formatDateTime, formatRelative } from '../../components/format.ts';
import { PagedTable, type Column } from '../../components/PagedTable.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { odataString } from '../../api/graph.ts';
import { Link, matchPath, navigate, useRoute } from '../../router.tsx';

import { CreateForm, EditForm, EntityLoader, type EntityWrite } from '../../components/EntityPages.tsx';
import { CONNECTORS_PATH, PARTNER_STATES, type Connector, type PartnerState } from './types.ts';

/**
 * Threat defense connectors (Graph `mobileThreatDefenseConnectors`): a partner such as Windows Security Center
 * reports each device's threat level to `/mtd/v1`, and app protection policies judge apps by it. `/connectors`
 * lists them, `/connectors/new` adds one, `/connectors/{id}` edits it and says how the partner connects.
 */
export default function ConnectorsPage() {
  const { path } = useRoute();
  if (path === '/connectors/new') return <NewConnector />;
  const one = matchPath('/connectors/:id', path);
  if (one) return <ConnectorDetail key={one.id} id={one.id!} />;
  return <ConnectorList />;
}

const useStyles = makeStyles({
  section: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, marginTop: tokens.spacingVerticalXXL, maxWidth: '760px' },
  code: { fontFamily: tokens.fontFamilyMonospace, whiteSpace: 'pre-wrap', wordBreak: 'break-all', margin: 0, padding: tokens.spacingHorizontalM, backgroundColor: tokens.colorNeutralBackground3, borderRadius: tokens.borderRadiusMedium },
});

const STATE_LABELS: Readonly<Record<PartnerState, string>> = {
  enabled: 'Enabled', available: 'Available', unavailable: 'Unavailable', unresponsive: 'Unresponsive', notSetUp: 'Not set up', error: 'Error',
};

function StateBadge({ state }: { state: PartnerState }) {
  const color = state === 'enabled' ? 'success' : state === 'unresponsive' || state === 'error' ? 'danger' : 'informative';
  return <Badge appearance="tint" color={color}>{STATE_LABELS[state] ?? state}</Badge>;
}

const yesNo = (value: boolean) => (value ? 'Yes' : 'No');

const COLUMNS: readonly Column<Connector>[] = [
  { id: 'id', title: 'Connector id', render: (c) => <Link to={`/connectors/${c.id}`}><Text font="monospace" size={200}>{c.id}</Text></Link> },
  { id: 'state', title: 'Partner state', sortBy: 'partnerState', render: (c) => <StateBadge state={c.partnerState} /> },
  { id: 'heartbeat', title: 'Last heartbeat', sortBy: 'lastHeartbeatDateTime', render: (c) => <span title={formatDateTime(c.lastHeartbeatDateTime)}>{formatRelative(c.lastHeartbeatDateTime)}</span> },
  { id: 'mam', title: 'Windows MAM', render: (c) => yesNo(c.windowsMobileApplicationManagementEnabled) },
  { id: 'missing', title: 'Blocks without partner data', render: (c) => yesNo(c.windowsDeviceBlockedOnMissingPartnerData) },
  { id: 'os', title: 'Blocks unsupported Windows', render: (c) => yesNo(c.partnerUnsupportedOsVersionBlocked) },
  { id: 'days', title: 'Unresponsive after (days)', render: (c) => c.partnerUnresponsivenessThresholdInDays },
];

function ConnectorList() {
  const { canWrite } = useSession();
  return (
    <>
      <PageHeader title="Threat defense" description="Connectors of mobile threat defense partners: the device threat levels they report feed app protection policies' maximum allowed threat level."
        actions={canWrite ? <Button appearance="primary" icon={<Add20Regular />} onClick={() => navigate('/connectors/new')}>Add connector</Button> : null} />
      <PagedTable<Connector> label="Threat defense connectors" path={CONNECTORS_PATH} columns={COLUMNS} rowKey={(c) => c.id} empty="No connector yet: no threat level is reported."
        filters={[{ id: 'state', label: 'Partner state', options: PARTNER_STATES.map((s) => ({ value: s, label: STATE_LABELS[s] })), toOData: (v) => `partnerState eq ${odataString(v)}` }]} />
    </>
  );
}

/** The settings OpenMAM acts on; the days as typed, for the server to judge. */
interface Draft {
  partnerState: PartnerState;
  windowsMobileApplicationManagementEnabled: boolean;
  windowsDeviceBlockedOnMissingPartnerData: boolean;
  partnerUnsupportedOsVersionBlocked: boolean;
  partnerUnresponsivenessThresholdInDays: string;
}

const FIELDS = ['partnerState', 'windowsMobileApplicationManagementEnabled', 'windowsDeviceBlockedOnMissingPartnerData', 'partnerUnsupportedOsVersionBlocked', 'partnerUnresponsivenessThresholdInDays'] as const;

/** The defaults the server gives a new connector (docs/app-protection.md): nothing blocks until reports come. */
const NEW_CONNECTOR: Draft = { partnerState: 'enabled', windowsMobileApplicationManagementEnabled: true, windowsDeviceBlockedOnMissingPartnerData: false, partnerUnsupportedOsVersionBlocked: false, partnerUnresponsivenessThresholdInDays: '7' };

function draftOf(connector: Connector): Draft {
  return {
    partnerState: connector.partnerState,
    windowsMobileApplicationManagementEnabled: connector.windowsMobileApplicationManagementEnabled,
    windowsDeviceBlockedOnMissingPartnerData: connector.windowsDeviceBlockedOnMissingPartnerData,
    partnerUnsupportedOsVersionBlocked: connector.partnerUnsupportedOsVersionBlocked,
    partnerUnresponsivenessThresholdInDays: String(connector.partnerUnresponsivenessThresholdInDays),
  };
}

function bodyOf(draft: Draft): Record<string, unknown> {
  const days = draft.partnerUnresponsivenessThresholdInDays.trim();
  return { ...draft, partnerUnresponsivenessThresholdInDays: /^-?\d+$/.test(days) ? Number(days) : days };
}

function ConnectorFields({ draft, onChange, error, readOnly }: { draft: Draft; onChange: (draft: Draft) => void; error: unknown; readOnly: boolean }) {
  return (
    <>
      <Field label="Partner state" hint="Only an enabled (or unresponsive) connector's reports count." validationMessage={fieldMessage(error, 'partnerState')}>
        <Select value={draft.partnerState} disabled={readOnly} onChange={(_, d) => onChange({ ...draft, partnerState: d.value as PartnerState })}>
          {PARTNER_STATES.map((s) => <option key={s} value={s}>{STATE_LABELS[s]}</option>)}
        </Select>
      </Field>
      <Field validationMessage={fieldMessage(error, 'windowsMobileApplicationManagementEnabled')}>
        <Switch label="Use this connector's reports for Windows MAM" checked={draft.windowsMobileApplicationManagementEnabled} disabled={readOnly}
          onChange={(_, d) => onChange({ ...draft, windowsMobileApplicationManagementEnabled: d.checked })} />
      </Field>
      <Field validationMessage={fieldMessage(error, 'windowsDeviceBlockedOnMissingPartnerData')}>
        <Switch label="Block devices the partner has not reported on" checked={draft.windowsDeviceBlockedOnMissingPartnerData} disabled={readOnly}
          onChange={(_, d) => onChange({ ...draft, windowsDeviceBlockedOnMissingPartnerData: d.checked })} />
      </Field>
      <Field validationMessage={fieldMessage(error, 'partnerUnsupportedOsVersionBlocked')}>
        <Switch label="Block Windows versions the partner does not support" checked={draft.partnerUnsupportedOsVersionBlocked} disabled={readOnly}
          onChange={(_, d) => onChange({ ...draft, partnerUnsupportedOsVersionBlocked: d.checked })} />
      </Field>
      <Field label="Days without a heartbeat before the partner is unresponsive" hint="1 to 365" validationMessage={fieldMessage(error, 'partnerUnresponsivenessThresholdInDays')}>
        <Input type="number" min={1} max={365} value={draft.partnerUnresponsivenessThresholdInDays} readOnly={readOnly}
          onChange={(_, d) => onChange({ ...draft, partnerUnresponsivenessThresholdInDays: d.value })} />
      </Field>
    </>
  );
}

function NewConnector() {
  const [draft, setDraft] = useState<Draft>(NEW_CONNECTOR);
  const create = useGraphWrite<Connector>();
  const submit = () => create.mutate({ method: 'POST', path: CONNECTORS_PATH, body: bodyOf(draft) }, { onSuccess: (c) => c && navigate(`/connectors/${c.id}`, { replace: true }) });
  return (
    <CreateForm title="Add connector" description="A threat defense partner's connection to this tenant. The defaults change no decision until the partner reports."
      formLabel="New connector" submitLabel="Add connector" pendingLabel="Adding…" cancelTo="/connectors" write={create} shownFields={FIELDS} onSubmit={submit}>
      <ConnectorFields draft={draft} onChange={setDraft} error={create.error} readOnly={false} />
    </CreateForm>
  );
}

function ConnectorDetail({ id }: { id: string }) {
  return <EntityLoader<Connector> path={`${CONNECTORS_PATH}/${encodeURIComponent(id)}`} title="Connector">{(connector, save) => <ConnectorEditor connector={connector} save={save} />}</EntityLoader>;
}

function ConnectorEditor({ connector, save }: { connector: Connector; save: EntityWrite }) {
  const styles = useStyles();
  const { canWrite } = useSession();
  const [draft, setDraft] = useState<Draft>(draftOf(connector));
  const remove = useGraphWrite();
  const path = `${CONNECTORS_PATH}/${connector.id}`;
  const submit = () => {
    save.mutate({ method: 'PATCH', path, body: bodyOf(draft), ifMatch: connector['@odata.etag'] });
  };
  const notApplicable = connector['@openmam.notApplicableProperties'] ?? [];
  return (
    <>
      <PageHeader title="Threat defense connector"
        description={<>Connector <Text font="monospace">{connector.id}</Text>: <StateBadge state={connector.partnerState} />, last heartbeat {formatRelative(connector.lastHeartbeatDateTime)}.</>}
        actions={
          <ConfirmButton label="Delete connector" title="Delete this connector?" confirmLabel="Delete"
            onConfirm={() => remove.mutateAsync({ method: 'DELETE', path, ifMatch: connector['@odata.etag'] }).then(() => navigate('/connectors', { replace: true }))}>
            Its threat reports are deleted with it, and the partner's further reports are refused. Apps judged by those reports are judged again without them.
          </ConfirmButton>
        } />
      <EditForm formLabel="Connector settings" save={save} shownFields={FIELDS} onSubmit={submit}>
        <ConnectorFields draft={draft} onChange={setDraft} error={save.error} readOnly={!canWrite} />
      </EditForm>
      {notApplicable.length > 0 ? (
        <section className={styles.section} aria-labelledby="not-applicable-heading">
          <Title3 as="h2" id="not-applicable-heading">Stored, not acted on</Title3>
          <Text>Set through the API and kept as Graph has them; OpenMAM does not act on them: {notApplicable.join(', ')}.</Text>
        </section>
      ) : null}
      <PartnerSetup connector={connector} />
    </>
  );
}

/**
 * How the partner reaches OpenMAM (docs/app-protection.md, "Who calls what" and "Threat defense"). The admin API
 * issues no credential: the partner's app gets an app-only token with the app role OpenMAM.ThreatConnector from the
 * tenant's identity provider.
 */
function PartnerSetup({ connector }: { connector: Connector }) {
  const styles = useStyles();
  const origin = location.origin;
  return (
    <section className={styles.section} aria-labelledby="partner-heading">
      <Title3 as="h2" id="partner-heading">Connecting the partner</Title3>
      <Text>
        The partner signs in as an application: in Microsoft Entra ID, grant the partner's app registration the application
        role <Text font="monospace">OpenMAM.ThreatConnector</Text> of OpenMAM's app registration (admin consent), so its app-only
        tokens carry that role. With the built-in identity provider (development), <Text font="monospace">openmam token --roles OpenMAM.ThreatConnector</Text> mints one.
      </Text>
      <Text>It then reports with this connector's id (optional while the tenant has one connector):</Text>
      <pre className={styles.code}>{`POST ${origin}/mtd/v1/heartbeat
{ "connectorId": "${connector.id}" }

POST ${origin}/mtd/v1/health
{ "connectorId": "${connector.id}", "userId": "<user object id>", "appId": "<windows app id>",
  "azureAdDeviceId": "<Entra device id>", "healthState": "secured | low | medium | high",
  "lastUpdatedDateTime": "<ISO 8601>" }`}</pre>
    </section>
  );
}
