import { Badge, Button, Field, Input, makeStyles, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Textarea, tokens } from '@fluentui/react-components';
import { AddRegular, DeleteRegular } from '@fluentui/react-icons';
import { useState, type FormEvent } from 'react';
import type { GraphCollection } from '../../api/graph.ts';
import { useGraph, useGraphWrite } from '../../api/hooks.ts';
import { useSession } from '../../auth/session.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { ErrorBar } from '../../components/ErrorBar.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { formatDateTime } from '../../components/format.ts';
import { Link, matchPath, navigate, useRoute } from '../../router.tsx';
import { messageAt } from './messages.ts';
import { CATALOGUE_PATH } from './TargetApps.tsx';
import type { ManagedApp } from './types.ts';

/**
 * The managed app catalogue (`deviceAppManagement/openMamManagedApps`): which Entra client applications speak for
 * which Windows app, the app ids policies target. Microsoft Edge is built in and read-only. The API answers the
 * catalogue whole (it is bounded), so the list is one request.
 */
export default function ManagedAppsPage() {
  const { path } = useRoute();
  if (path === '/apps/new') return <AppEditor />;
  const one = matchPath('/apps/:id', path);
  if (one) return <AppDetail id={one['id']!} />;
  return <AppList />;
}

const useStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, maxWidth: '640px' },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS },
});

function AppList() {
  const { canWrite } = useSession();
  const apps = useGraph<GraphCollection<ManagedApp>>(CATALOGUE_PATH);
  return (
    <>
      <PageHeader
        title="Managed apps"
        description="The apps policies target, and the Entra client ids that speak for each in users' tokens."
        actions={canWrite ? <Button appearance="primary" icon={<AddRegular />} onClick={() => navigate('/apps/new')}>Add app</Button> : undefined}
      />
      <ErrorBar error={apps.error} />
      <Table aria-label="Managed apps" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Name</TableHeaderCell>
            <TableHeaderCell>App id</TableHeaderCell>
            <TableHeaderCell>Client ids</TableHeaderCell>
            <TableHeaderCell>Source</TableHeaderCell>
            <TableHeaderCell>Last modified</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {(apps.data?.value ?? []).map((app) => (
            <TableRow key={app.id}>
              <TableCell><Link to={`/apps/${encodeURIComponent(app.id)}`}>{app.displayName}</Link></TableCell>
              <TableCell>{app.windowsAppId}</TableCell>
              <TableCell>{app.clientIds.join(', ')}</TableCell>
              <TableCell>{app.isBuiltIn ? <Badge appearance="tint">Built in</Badge> : 'Added'}</TableCell>
              <TableCell>{app.isBuiltIn ? '—' : formatDateTime(app.lastModifiedDateTime)}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {apps.isPending ? <Spinner size="small" label="Loading" /> : null}
    </>
  );
}

function AppDetail({ id }: { id: string }) {
  const app = useGraph<ManagedApp>(`${CATALOGUE_PATH}/${encodeURIComponent(id)}`);
  if (app.isPending) return <Spinner label="Loading app" />;
  if (!app.data) return (<><PageHeader title="Managed app" description={<Link to="/apps">Back to managed apps</Link>} /><ErrorBar error={app.error} /></>);
  return <AppEditor app={app.data} />;
}

/** Create (no `app`) or edit one entry; built-in entries are shown read-only. */
function AppEditor({ app }: { app?: ManagedApp }) {
  const styles = useStyles();
  const { canWrite } = useSession();
  const editable = canWrite && !app?.isBuiltIn;
  const [displayName, setDisplayName] = useState(app?.displayName ?? '');
  const [windowsAppId, setWindowsAppId] = useState(app?.windowsAppId ?? '');
  const [clientIds, setClientIds] = useState((app?.clientIds ?? []).join('\n'));
  const [saved, setSaved] = useState('');
  const write = useGraphWrite<ManagedApp>();
  const remove = useGraphWrite();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved('');
    const body = { displayName, windowsAppId, clientIds: clientIds.split(/[\s,]+/).filter((c) => c !== '') };
    if (app) write.mutate({ method: 'PATCH', path: `${CATALOGUE_PATH}/${encodeURIComponent(app.id)}`, body, ...(app['@odata.etag'] ? { ifMatch: app['@odata.etag'] } : {}) }, { onSuccess: () => setSaved('Saved.') });
    else write.mutate({ method: 'POST', path: CATALOGUE_PATH, body }, { onSuccess: (created) => navigate(created ? `/apps/${encodeURIComponent(created.id)}` : '/apps') });
  };
  const at = (field: string) => messageAt(write.error, field, 'client id');
  const state = (field: string) => (at(field) ? ('error' as const) : ('none' as const));
  return (
    <>
      <PageHeader
        title={app ? app.displayName : 'Add managed app'}
        description={<Link to="/apps">Back to managed apps</Link>}
        actions={app && editable ? (
          <ConfirmButton label="Delete app" title={`Delete ${app.displayName}?`} confirmLabel="Delete" icon={<DeleteRegular />}
            onConfirm={() => remove.mutateAsync({ method: 'DELETE', path: `${CATALOGUE_PATH}/${encodeURIComponent(app.id)}`, ...(app['@odata.etag'] ? { ifMatch: app['@odata.etag'] } : {}) }).then(() => navigate('/apps'))}>
            Tokens from its client ids will no longer count as this app, and policies targeting {app.windowsAppId} keep the app id only.
          </ConfirmButton>
        ) : undefined}
      />
      {app?.isBuiltIn ? <Text as="p">Built in: every tenant has this entry, and it cannot be changed.</Text> : null}
      <form className={styles.form} onSubmit={submit} noValidate>
        <Field label="Name" required validationMessage={at('displayName')} validationState={state('displayName')}>
          <Input value={displayName} readOnly={!editable} onChange={(_, d) => setDisplayName(d.value)} />
        </Field>
        <Field label="Windows app id" required hint="What policies target, e.g. com.contoso.notes (letters, digits and . _ ~ ! + -)." validationMessage={at('windowsAppId')} validationState={state('windowsAppId')}>
          <Input value={windowsAppId} readOnly={!editable} onChange={(_, d) => setWindowsAppId(d.value)} />
        </Field>
        <Field label="Client ids" required hint="The Entra application ids (GUIDs) of the app, one a line." validationMessage={at('clientIds')} validationState={state('clientIds')}>
          <Textarea value={clientIds} readOnly={!editable} onChange={(_, d) => setClientIds(d.value)} resize="vertical" />
        </Field>
        <ErrorBar error={write.error} shownFields={['displayName', 'windowsAppId', 'clientIds']} />
        {editable ? (
          <div className={styles.actions}>
            <Button type="submit" appearance="primary" disabled={write.isPending}>{app ? 'Save app' : 'Add app'}</Button>
            <Button onClick={() => navigate('/apps')}>Cancel</Button>
          </div>
        ) : null}
        <Text role="status">{saved}</Text>
      </form>
    </>
  );
}
