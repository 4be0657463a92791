import { Button, Combobox, Field, makeStyles, Option, Text, tokens } from '@fluentui/react-components';
import { Dismiss16Regular } from '@fluentui/react-icons';
import { useEffect, useState } from 'react';
import { odataString, query, type GraphCollection } from '../../api/graph.ts';
import { useGraph } from '../../api/hooks.ts';
import { GROUPS_PATH, type Group } from './types.ts';

/**
 * Choosing directory objects by name for a list of ids (a policy's groups, its resources, the MAM user scope): the
 * admin types, the server searches (`startswith`), and the chosen ids are named by one `in (...)` query. No list
 * is loaded whole, so a tenant's ten thousand groups cost what ten do.
 */
export interface PickerSource<T> {
  /** What the admin's text finds (a page of at most 20). */
  search: (text: string) => string;
  /** The chosen ids' objects (a page with all of them). */
  resolve: (ids: readonly string[]) => string;
  idOf: (item: T) => string;
  nameOf: (item: T) => string;
  /** For a source answered whole (no `$filter`): which items the text finds. */
  matches?: (item: T, text: string) => boolean;
}

const useStyles = makeStyles({
  chosen: { listStyleType: 'none', margin: 0, padding: 0, display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS, marginTop: tokens.spacingVerticalXS },
  item: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalXS, padding: `0 0 0 ${tokens.spacingHorizontalS}`, borderRadius: tokens.borderRadiusMedium, backgroundColor: tokens.colorNeutralBackground3 },
});

/** Waits for the admin to stop typing before asking the server. */
function useSettled(value: string, delay = 250): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delay);
    return () => clearTimeout(timer);
  }, [value, delay]);
  return settled;
}

export function ObjectPicker<T>({ label, hint, source, value, onChange, readOnly, validationMessage, placeholder }: {
  label: string;
  hint?: string;
  source: PickerSource<T>;
  value: readonly string[];
  onChange: (ids: string[]) => void;
  readOnly?: boolean;
  validationMessage?: string | undefined;
  placeholder?: string;
}) {
  const styles = useStyles();
  const [text, setText] = useState('');
  const settled = useSettled(text.trim());
  const found = useGraph<GraphCollection<T>>(readOnly ? undefined : source.search(settled));
  const named = useGraph<GraphCollection<T>>(value.length > 0 ? source.resolve(value) : undefined);
  const names = new Map((named.data?.value ?? []).map((item) => [source.idOf(item).toLowerCase(), source.nameOf(item)]));
  const nameOf = (id: string) => names.get(id.toLowerCase()) ?? id;
  const options = (found.data?.value ?? []).filter((item) => !source.matches || source.matches(item, settled)).slice(0, 20);
  return (
    <div>
      <Field label={label} hint={hint} validationMessage={validationMessage}>
        {readOnly ? (
          <Text>{value.length === 0 ? 'None' : `${value.length} chosen`}</Text>
        ) : (
          <Combobox freeform value={text} selectedOptions={[]} placeholder={placeholder ?? 'Type a name to search'}
            onChange={(event) => setText(event.target.value)}
            onOptionSelect={(_, data) => {
              const id = data.optionValue;
              if (id && !value.some((v) => v.toLowerCase() === id.toLowerCase())) onChange([...value, id]);
              setText('');
            }}>
            {options.map((item) => (
              <Option key={source.idOf(item)} value={source.idOf(item)} text={source.nameOf(item)}>{source.nameOf(item)}</Option>
            ))}
            {found.data && options.length === 0 ? <Option disabled value="" text="No match">No match</Option> : null}
          </Combobox>
        )}
      </Field>
      {value.length > 0 ? (
        <ul className={styles.chosen} aria-label={`${label}: chosen`}>
          {value.map((id) => (
            <li key={id} className={styles.item}>
              <Text>{nameOf(id)}</Text>
              {readOnly ? null : (
                <Button appearance="subtle" size="small" icon={<Dismiss16Regular />} aria-label={`Remove ${nameOf(id)}`} onClick={() => onChange(value.filter((v) => v !== id))} />
              )}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** OData `in` takes at most 100 values (docs/graph.md); a list of more is named by its first 100. */
export function idsIn(property: string, ids: readonly string[]): string {
  return `${property} in (${ids.slice(0, 100).map(odataString).join(',')})`;
}

export const GROUP_SOURCE: PickerSource<Group> = {
  search: (text) => `${GROUPS_PATH}${query({ $top: 20, $select: 'id,displayName', $filter: text ? `startswith(displayName,${odataString(text)})` : undefined })}`,
  resolve: (ids) => `${GROUPS_PATH}${query({ $top: 100, $select: 'id,displayName', $filter: idsIn('id', ids) })}`,
  idOf: (group) => group.id,
  nameOf: (group) => group.displayName,
};

/** Groups chosen by name, kept as object ids. */
export function GroupPicker(props: Omit<Parameters<typeof ObjectPicker<Group>>[0], 'source'>) {
  return <ObjectPicker<Group> {...props} source={GROUP_SOURCE} placeholder={props.placeholder ?? 'Type a group name'} />;
}
