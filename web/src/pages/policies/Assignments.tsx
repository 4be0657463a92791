import { Button, Checkbox, Combobox, Field, makeStyles, Option, Text, tokens } from '@fluentui/react-components';
import { DismissRegular } from '@fluentui/react-icons';
import { useDeferredValue, useEffect, useMemo, useState } from 'react';
import { odataString, query, type GraphCollection } from '../../api/graph.ts';
import { useGraph, useGraphWrite } from '../../api/hooks.ts';
import { useSession } from '../../auth/session.tsx';
import { ErrorBar } from '../../components/ErrorBar.tsx';
import type { PolicyCollectionInfo } from './kinds.ts';
import { messageAt } from './messages.ts';
import type { Assignment, AssignmentTarget, Group, Policy } from './types.ts';

const GROUP = '#microsoft.graph.groupAssignmentTarget';
const EXCLUSION = '#microsoft.graph.exclusionGroupAssignmentTarget';
const ALL_USERS = '#microsoft.graph.allLicensedUsersAssignmentTarget';

/** A group's name (one cached read per group, whatever the number of rows naming it); its id if it is gone. */
export function GroupName({ id }: { id: string }) {
  const group = useGraph<Group>(`/groups/${id}${query({ $select: 'id,displayName' })}`);
  return <>{group.data?.displayName ?? (group.isError ? id : '…')}</>;
}

/** "Included: A, B · Excluded: C" for a list row. */
export function AssignmentSummary({ assignments }: { assignments: readonly Assignment[] }) {
  if (assignments.length === 0) return <>Not assigned</>;
  const included = assignments.filter((a) => a.target['@odata.type'] === GROUP);
  const excluded = assignments.filter((a) => a.target['@odata.type'] === EXCLUSION);
  const all = assignments.some((a) => a.target['@odata.type'] === ALL_USERS);
  const names = (list: Assignment[]) => list.map((a, i) => <span key={a.id}>{i > 0 ? ', ' : ''}<GroupName id={(a.target as { groupId: string }).groupId} /></span>);
  return (
    <>
      {all ? 'All licensed users' : null}
      {included.length > 0 ? <>{all ? '; ' : ''}Included: {names(included)}</> : null}
      {excluded.length > 0 ? <>{all || included.length > 0 ? '; ' : ''}Excluded: {names(excluded)}</> : null}
    </>
  );
}

const useStyles = makeStyles({
  panel: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL, maxWidth: '760px' },
  chosen: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS, margin: 0, padding: 0, listStyleType: 'none' },
  item: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalS },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center' },
  group: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS },
});

/**
 * Who the policy reaches: included groups (or all licensed users) minus excluded groups. `assign` replaces the whole
 * list (Graph's action), conditioned on the policy's ETag.
 */
export function AssignmentsPanel({ collection, policy }: { collection: PolicyCollectionInfo; policy: Policy }) {
  const styles = useStyles();
  const { canWrite } = useSession();
  const path = `${collection.path}/${policy.id}`;
  const current = useGraph<GraphCollection<Assignment>>(`${path}/assignments`);
  const write = useGraphWrite();
  const [included, setIncluded] = useState<string[]>([]);
  const [excluded, setExcluded] = useState<string[]>([]);
  const [allUsers, setAllUsers] = useState(false);
  const [saved, setSaved] = useState('');
  useEffect(() => {
    const targets = (current.data?.value ?? []).map((a) => a.target);
    setIncluded(targets.flatMap((t) => (t['@odata.type'] === GROUP ? [t.groupId] : [])));
    setExcluded(targets.flatMap((t) => (t['@odata.type'] === EXCLUSION ? [t.groupId] : [])));
    setAllUsers(targets.some((t) => t['@odata.type'] === ALL_USERS));
  }, [current.data]);

  const save = () => {
    setSaved('');
    const targets: AssignmentTarget[] = [
      ...(allUsers ? [{ '@odata.type': ALL_USERS } as const] : []),
      ...included.map((groupId) => ({ '@odata.type': GROUP, groupId }) as const),
      ...excluded.map((groupId) => ({ '@odata.type': EXCLUSION, groupId }) as const),
    ];
    write.mutate(
      { method: 'POST', path: `${path}/assign`, body: { assignments: targets.map((target) => ({ '@odata.type': collection.assignmentType, target })) }, ...(policy['@odata.etag'] ? { ifMatch: policy['@odata.etag'] } : {}) },
      { onSuccess: () => setSaved(`Assignments saved: ${targets.length === 0 ? 'not assigned' : `${targets.length} target${targets.length === 1 ? '' : 's'}`}.`) },
    );
  };
  const message = messageAt(write.error, 'assignments');

  return (
    <section className={styles.panel} aria-label="Assignments">
      <ErrorBar error={current.error} />
      <Text as="h2" size={500} weight="semibold">Assignments</Text>
      {canWrite ? (
        <Checkbox label="All licensed users" checked={allUsers} onChange={(_, data) => setAllUsers(data.checked === true)} />
      ) : (
        <Text>{allUsers ? 'Assigned to all licensed users.' : null}</Text>
      )}
      <GroupList title="Included groups" ids={included} onRemove={canWrite ? (id) => setIncluded((was) => was.filter((g) => g !== id)) : undefined} />
      {canWrite ? <GroupPicker label="Add included group" exclude={[...included, ...excluded]} onPick={(id) => setIncluded((was) => [...was, id])} /> : null}
      <GroupList title="Excluded groups" ids={excluded} onRemove={canWrite ? (id) => setExcluded((was) => was.filter((g) => g !== id)) : undefined} />
      {canWrite ? <GroupPicker label="Add excluded group" exclude={[...included, ...excluded]} onPick={(id) => setExcluded((was) => [...was, id])} /> : null}
      {message ? <Text role="alert">{message}</Text> : <ErrorBar error={write.error} />}
      {canWrite ? (
        <div className={styles.actions}>
          <Button appearance="primary" onClick={save} disabled={write.isPending}>{write.isPending ? 'Saving…' : 'Save assignments'}</Button>
          <Text role="status">{saved}</Text>
        </div>
      ) : null}
    </section>
  );
}

function GroupList({ title, ids, onRemove }: { title: string; ids: readonly string[]; onRemove: ((id: string) => void) | undefined }) {
  const styles = useStyles();
  return (
    <div className={styles.group}>
      <Text as="h3" weight="semibold">{title}</Text>
      {ids.length === 0 ? (
        <Text as="p">None.</Text>
      ) : (
        <ul className={styles.chosen} aria-label={title}>
          {ids.map((id) => (
            <li key={id} className={styles.item}>
              <Text><GroupName id={id} /></Text>
              {onRemove ? <RemoveGroup id={id} onRemove={onRemove} /> : null}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function RemoveGroup({ id, onRemove }: { id: string; onRemove: (id: string) => void }) {
  const group = useGraph<Group>(`/groups/${id}${query({ $select: 'id,displayName' })}`);
  return <Button size="small" appearance="subtle" icon={<DismissRegular />} onClick={() => onRemove(id)}>Remove {group.data?.displayName ?? id}</Button>;
}

/** Search groups by the start of their name (`startswith(displayName, ...)` on /groups) and pick one. */
export function GroupPicker({ label, exclude, onPick }: { label: string; exclude: readonly string[]; onPick: (id: string) => void }) {
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const typed = useDeferredValue(text.trim());
  const path = `/groups${query({ $filter: typed ? `startswith(displayName,${odataString(typed)})` : undefined, $orderby: 'displayName', $top: 20, $select: 'id,displayName' })}`;
  const groups = useGraph<GraphCollection<Group>>(path);
  const options = useMemo(() => (groups.data?.value ?? []).filter((g) => !exclude.includes(g.id)), [groups.data, exclude]);
  return (
    <Field label={label} hint="Type the start of a group's name." validationMessage={groups.error instanceof Error ? groups.error.message : undefined}>
      <Combobox
        placeholder="Search groups"
        inlinePopup
        value={text}
        selectedOptions={[]}
        open={open}
        onOpenChange={(_, data) => setOpen(data.open)}
        onChange={(event) => {
          setText(event.target.value);
          setOpen(true);
        }}
        onOptionSelect={(_, data) => {
          if (data.optionValue) onPick(data.optionValue);
          setText('');
          setOpen(false);
        }}
      >
        {options.map((g) => <Option key={g.id} value={g.id} text={g.displayName}>{g.displayName}</Option>)}
        {options.length === 0 ? <Option disabled value="" text="No groups found">No groups found</Option> : null}
      </Combobox>
    </Field>
  );
}
