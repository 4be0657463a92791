import {
  Button, Checkbox, Field, Input, makeStyles, Select, Switch, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Textarea, tokens,
} from '@fluentui/react-components';
import { AddRegular, DeleteRegular } from '@fluentui/react-icons';
import { useId, useMemo, useState, type FormEvent } from 'react';
import { ErrorBar } from '../../components/ErrorBar.tsx';
import { bodyOf, editableBody, fileAsBase64, formValues, type FieldSpec, type FormValue, type Row } from './form-model.ts';
import { messageAt } from './messages.ts';

const useStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL, maxWidth: '1100px' },
  section: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, border: 'none', margin: 0, padding: 0 },
  grid: { display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(320px, 1fr))', gap: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalXL}` },
  wide: { gridColumn: '1 / -1' },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center', flexWrap: 'wrap' },
  rowsActions: { display: 'flex', gap: tokens.spacingHorizontalS, marginTop: tokens.spacingVerticalXS },
  json: { fontFamily: tokens.fontFamilyMonospace },
  flags: { display: 'flex', gap: tokens.spacingHorizontalM, flexWrap: 'wrap' },
});

/**
 * A policy kind's settings as labelled fields, or its whole body as JSON (the long tail of Graph properties). What it
 * sends is validated by the server only; the server's message is shown at the field it names.
 */
export function PolicyForm({ fields, body, defaults = {}, mode, readOnly, pending, error, submitLabel, onSubmit, onCancel }: {
  fields: readonly FieldSpec[];
  /** The policy as read (edit), the template (create from a template), or `{}`. */
  body: Readonly<Record<string, unknown>>;
  defaults?: Readonly<Record<string, FormValue>>;
  mode: 'create' | 'edit';
  readOnly: boolean;
  pending: boolean;
  error: unknown;
  submitLabel: string;
  onSubmit: (body: Record<string, unknown>) => void;
  onCancel?: () => void;
}) {
  const styles = useStyles();
  const initial = useMemo(() => ({ ...formValues(fields, body), ...defaults }), [fields, body, defaults]);
  const [values, setValues] = useState<Record<string, FormValue>>(initial);
  const [asJson, setAsJson] = useState(false);
  const [json, setJson] = useState('');
  const [jsonError, setJsonError] = useState<string | undefined>(undefined);
  const sections = [...new Set(fields.map((f) => f.section))];
  const set = (name: string, value: FormValue) => setValues((was) => ({ ...was, [name]: value }));

  const formBody = (): Record<string, unknown> => (mode === 'create' ? { ...editableBody(body), ...bodyOf(fields, values) } : bodyOf(fields, values, initial));
  const toggleJson = (on: boolean) => {
    setJsonError(undefined);
    if (on) setJson(JSON.stringify(mode === 'create' ? formBody() : { ...editableBody(body), ...bodyOf(fields, values, initial) }, null, 2));
    setAsJson(on);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!asJson) return onSubmit(formBody());
    try {
      const parsed: unknown = JSON.parse(json);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the body must be a JSON object');
      setJsonError(undefined);
      onSubmit(parsed as Record<string, unknown>);
    } catch (failure) {
      setJsonError(failure instanceof Error ? failure.message : String(failure));
    }
  };
  const shown = asJson ? [] : fields.map((f) => f.name);

  return (
    <form className={styles.form} onSubmit={submit} noValidate>
      <Switch label={readOnly ? "Show as JSON" : "Edit as JSON"} checked={asJson} onChange={(_, data) => toggleJson(data.checked)} />
      {asJson ? (
        <Field label="Policy body (JSON)" hint="Every Graph property of the kind; the server names any value it refuses." validationMessage={jsonError} validationState={jsonError ? 'error' : 'none'}>
          <Textarea className={styles.json} rows={22} value={json} readOnly={readOnly} onChange={(_, data) => setJson(data.value)} resize="vertical" />
        </Field>
      ) : (
        sections.map((section) => (
          <section key={section} className={styles.section} aria-label={section}>
            <Text as="h3" weight="semibold" size={400}>{section}</Text>
            <div className={styles.grid}>
              {fields.filter((f) => f.section === section).map((field) => (
                <FieldControl key={field.name} field={field} value={values[field.name] ?? ''} readOnly={readOnly} error={error} mode={mode}
                  onChange={(value) => set(field.name, value)} onFileName={(name) => { if (field.kind.type === 'file' && field.kind.nameField && !values[field.kind.nameField]) set(field.kind.nameField, name); }} />
              ))}
            </div>
          </section>
        ))
      )}
      <ErrorBar error={error} shownFields={shown} />
      {readOnly ? null : (
        <div className={styles.actions}>
          <Button type="submit" appearance="primary" disabled={pending}>{pending ? 'Saving…' : submitLabel}</Button>
          {onCancel ? <Button onClick={onCancel} disabled={pending}>Cancel</Button> : null}
        </div>
      )}
    </form>
  );
}

function FieldControl({ field, value, readOnly, error, mode, onChange, onFileName }: {
  field: FieldSpec;
  value: FormValue;
  readOnly: boolean;
  error: unknown;
  mode: 'create' | 'edit';
  onChange: (value: FormValue) => void;
  onFileName: (name: string) => void;
}) {
  const styles = useStyles();
  const kind = field.kind;
  const message = messageAt(error, field.name, kind.type === 'rows' ? kind.itemLabel : undefined);
  const common = { label: field.label, hint: field.hint, required: field.required === true && !(mode === 'edit' && ((kind.type === 'text' && kind.secret) || kind.type === 'file')), validationMessage: message, validationState: message ? ('error' as const) : ('none' as const) };
  switch (kind.type) {
    case 'boolean':
      return (
        <Field {...common} label={undefined} hint={field.hint}>
          <Checkbox label={field.label} checked={value === true} disabled={readOnly} onChange={(_, data) => onChange(data.checked === true)} />
        </Field>
      );
    case 'choice':
      return (
        <Field {...common}>
          <Select value={String(value)} disabled={readOnly} onChange={(_, data) => onChange(data.value)}>
            <option value="">{kind.nullable ? 'Not configured' : 'Default'}</option>
            {kind.options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
          </Select>
        </Field>
      );
    case 'flags':
      return (
        <Field {...common}>
          <div className={styles.flags} role="group" aria-label={field.label}>
            {kind.options.map((o) => (
              <Checkbox key={o.value} label={o.label} disabled={readOnly} checked={(value as string[]).includes(o.value)}
                onChange={(_, data) => onChange(data.checked ? [...(value as string[]), o.value] : (value as string[]).filter((v) => v !== o.value))} />
            ))}
          </div>
        </Field>
      );
    case 'lines':
      return (
        <Field {...common} className={styles.wide}>
          <Textarea value={String(value)} readOnly={readOnly} placeholder={kind.placeholder} onChange={(_, data) => onChange(data.value)} resize="vertical" />
        </Field>
      );
    case 'rows':
      return <RowsControl field={field} kind={kind} rows={value as Row[]} readOnly={readOnly} message={message} onChange={onChange} />;
    case 'file':
      return <FileControl field={field} accept={kind.accept} value={String(value)} readOnly={readOnly} common={common} onChange={onChange} onFileName={onFileName} />;
    case 'integer':
      return (
        <Field {...common}>
          <Input inputMode="numeric" value={String(value)} readOnly={readOnly} onChange={(_, data) => onChange(data.value)} />
        </Field>
      );
    case 'text':
      return (
        <Field {...common} className={kind.multiline ? styles.wide : undefined}>
          {kind.multiline ? (
            <Textarea value={String(value)} readOnly={readOnly} onChange={(_, data) => onChange(data.value)} resize="vertical" />
          ) : (
            <Input type={kind.secret ? 'password' : 'text'} autoComplete={kind.secret ? 'new-password' : 'off'} value={String(value)} readOnly={readOnly} placeholder={kind.placeholder} onChange={(_, data) => onChange(data.value)} />
          )}
        </Field>
      );
  }
}

function RowsControl({ field, kind, rows, readOnly, message, onChange }: {
  field: FieldSpec;
  kind: Extract<FieldSpec['kind'], { type: 'rows' }>;
  rows: Row[];
  readOnly: boolean;
  message: string | undefined;
  onChange: (rows: Row[]) => void;
}) {
  const styles = useStyles();
  const update = (index: number, name: string, cell: string) => onChange(rows.map((row, i) => (i === index ? { ...row, [name]: cell } : row)));
  return (
    <Field label={field.label} hint={field.hint} required={field.required} validationMessage={message} validationState={message ? 'error' : 'none'} className={styles.wide}>
      <div>
        {rows.length > 0 ? (
          <Table size="small" aria-label={field.label}>
            <TableHeader>
              <TableRow>
                {kind.columns.map((column) => <TableHeaderCell key={column.name}>{column.label}</TableHeaderCell>)}
                {readOnly ? null : <TableHeaderCell>Actions</TableHeaderCell>}
              </TableRow>
            </TableHeader>
            <TableBody>
              {rows.map((row, index) => (
                <TableRow key={index}>
                  {kind.columns.map((column) => {
                    const name = `${kind.itemLabel} ${index + 1} ${column.label}`;
                    return (
                      <TableCell key={column.name}>
                        {column.options ? (
                          <Select aria-label={name} size="small" value={row[column.name] ?? ''} disabled={readOnly} onChange={(_, data) => update(index, column.name, data.value)}>
                            {column.options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
                          </Select>
                        ) : (
                          <Input aria-label={name} size="small" value={row[column.name] ?? ''} readOnly={readOnly} placeholder={column.placeholder} onChange={(_, data) => update(index, column.name, data.value)} />
                        )}
                      </TableCell>
                    );
                  })}
                  {readOnly ? null : (
                    <TableCell>
                      <Button size="small" appearance="subtle" icon={<DeleteRegular />} onClick={() => onChange(rows.filter((_, i) => i !== index))}>
                        Remove {kind.itemLabel.toLowerCase()} {index + 1}
                      </Button>
                    </TableCell>
                  )}
                </TableRow>
              ))}
            </TableBody>
          </Table>
        ) : (
          <Text>None.</Text>
        )}
        {readOnly ? null : (
          <div className={styles.rowsActions}>
            <Button size="small" icon={<AddRegular />} onClick={() => onChange([...rows, { ...kind.empty }])}>Add {kind.itemLabel.toLowerCase()}</Button>
            {(kind.presets ?? []).map((preset) => (
              <Button key={preset.label} size="small" icon={<AddRegular />} onClick={() => onChange([...rows, { ...preset.row }])}>{preset.label}</Button>
            ))}
          </div>
        )}
      </div>
    </Field>
  );
}

function FileControl({ field, accept, value, readOnly, common, onChange, onFileName }: {
  field: FieldSpec;
  accept: string;
  value: string;
  readOnly: boolean;
  common: { label: string; hint: string | undefined; required: boolean; validationMessage: string | undefined; validationState: 'error' | 'none' };
  onChange: (value: string) => void;
  onFileName: (name: string) => void;
}) {
  const styles = useStyles();
  const fileId = useId();
  const [reading, setReading] = useState<string | undefined>(undefined);
  const load = async (file: File | undefined) => {
    if (!file) return;
    setReading(`Reading ${file.name}…`);
    onChange(await fileAsBase64(file));
    onFileName(file.name);
    setReading(`${file.name} read`);
  };
  return (
    <Field {...common} className={styles.wide}>
      <div>
        <Textarea aria-label={`${field.label} (base64)`} value={value} readOnly={readOnly} placeholder="Base64, or choose a file" onChange={(_, data) => onChange(data.value.replace(/-----(BEGIN|END) [^-]+-----|\s+/g, ''))} resize="vertical" />
        {readOnly ? null : (
          <div className={styles.rowsActions}>
            <label htmlFor={fileId}>{field.label} file</label>
            <input id={fileId} type="file" accept={accept} onChange={(event) => void load(event.target.files?.[0])} />
            <Text role="status">{reading ?? ''}</Text>
          </div>
        )}
      </div>
    </Field>
  );
}
