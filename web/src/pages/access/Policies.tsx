import { Badge, Button, Checkbox, Field, Input, Label, makeStyles, Radio, RadioGroup, Text, Title3, tokens } from '@fluentui/react-components';
import { Add20Regular } from '@fluentui/react-icons';
import { useState, type ReactNode } from 'react';
import { odataString, query } from '../../api/graph.ts';
import { useGraphWrite } from '../../api/hooks.ts';
import { useSession } from '../../auth/session.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { fieldMessage } from '../../components/ErrorBar.tsx';
import { formatDateTime } from '../../components/format.ts';
import { PagedTable, type Column } from '../../components/PagedTable.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { Link, navigate } from '../../router.tsx';

import { GroupPicker, idsIn, ObjectPicker, type PickerSource } from '../groups/pickers.tsx';
import { CreateForm, EditForm, EntityLoader, type EntityWrite } from '../../components/EntityPages.tsx';
import { GRANT_CONTROLS, MANAGED_APPS_PATH, POLICIES_PATH, PRINCIPALS_PATH, type ConditionalAccessPolicy, type GrantControl, type ManagedApp, type ServicePrincipal } from './types.ts';

/**
 * Conditional access policies, Entra's shape reduced to what OpenMAM decides (docs/app-protection.md): which
 * resources, which users and groups, and which grant controls (any one of them grants). The Graph properties OpenMAM
 * stores without acting on them are kept as they are on a PATCH and named on the page.
 */
const useStyles = makeStyles({
  group: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  tabs: { marginBottom: tokens.spacingVerticalM },
  error: { color: tokens.colorPaletteRedForeground1 },
});

/** The grant controls as Entra's admin center words them. */
const CONTROL_LABELS: Readonly<Record<GrantControl, string>> = {
  compliantApplication: 'Require app protection policy',
  approvedApplication: 'Require approved client app',
  compliantDevice: 'Require device to be marked as compliant',
};

function controlsOf(policy: ConditionalAccessPolicy): string {
  return (policy.grantControls?.builtInControls ?? []).map((c) => (c in CONTROL_LABELS ? CONTROL_LABELS[c as GrantControl] : c)).join(' or ');
}

function resourcesOf(policy: ConditionalAccessPolicy): string {
  const apps = policy.conditions?.applications?.includeApplications ?? [];
  return apps.includes('All') ? 'All resources' : `${apps.length} resource${apps.length === 1 ? '' : 's'}`;
}

const COLUMNS: readonly Column<ConditionalAccessPolicy>[] = [
  { id: 'name', title: 'Name', sortBy: 'displayName', render: (p) => <Link to={`/access/policies/${p.id}`}>{p.displayName}</Link> },
  { id: 'state', title: 'State', sortBy: 'state', render: (p) => <Badge appearance="tint" color={p.state === 'enabled' ? 'success' : 'informative'}>{p.state === 'enabled' ? 'On' : 'Off'}</Badge> },
  { id: 'resources', title: 'Resources', render: resourcesOf },
  { id: 'controls', title: 'Grant', render: controlsOf },
  { id: 'modified', title: 'Modified', sortBy: 'modifiedDateTime', render: (p) => formatDateTime(p.modifiedDateTime) },
];

export function PolicyList({ tabs }: { tabs: ReactNode }) {
  const styles = useStyles();
  const { canWrite } = useSession();
  return (
    <>
      <PageHeader title="Conditional access" description="Policies: who may reach which protected resource, and what their app or device must show. Every access decision applies them."
        actions={canWrite ? <Button appearance="primary" icon={<Add20Regular />} onClick={() => navigate('/access/policies/new')}>Create conditional access policy</Button> : null} />
      <div className={styles.tabs}>{tabs}</div>
      <PagedTable<ConditionalAccessPolicy> label="Conditional access policies" path={POLICIES_PATH} columns={COLUMNS} rowKey={(p) => p.id}
        defaultSort={{ by: 'createdDateTime', direction: 'asc' }} empty="No conditional access policy: every resource is allowed."
        filters={[
          { id: 'name', label: 'Name starts with', toOData: (v) => `startswith(displayName,${odataString(v)})` },
          { id: 'state', label: 'State', options: [{ value: 'enabled', label: 'On' }, { value: 'disabled', label: 'Off' }], toOData: (v) => `state eq ${odataString(v)}` },
        ]} />
    </>
  );
}

const PRINCIPAL_SOURCE: PickerSource<ServicePrincipal> = {
  search: (text) => `${PRINCIPALS_PATH}${query({ $top: 20, $select: 'id,appId,displayName', $filter: text ? `startswith(displayName,${odataString(text)})` : undefined })}`,
  resolve: (ids) => `${PRINCIPALS_PATH}${query({ $top: 100, $select: 'id,appId,displayName', $filter: idsIn('appId', ids) })}`,
  idOf: (p) => p.appId,
  nameOf: (p) => p.displayName,
};

/** The catalogue is answered whole (it is small, and takes no `$filter`): found by name or app id here. */
const APP_SOURCE: PickerSource<ManagedApp> = {
  search: () => MANAGED_APPS_PATH,
  resolve: () => MANAGED_APPS_PATH,
  idOf: (app) => app.windowsAppId,
  nameOf: (app) => app.displayName,
  matches: (app, text) => text === '' || app.displayName.toLowerCase().includes(text.toLowerCase()) || app.windowsAppId.includes(text.toLowerCase()),
};

interface Draft {
  displayName: string;
  state: 'enabled' | 'disabled';
  allResources: boolean;
  resources: string[];
  allUsers: boolean;
  includeGroups: string[];
  excludeGroups: string[];
  controls: string[];
  approvedApplications: string[];
}

const EMPTY: Draft = { displayName: '', state: 'enabled', allResources: false, resources: [], allUsers: false, includeGroups: [], excludeGroups: [], controls: ['compliantApplication'], approvedApplications: [] };

/** Every path the form shows a refusal at. */
const FIELDS = ['displayName', 'state', 'conditions.applications', 'conditions.users.includeUsers', 'conditions.users.includeGroups', 'conditions.users.excludeGroups', 'grantControls', 'approvedApplications'];

function draftOf(policy: ConditionalAccessPolicy): Draft {
  const apps = policy.conditions?.applications?.includeApplications ?? [];
  const users = policy.conditions?.users;
  return {
    displayName: policy.displayName,
    state: policy.state,
    allResources: apps.includes('All'),
    resources: apps.filter((a) => a !== 'All'),
    allUsers: (users?.includeUsers ?? []).includes('All'),
    includeGroups: [...(users?.includeGroups ?? [])],
    excludeGroups: [...(users?.excludeGroups ?? [])],
    controls: [...(policy.grantControls?.builtInControls ?? [])],
    approvedApplications: [...policy.approvedApplications],
  };
}

/**
 * The body of a create or PATCH. `conditions` and `grantControls` are replaced whole by a PATCH, so the stored-only
 * parts of the policy read (`conditions.platforms`, `grantControls.termsOfUse`, ...) are sent back as they were.
 */
function bodyOf(draft: Draft, was?: ConditionalAccessPolicy): Record<string, unknown> {
  const conditions = was?.conditions ?? {};
  return {
    displayName: draft.displayName,
    state: draft.state,
    conditions: {
      ...conditions,
      applications: { ...conditions.applications, includeApplications: draft.allResources ? ['All'] : draft.resources },
      users: { ...conditions.users, includeUsers: draft.allUsers ? ['All'] : [], includeGroups: draft.includeGroups, excludeGroups: draft.excludeGroups },
      ...(was ? {} : { clientAppTypes: ['all'] }),
    },
    grantControls: { ...was?.grantControls, operator: 'OR', builtInControls: draft.controls },
    approvedApplications: draft.controls.includes('approvedApplication') ? draft.approvedApplications : [],
  };
}

function PolicyFields({ draft, onChange, error, readOnly }: { draft: Draft; onChange: (draft: Draft) => void; error: unknown; readOnly: boolean }) {
  const styles = useStyles();
  const set = (change: Partial<Draft>) => onChange({ ...draft, ...change });
  return (
    <>
      <Field label="Name" required validationMessage={fieldMessage(error, 'displayName')}>
        <Input value={draft.displayName} readOnly={readOnly} onChange={(_, d) => set({ displayName: d.value })} />
      </Field>
      <Field label="State" validationMessage={fieldMessage(error, 'state')}>
        <RadioGroup layout="horizontal" value={draft.state} disabled={readOnly} onChange={(_, d) => set({ state: d.value === 'disabled' ? 'disabled' : 'enabled' })}>
          <Radio value="enabled" label="On" />
          <Radio value="disabled" label="Off" />
        </RadioGroup>
      </Field>
      <section className={styles.group} aria-labelledby="resources-heading">
        <Title3 as="h2" id="resources-heading">Protected resources</Title3>
        <Checkbox label="All resources" checked={draft.allResources} disabled={readOnly} onChange={(_, d) => set({ allResources: d.checked === true })} />
        {draft.allResources ? (
          fieldMessage(error, 'conditions.applications') ? <Text role="alert" className={styles.error}>{fieldMessage(error, 'conditions.applications')}</Text> : null
        ) : (
          <ObjectPicker<ServicePrincipal> label="Resources" source={PRINCIPAL_SOURCE} value={draft.resources} onChange={(ids) => set({ resources: ids })} readOnly={readOnly}
            placeholder="Type a resource name" validationMessage={fieldMessage(error, 'conditions.applications')} />
        )}
      </section>
      <section className={styles.group} aria-labelledby="users-heading">
        <Title3 as="h2" id="users-heading">Users</Title3>
        <Field validationMessage={fieldMessage(error, 'conditions.users.includeUsers')}>
          <Checkbox label="All users" checked={draft.allUsers} disabled={readOnly} onChange={(_, d) => set({ allUsers: d.checked === true })} />
        </Field>
        {draft.allUsers ? null : (
          <GroupPicker label="Include groups" value={draft.includeGroups} onChange={(ids) => set({ includeGroups: ids })} readOnly={readOnly} validationMessage={fieldMessage(error, 'conditions.users.includeGroups')} />
        )}
        <GroupPicker label="Exclude groups" value={draft.excludeGroups} onChange={(ids) => set({ excludeGroups: ids })} readOnly={readOnly} validationMessage={fieldMessage(error, 'conditions.users.excludeGroups')} />
      </section>
      <section className={styles.group} aria-labelledby="grant-heading">
        <Title3 as="h2" id="grant-heading">Grant</Title3>
        {/* Not a Field: inside one, each checkbox would be named by the Field's label instead of its own. */}
        <div className={styles.group} role="group" aria-labelledby="grant-controls-label">
          <Label id="grant-controls-label">Grant access when one of these is met</Label>
          {GRANT_CONTROLS.map((control) => (
            <Checkbox key={control} label={CONTROL_LABELS[control]} checked={draft.controls.includes(control)} disabled={readOnly}
              onChange={(_, d) => set({ controls: d.checked === true ? [...draft.controls, control] : draft.controls.filter((c) => c !== control) })} />
          ))}
          {fieldMessage(error, 'grantControls') ? <Text role="alert" className={styles.error}>{fieldMessage(error, 'grantControls')}</Text> : null}
        </div>
        {draft.controls.includes('approvedApplication') ? (
          <ObjectPicker<ManagedApp> label="Approved client apps" hint="From the managed app catalogue." source={APP_SOURCE} value={draft.approvedApplications}
            onChange={(ids) => set({ approvedApplications: ids })} readOnly={readOnly} placeholder="Type an app name" validationMessage={fieldMessage(error, 'approvedApplications')} />
        ) : null}
      </section>
    </>
  );
}

export function NewPolicy() {
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const create = useGraphWrite<ConditionalAccessPolicy>();
  const submit = () => create.mutate({ method: 'POST', path: POLICIES_PATH, body: bodyOf(draft) }, { onSuccess: (p) => p && navigate(`/access/policies/${p.id}`, { replace: true }) });
  return (
    <CreateForm title="Create conditional access policy" description="Who may reach which protected resource, and what their app or device must show." wide
      formLabel="New conditional access policy" submitLabel="Create policy" pendingLabel="Creating…" cancelTo="/access" write={create} shownFields={FIELDS} onSubmit={submit}>
      <PolicyFields draft={draft} onChange={setDraft} error={create.error} readOnly={false} />
    </CreateForm>
  );
}

export function PolicyDetail({ id }: { id: string }) {
  return <EntityLoader<ConditionalAccessPolicy> path={`${POLICIES_PATH}/${encodeURIComponent(id)}`} title="Conditional access policy">{(policy, save) => <PolicyEditor policy={policy} save={save} />}</EntityLoader>;
}

function PolicyEditor({ policy, save }: { policy: ConditionalAccessPolicy; save: EntityWrite }) {
  const { canWrite } = useSession();
  const [draft, setDraft] = useState<Draft>(draftOf(policy));
  const remove = useGraphWrite();
  const path = `${POLICIES_PATH}/${policy.id}`;
  const submit = () => {
    save.mutate({ method: 'PATCH', path, body: bodyOf(draft, policy), ifMatch: policy['@odata.etag'] });
  };
  const notApplicable = policy['@openmam.notApplicableProperties'] ?? [];
  return (
    <>
      <PageHeader title={policy.displayName} description={`Conditional access policy, created ${formatDateTime(policy.createdDateTime)}, changed ${formatDateTime(policy.modifiedDateTime)}.`}
        actions={
          <ConfirmButton label="Delete policy" title={`Delete ${policy.displayName}?`} confirmLabel="Delete"
            onConfirm={() => remove.mutateAsync({ method: 'DELETE', path, ifMatch: policy['@odata.etag'] }).then(() => navigate('/access', { replace: true }))}>
            The resources it protects stop requiring what it grants on: the next access decisions allow what no other policy denies.
          </ConfirmButton>
        } />
      <EditForm formLabel="Conditional access policy settings" save={save} shownFields={FIELDS} onSubmit={submit} wide>
        <PolicyFields draft={draft} onChange={setDraft} error={save.error} readOnly={!canWrite} />
        {notApplicable.length > 0 ? <Text>Stored, not acted on (set through the API, kept on save): {notApplicable.join(', ')}.</Text> : null}
      </EditForm>
    </>
  );
}
