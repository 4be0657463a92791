import { makeStyles, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Tab, TabList, Text, tokens } from '@fluentui/react-components';
import { DeleteRegular } from '@fluentui/react-icons';
import { useState } from 'react';
import { useGraph, useGraphWrite } from '../../api/hooks.ts';
import { useSession } from '../../auth/session.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { ErrorBar } from '../../components/ErrorBar.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { formatDateTime } from '../../components/format.ts';
import { Link, navigate, setSearch, useRoute } from '../../router.tsx';
import { AssignmentsPanel } from './Assignments.tsx';
import { kindOf, type PolicyCollectionInfo } from './kinds.ts';
import { PolicyForm } from './PolicyForm.tsx';
import { ComplianceStatusPanel, DeploymentPanel, DeviceStatusPanel } from './Status.tsx';
import { TargetAppsPanel } from './TargetApps.tsx';
import type { Policy } from './types.ts';
import { WipToolsPanel } from './WipTools.tsx';

const useStyles = makeStyles({
  notes: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, marginBottom: tokens.spacingVerticalM },
  panel: { paddingTop: tokens.spacingVerticalL, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  list: { margin: 0 },
});

/** A setting outside the MAM allow-list: `{ locUri, reason }` as the compiler reports it. */
function describeRefused(setting: unknown): string {
  if (typeof setting === 'object' && setting !== null && 'locUri' in setting && 'reason' in setting) return `${String(setting.locUri)}: ${String(setting.reason)}`;
  return typeof setting === 'string' ? setting : JSON.stringify(setting);
}

interface DetailTab {
  value: string;
  label: string;
}

/** One policy: its settings (PATCH with If-Match), target apps, assignments, status and, for WIP, its tools; delete. */
export function PolicyDetail({ collection, id }: { collection: PolicyCollectionInfo; id: string }) {
  const styles = useStyles();
  const { search } = useRoute();
  const { canWrite } = useSession();
  const path = `${collection.path}/${id}`;
  const policy = useGraph<Policy>(path);
  const write = useGraphWrite();
  const remove = useGraphWrite();
  const [saved, setSaved] = useState('');
  const back = `/policies?tab=${collection.slug}`;

  if (policy.isPending) return <Spinner label="Loading policy" />;
  if (!policy.data) return (<><PageHeader title="Policy" description={<Link to={back}>Back to {collection.title} policies</Link>} /><ErrorBar error={policy.error} /></>);
  const data = policy.data;
  const kind = kindOf(collection, data['@odata.type']);
  const etag = data['@odata.etag'];
  const tabs: DetailTab[] = [
    { value: 'settings', label: 'Settings' },
    ...(collection.targetApps ? [{ value: 'apps', label: 'Target apps' }] : []),
    { value: 'assignments', label: 'Assignments' },
    ...((collection.delivery === 'omaDm' && collection.reachesMamDevices !== false) || collection.delivery === 'compliance' ? [{ value: 'status', label: 'Device status' }] : []),
    ...(collection.slug === 'app-protection' ? [{ value: 'status', label: 'Deployment' }] : []),
    ...(collection.slug === 'wip' ? [{ value: 'tools', label: 'WIP tools' }] : []),
  ];
  const tab = tabs.find((t) => t.value === search.get('tab'))?.value ?? 'settings';
  const notApplicable = data['@openmam.notApplicableProperties'] ?? [];
  const refused = data['@openmam.notApplicableSettings'] ?? [];
  const warnings = data['@openmam.warnings'] ?? [];

  const save = (body: Record<string, unknown>) => {
    setSaved('');
    write.mutate({ method: 'PATCH', path, body, ...(etag ? { ifMatch: etag } : {}) }, { onSuccess: () => setSaved('Settings saved.') });
  };

  return (
    <>
      <PageHeader
        title={data.displayName}
        description={<>{kind.title} · version {String(data.version)} · modified {formatDateTime(data.lastModifiedDateTime)} · <Link to={back}>Back to {collection.title} policies</Link></>}
        actions={canWrite ? (
          <ConfirmButton label="Delete policy" title={`Delete ${data.displayName}?`} confirmLabel="Delete" icon={<DeleteRegular />}
            onConfirm={() => remove.mutateAsync({ method: 'DELETE', path, ...(etag ? { ifMatch: etag } : {}) }).then(() => navigate(back))}>
            The policy is removed from every device and app it reaches at their next session or check-in. This cannot be undone.
          </ConfirmButton>
        ) : undefined}
      />
      {search.get('created') ? <Text role="status">Policy created. Next: {collection.targetApps ? 'choose its target apps, then assign it' : 'assign it to groups'}.</Text> : null}
      <div className={styles.notes}>
        {warnings.map((warning) => (
          <MessageBar key={warning} intent="warning"><MessageBarBody>{warning}</MessageBarBody></MessageBar>
        ))}
        {notApplicable.length > 0 ? (
          <MessageBar intent="info">
            <MessageBarBody>
              <MessageBarTitle>Stored, not acted on</MessageBarTitle>
              {notApplicable.join(', ')}
            </MessageBarBody>
          </MessageBar>
        ) : null}
        {refused.length > 0 ? (
          <MessageBar intent="warning">
            <MessageBarBody>
              <MessageBarTitle>Settings not sent to MAM devices</MessageBarTitle>
              <ul className={styles.list}>{refused.map((setting, i) => <li key={i}>{describeRefused(setting)}</li>)}</ul>
            </MessageBarBody>
          </MessageBar>
        ) : null}
      </div>
      <TabList selectedValue={tab} onTabSelect={(_, d) => setSearch({ tab: String(d.value), created: undefined })} aria-label="Policy sections">
        {tabs.map((t) => <Tab key={t.value} value={t.value}>{t.label}</Tab>)}
      </TabList>
      <div role="tabpanel" aria-label={tabs.find((t) => t.value === tab)?.label} className={styles.panel}>
        {tab === 'settings' ? (
          <>
            <Text as="h2" size={500} weight="semibold">Settings</Text>
            <PolicyForm key={etag ?? String(data.version)} fields={kind.fields} body={data} mode="edit" readOnly={!canWrite} pending={write.isPending} error={write.error} submitLabel="Save settings" onSubmit={save} />
            <Text role="status">{saved}</Text>
          </>
        ) : null}
        {tab === 'apps' ? <TargetAppsPanel collection={collection} policy={data} /> : null}
        {tab === 'assignments' ? <AssignmentsPanel collection={collection} policy={data} /> : null}
        {tab === 'status' && collection.delivery === 'omaDm' ? <DeviceStatusPanel collection={collection} policy={data} /> : null}
        {tab === 'status' && collection.delivery === 'compliance' ? <ComplianceStatusPanel collection={collection} policy={data} /> : null}
        {tab === 'status' && collection.slug === 'app-protection' ? <DeploymentPanel collection={collection} policy={data} /> : null}
        {tab === 'tools' ? <WipToolsPanel collection={collection} policy={data} /> : null}
      </div>
    </>
  );
}
