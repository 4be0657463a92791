import { Button, Field, Input, makeStyles, Text, Textarea, tokens } from '@fluentui/react-components';
import { Add20Regular } from '@fluentui/react-icons';
import { useState, type ReactNode } from 'react';
import { odataString } from '../../api/graph.ts';
import { useGraphWrite } from '../../api/hooks.ts';
import { useSession } from '../../auth/session.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { fieldMessage } from '../../components/ErrorBar.tsx';
import { PagedTable, type Column } from '../../components/PagedTable.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { Link, navigate } from '../../router.tsx';
import { lines } from '../groups/lines.ts';

import { CreateForm, EditForm, EntityLoader, type EntityWrite } from '../../components/EntityPages.tsx';
import { PRINCIPALS_PATH, type ServicePrincipal } from './types.ts';

/**
 * Protected resources: the tenant's service principals. A conditional access policy names a resource by its
 * `appId`; a user's token for it carries one of its `servicePrincipalNames` as audience, and a gateway started with
 * `--resource <app id or name>` asks for decisions about it (docs/app-protection.md, "Protected resources").
 */
const useStyles = makeStyles({
  tabs: { marginBottom: tokens.spacingVerticalM },
});

/** The audiences besides the appId, which is always first (as Entra lists it). */
function otherNames(principal: ServicePrincipal): string[] {
  return principal.servicePrincipalNames.filter((name) => name.toLowerCase() !== principal.appId.toLowerCase());
}

const COLUMNS: readonly Column<ServicePrincipal>[] = [
  { id: 'name', title: 'Name', sortBy: 'displayName', render: (p) => <Link to={`/access/resources/${p.id}`}>{p.displayName}</Link> },
  { id: 'appId', title: 'Application id', sortBy: 'appId', render: (p) => <Text font="monospace" size={200}>{p.appId}</Text> },
  { id: 'names', title: 'Other audiences', render: (p) => otherNames(p).join(', ') },
];

export function ResourceList({ tabs }: { tabs: ReactNode }) {
  const styles = useStyles();
  const { canWrite } = useSession();
  return (
    <>
      <PageHeader title="Conditional access" description="Protected resources: the APIs and services whose access conditional access policies decide."
        actions={canWrite ? <Button appearance="primary" icon={<Add20Regular />} onClick={() => navigate('/access/resources/new')}>Add protected resource</Button> : null} />
      <div className={styles.tabs}>{tabs}</div>
      <PagedTable<ServicePrincipal> label="Protected resources" path={PRINCIPALS_PATH} columns={COLUMNS} rowKey={(p) => p.id}
        defaultSort={{ by: 'displayName', direction: 'asc' }} empty="No protected resource yet."
        select={['id', 'appId', 'displayName', 'servicePrincipalNames']}
        filters={[
          { id: 'name', label: 'Name starts with', toOData: (v) => `startswith(displayName,${odataString(v)})` },
          { id: 'audience', label: 'Audience', placeholder: 'e.g. api://files, Enter to apply', toOData: (v) => `servicePrincipalNames/any(c:c eq ${odataString(v)})` },
        ]} />
    </>
  );
}

interface Draft {
  displayName: string;
  appId: string;
  servicePrincipalNames: string;
}

const FIELDS = ['displayName', 'appId', 'servicePrincipalNames'] as const;

function ResourceFields({ draft, onChange, error, readOnly, existing }: { draft: Draft; onChange: (draft: Draft) => void; error: unknown; readOnly: boolean; existing: boolean }) {
  return (
    <>
      <Field label="Name" required validationMessage={fieldMessage(error, 'displayName')}>
        <Input value={draft.displayName} readOnly={readOnly} onChange={(_, d) => onChange({ ...draft, displayName: d.value })} />
      </Field>
      <Field label="Application id" hint={existing ? 'Fixed once created; policies name the resource by it.' : 'The resource\'s Entra application id; leave empty to have one generated.'} validationMessage={fieldMessage(error, 'appId')}>
        <Input value={draft.appId} readOnly={readOnly || existing} onChange={(_, d) => onChange({ ...draft, appId: d.value })} />
      </Field>
      <Field label="Audiences" hint="One per line: the audiences users' tokens for this resource carry (e.g. api://files), and the names gateways use. The application id is always one." validationMessage={fieldMessage(error, 'servicePrincipalNames')}>
        <Textarea value={draft.servicePrincipalNames} readOnly={readOnly} rows={4} resize="vertical" onChange={(_, d) => onChange({ ...draft, servicePrincipalNames: d.value })} />
      </Field>
    </>
  );
}

export function NewResource() {
  const [draft, setDraft] = useState<Draft>({ displayName: '', appId: '', servicePrincipalNames: '' });
  const create = useGraphWrite<ServicePrincipal>();
  const submit = () => {
    const body = { displayName: draft.displayName, ...(draft.appId.trim() ? { appId: draft.appId.trim() } : {}), servicePrincipalNames: lines(draft.servicePrincipalNames) };
    create.mutate({ method: 'POST', path: PRINCIPALS_PATH, body }, { onSuccess: (p) => p && navigate(`/access/resources/${p.id}`, { replace: true }) });
  };
  return (
    <CreateForm title="Add protected resource" description="A service principal: an API or service whose access conditional access policies decide."
      formLabel="New protected resource" submitLabel="Add protected resource" pendingLabel="Adding…" cancelTo="/access/resources" write={create} shownFields={FIELDS} onSubmit={submit}>
      <ResourceFields draft={draft} onChange={setDraft} error={create.error} readOnly={false} existing={false} />
    </CreateForm>
  );
}

export function ResourceDetail({ id }: { id: string }) {
  return <EntityLoader<ServicePrincipal> path={`${PRINCIPALS_PATH}/${encodeURIComponent(id)}`} title="Protected resource">{(principal, save) => <ResourceEditor principal={principal} save={save} />}</EntityLoader>;
}

function ResourceEditor({ principal, save }: { principal: ServicePrincipal; save: EntityWrite }) {
  const { canWrite } = useSession();
  const [draft, setDraft] = useState<Draft>({ displayName: principal.displayName, appId: principal.appId, servicePrincipalNames: principal.servicePrincipalNames.join('\n') });
  const remove = useGraphWrite();
  const path = `${PRINCIPALS_PATH}/${principal.id}`;
  const submit = () => {
    save.mutate({ method: 'PATCH', path, body: { displayName: draft.displayName, servicePrincipalNames: lines(draft.servicePrincipalNames) }, ifMatch: principal['@odata.etag'] });
  };
  const notApplicable = principal['@openmam.notApplicableProperties'] ?? [];
  return (
    <>
      <PageHeader title={principal.displayName} description="Protected resource (service principal)."
        actions={
          <ConfirmButton label="Delete protected resource" title={`Delete ${principal.displayName}?`} confirmLabel="Delete"
            onConfirm={() => remove.mutateAsync({ method: 'DELETE', path, ifMatch: principal['@odata.etag'] }).then(() => navigate('/access/resources', { replace: true }))}>
            Gateways protecting it can no longer get decisions for it. A resource that a conditional access policy names cannot be deleted: change the policy first.
          </ConfirmButton>
        } />
      <EditForm formLabel="Protected resource properties" save={save} shownFields={FIELDS} onSubmit={submit}>
        <ResourceFields draft={draft} onChange={setDraft} error={save.error} readOnly={!canWrite} existing />
        {notApplicable.length > 0 ? <Text>Stored, not acted on: {notApplicable.join(', ')}.</Text> : null}
      </EditForm>
    </>
  );
}
