import { Button, Field, Input, makeStyles, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Textarea, Title3, tokens } from '@fluentui/react-components';
import { Add20Regular, PersonAdd20Regular } from '@fluentui/react-icons';
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { graphGet, odataString, type GraphCollection } from '../../api/graph.ts';
import { useGraphWrite } from '../../api/hooks.ts';
import { useSession } from '../../auth/session.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { ErrorBar, fieldMessage } from '../../components/ErrorBar.tsx';
import { formatDateTime } from '../../components/format.ts';
import { PagedTable, type Column } from '../../components/PagedTable.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { Link, matchPath, navigate, useRoute } from '../../router.tsx';

import { idsIn } from './pickers.tsx';
import { CreateForm, EditForm, EntityLoader, type EntityWrite } from '../../components/EntityPages.tsx';
import { GROUPS_PATH, type DirectoryObject, type Group, type User } from './types.ts';

/**
 * Groups (Graph `groups`, security groups): the targets of policy assignments, conditional access and the MAM user
 * scope. `/groups` lists them, `/groups/new` creates one, `/groups/{id}` edits it and its members.
 */
export default function GroupsPage() {
  const { path } = useRoute();
  if (path === '/groups/new') return <NewGroup />;
  const one = matchPath('/groups/:id', path);
  if (one) return <GroupDetail key={one.id} id={one.id!} />;
  return <GroupList />;
}

const useStyles = makeStyles({
  section: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, marginTop: tokens.spacingVerticalXXL },
  addMember: { display: 'flex', alignItems: 'flex-end', gap: tokens.spacingHorizontalS, maxWidth: '720px' },
  grow: { flexGrow: 1 },
});

const COLUMNS: readonly Column<Group>[] = [
  { id: 'name', title: 'Name', sortBy: 'displayName', render: (g) => <Link to={`/groups/${g.id}`}>{g.displayName}</Link> },
  { id: 'description', title: 'Description', sortBy: 'description', render: (g) => g.description ?? '' },
  { id: 'id', title: 'Object id', render: (g) => <Text font="monospace" size={200}>{g.id}</Text> },
  { id: 'created', title: 'Created', sortBy: 'createdDateTime', render: (g) => formatDateTime(g.createdDateTime) },
];

function GroupList() {
  const { canWrite } = useSession();
  return (
    <>
      <PageHeader title="Groups" description="Security groups: assign policies to them, scope conditional access and MAM users with them."
        actions={canWrite ? <Button appearance="primary" icon={<Add20Regular />} onClick={() => navigate('/groups/new')}>Create group</Button> : null} />
      <PagedTable<Group> label="Groups" path={GROUPS_PATH} columns={COLUMNS} rowKey={(g) => g.id}
        defaultSort={{ by: 'displayName', direction: 'asc' }} empty="No groups yet."
        filters={[{ id: 'name', label: 'Name starts with', placeholder: 'Press Enter to apply', toOData: (v) => `startswith(displayName,${odataString(v)})` }]} />
    </>
  );
}

/** The properties a group form edits, as the server takes them. */
interface GroupDraft {
  displayName: string;
  description: string;
  mailNickname: string;
}

const GROUP_FIELDS = ['displayName', 'description', 'mailNickname'] as const;

function draftOf(group?: Group): GroupDraft {
  return { displayName: group?.displayName ?? '', description: group?.description ?? '', mailNickname: group?.mailNickname ?? '' };
}

function GroupFields({ draft, onChange, error, readOnly }: { draft: GroupDraft; onChange: (draft: GroupDraft) => void; error: unknown; readOnly: boolean }) {
  return (
    <>
      <Field label="Name" required validationMessage={fieldMessage(error, 'displayName')}>
        <Input value={draft.displayName} readOnly={readOnly} onChange={(_, d) => onChange({ ...draft, displayName: d.value })} />
      </Field>
      <Field label="Description" validationMessage={fieldMessage(error, 'description')}>
        <Textarea value={draft.description} readOnly={readOnly} onChange={(_, d) => onChange({ ...draft, description: d.value })} />
      </Field>
      <Field label="Mail nickname" hint="Kept as Graph requires it; OpenMAM's groups have no mail." validationMessage={fieldMessage(error, 'mailNickname')}>
        <Input value={draft.mailNickname} readOnly={readOnly} onChange={(_, d) => onChange({ ...draft, mailNickname: d.value })} />
      </Field>
    </>
  );
}

function NewGroup() {
  const [draft, setDraft] = useState<GroupDraft>(draftOf());
  const create = useGraphWrite<Group>();
  const submit = () => {
    const body = { displayName: draft.displayName, ...(draft.description.trim() ? { description: draft.description } : {}), ...(draft.mailNickname.trim() ? { mailNickname: draft.mailNickname.trim() } : {}) };
    create.mutate({ method: 'POST', path: GROUPS_PATH, body }, { onSuccess: (group) => group && navigate(`/groups/${group.id}`, { replace: true }) });
  };
  return (
    <CreateForm title="Create group" description="A security group. Add its members on the next page." formLabel="New group" submitLabel="Create group" pendingLabel="Creating…"
      cancelTo="/groups" write={create} shownFields={GROUP_FIELDS} onSubmit={submit}>
      <GroupFields draft={draft} onChange={setDraft} error={create.error} readOnly={false} />
    </CreateForm>
  );
}

function GroupDetail({ id }: { id: string }) {
  return <EntityLoader<Group> path={`${GROUPS_PATH}/${encodeURIComponent(id)}`} title="Group">{(group, save) => <GroupEditor group={group} save={save} />}</EntityLoader>;
}

function GroupEditor({ group, save }: { group: Group; save: EntityWrite }) {
  const { canWrite } = useSession();
  const [draft, setDraft] = useState<GroupDraft>(draftOf(group));
  const remove = useGraphWrite();
  const path = `${GROUPS_PATH}/${group.id}`;
  const submit = () => {
    const was = draftOf(group);
    const change: Record<string, string | null> = {};
    if (draft.displayName !== was.displayName) change['displayName'] = draft.displayName;
    if (draft.description !== was.description) change['description'] = draft.description.trim() ? draft.description : null;
    if (draft.mailNickname !== was.mailNickname) change['mailNickname'] = draft.mailNickname.trim() ? draft.mailNickname.trim() : null;
    if (Object.keys(change).length > 0) save.mutate({ method: 'PATCH', path, body: change });
  };
  return (
    <>
      <PageHeader title={group.displayName} description={<>Security group <Text font="monospace">{group.id}</Text>, created {formatDateTime(group.createdDateTime)}.</>}
        actions={
          <ConfirmButton label="Delete group" title={`Delete ${group.displayName}?`} confirmLabel="Delete"
            onConfirm={() => remove.mutateAsync({ method: 'DELETE', path }).then(() => navigate('/groups', { replace: true }))}>
            Its members lose what its assignments, conditional access policies and MAM user scope gave them. This cannot be undone.
          </ConfirmButton>
        } />
      <EditForm formLabel="Group properties" save={save} shownFields={GROUP_FIELDS} onSubmit={submit}>
        <GroupFields draft={draft} onChange={setDraft} error={save.error} readOnly={!canWrite} />
      </EditForm>
      <Members group={group} />
    </>
  );
}

/** A member with what OpenMAM knows of the user. */
interface Member {
  id: string;
  user: User | undefined;
}

/**
 * The group's members (answered whole by the server, not paged) named with one `users` query per hundred members.
 * Adding takes an object id, or a user principal name OpenMAM has seen (Graph's `users/{upn}`).
 */
async function membersOf(groupId: string, signal: AbortSignal): Promise<Member[]> {
  const refs = await graphGet<GraphCollection<DirectoryObject>>(`${GROUPS_PATH}/${groupId}/members`, signal);
  const ids = refs.value.map((r) => r.id);
  const users = new Map<string, User>();
  for (let start = 0; start < ids.length; start += 100) {
    const chunk = ids.slice(start, start + 100);
    const page = await graphGet<GraphCollection<User>>(`/users?$top=100&$filter=${encodeURIComponent(idsIn('id', chunk))}`, signal);
    for (const user of page.value) users.set(user.id.toLowerCase(), user);
  }
  return ids.map((id) => ({ id, user: users.get(id.toLowerCase()) }));
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function Members({ group }: { group: Group }) {
  const styles = useStyles();
  const { canWrite } = useSession();
  const members = useQuery({ queryKey: ['graph', `${GROUPS_PATH}/${group.id}/members`, 'users'], queryFn: ({ signal }) => membersOf(group.id, signal) });
  const [who, setWho] = useState('');
  const [lookupError, setLookupError] = useState<string | undefined>(undefined);
  const add = useGraphWrite();
  const remove = useGraphWrite();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setLookupError(undefined);
    add.reset();
    const key = who.trim();
    if (key === '') return;
    let id = key;
    if (!GUID.test(key)) {
      try {
        id = (await graphGet<User>(`/users/${encodeURIComponent(key)}`)).id;
      } catch {
        setLookupError(`OpenMAM has not seen ${key} yet (it knows users from their sign-ins and from groups): enter the user's object id instead.`);
        return;
      }
    }
    add.mutate({ method: 'POST', path: `${GROUPS_PATH}/${group.id}/members/$ref`, body: { '@odata.id': `${location.origin}/graph/v1.0/directoryObjects/${id}` } }, { onSuccess: () => setWho('') });
  };
  const addMessage = lookupError ?? fieldMessage(add.error, '@odata.id');
  return (
    <section className={styles.section} aria-labelledby="members-heading">
      <Title3 as="h2" id="members-heading">Members</Title3>
      {canWrite ? (
        <form className={styles.addMember} onSubmit={(event) => void submit(event)} aria-label="Add member">
          <Field className={styles.grow} label="User principal name or object id" validationMessage={addMessage}>
            <Input value={who} onChange={(_, d) => setWho(d.value)} placeholder="adele@contoso.com or 00000000-0000-0000-0000-000000000000" />
          </Field>
          <Button type="submit" appearance="primary" icon={<PersonAdd20Regular />} disabled={add.isPending || who.trim() === ''}>Add member</Button>
        </form>
      ) : null}
      <ErrorBar error={add.error} shownFields={['@odata.id']} />
      {add.isSuccess ? <Text role="status">Member added.</Text> : null}
      <ErrorBar error={members.error} />
      {members.isPending ? <Spinner size="small" label="Loading members" /> : null}
      <Table aria-label="Members" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>User principal name</TableHeaderCell>
            <TableHeaderCell>Name</TableHeaderCell>
            <TableHeaderCell>Object id</TableHeaderCell>
            {canWrite ? <TableHeaderCell>Actions</TableHeaderCell> : null}
          </TableRow>
        </TableHeader>
        <TableBody>
          {(members.data ?? []).map((member) => (
            <TableRow key={member.id}>
              <TableCell>{member.user?.userPrincipalName ?? 'not seen yet'}</TableCell>
              <TableCell>{member.user?.displayName ?? ''}</TableCell>
              <TableCell><Text font="monospace" size={200}>{member.id}</Text></TableCell>
              {canWrite ? (
                <TableCell>
                  <ConfirmButton label={`Remove ${member.user?.userPrincipalName ?? member.id}`} title={`Remove ${member.user?.userPrincipalName ?? member.id} from ${group.displayName}?`} confirmLabel="Remove member"
                    onConfirm={() => remove.mutateAsync({ method: 'DELETE', path: `${GROUPS_PATH}/${group.id}/members/${member.id}/$ref` })}>
                    The user loses what this group's assignments gave them at their apps' next check-in.
                  </ConfirmButton>
                </TableCell>
              ) : null}
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {members.data && members.data.length === 0 ? <Text role="status">No members yet.</Text> : null}
    </section>
  );
}
