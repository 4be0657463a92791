import { Button, makeStyles, Spinner, Text, tokens } from '@fluentui/react-components';
import { Fragment, type FormEvent, type ReactNode } from 'react';
import { useGraph, useGraphWrite } from '../api/hooks.ts';
import { useSession } from '../auth/session.tsx';
import { navigate } from '../router.tsx';
import { ErrorBar } from './ErrorBar.tsx';
import { PageHeader } from './PageHeader.tsx';

/** The layout of an entity's form: fields in a column, actions in a row. */
export const useFormStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, maxWidth: '560px' },
  wide: { maxWidth: '720px', gap: tokens.spacingVerticalL },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS },
});

/**
 * A create page: its header, the entity's fields, the refusals no field shows, submit and cancel. The server judges
 * the body; its refusal of a field is shown at that field (`shownFields`), any other in the error bar.
 */
export function CreateForm({ title, description, formLabel, submitLabel, pendingLabel, cancelTo, write, shownFields, onSubmit, wide = false, children }: {
  title: string;
  description: ReactNode;
  formLabel: string;
  submitLabel: string;
  pendingLabel: string;
  cancelTo: string;
  write: { error: unknown; isPending: boolean };
  shownFields: readonly string[];
  onSubmit: () => void;
  wide?: boolean;
  children: ReactNode;
}) {
  const styles = useFormStyles();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit();
  };
  return (
    <>
      <PageHeader title={title} description={description} />
      <form className={wide ? `${styles.form} ${styles.wide}` : styles.form} onSubmit={submit} aria-label={formLabel}>
        {children}
        <ErrorBar error={write.error} shownFields={shownFields} />
        <div className={styles.actions}>
          <Button appearance="primary" type="submit" disabled={write.isPending}>{write.isPending ? pendingLabel : submitLabel}</Button>
          <Button onClick={() => navigate(cancelTo)}>Cancel</Button>
        </div>
      </form>
    </>
  );
}

export type EntityWrite = ReturnType<typeof useGraphWrite>;

/**
 * One entity, loaded, handed to its editor keyed by its ETag (or its whole state where the type has none): a saved
 * change re-seeds the editor with what the server now holds. The write lives here, outside the keyed editor, so its
 * outcome (saved, or refused at a field) stays shown across the re-seed.
 */
export function EntityLoader<T extends object>({ path, title, children }: { path: string; title: string; children: (entity: T, save: EntityWrite) => ReactNode }) {
  const entity = useGraph<T>(path);
  const save = useGraphWrite();
  if (entity.isPending) return <Spinner label={`Loading ${title.toLowerCase()}`} />;
  if (!entity.data) return <><PageHeader title={title} /><ErrorBar error={entity.error} /></>;
  return <Fragment key={etagOf(entity.data) ?? JSON.stringify(entity.data)}>{children(entity.data, save)}</Fragment>;
}

function etagOf(entity: object): string | undefined {
  const etag: unknown = (entity as { '@odata.etag'?: unknown })['@odata.etag'];
  return typeof etag === 'string' ? etag : undefined;
}

/**
 * An entity's edit form: its fields, the refusals no field shows, "Saved." once the server took the change, and the
 * save button for an admin (a Reader sees the same fields, read-only, and no button).
 */
export function EditForm({ formLabel, save, shownFields, onSubmit, wide = false, children }: {
  formLabel: string;
  save: EntityWrite;
  shownFields: readonly string[];
  onSubmit: () => void;
  wide?: boolean;
  children: ReactNode;
}) {
  const styles = useFormStyles();
  const { canWrite } = useSession();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit();
  };
  return (
    <form className={wide ? `${styles.form} ${styles.wide}` : styles.form} onSubmit={submit} aria-label={formLabel}>
      {children}
      <ErrorBar error={save.error} shownFields={shownFields} />
      {save.isSuccess ? <Text role="status">Saved.</Text> : null}
      {canWrite ? (
        <div className={styles.actions}>
          <Button appearance="primary" type="submit" disabled={save.isPending}>{save.isPending ? 'Saving…' : 'Save changes'}</Button>
        </div>
      ) : null}
    </form>
  );
}
