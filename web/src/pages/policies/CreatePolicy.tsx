import { Button, Field, Input, makeStyles, Radio, RadioGroup, Text, tokens } from '@fluentui/react-components';
import { useState } from 'react';
import { query } from '../../api/graph.ts';
import { useGraph, useGraphWrite } from '../../api/hooks.ts';
import { useSession } from '../../auth/session.tsx';
import { ErrorBar } from '../../components/ErrorBar.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { Link, navigate, setSearch, useRoute } from '../../router.tsx';
import { defaultsOf, FRAMEWORK_LEVELS, type PolicyCollectionInfo, type PolicyKind } from './kinds.ts';
import { PolicyForm } from './PolicyForm.tsx';
import type { Policy } from './types.ts';

const EMPTY: Readonly<Record<string, unknown>> = {};
const WIP_BASELINE = '/deviceAppManagement/windowsInformationProtectionPolicyTemplates/baseline';

const useStyles = makeStyles({
  step: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, marginBottom: tokens.spacingVerticalXL, maxWidth: '760px' },
  row: { display: 'flex', gap: tokens.spacingHorizontalL, alignItems: 'end', flexWrap: 'wrap' },
});

/** The short name of a kind in the URL (`?kind=windows10CustomConfiguration`). */
const kindName = (kind: PolicyKind): string => kind.odataType.slice('#microsoft.graph.'.length);

/**
 * A new policy of a collection: the kind (device configurations have four), an optional starting point (app
 * protection's framework levels, the WIP baseline; both answered by the API), then the kind's form. Saved, it opens
 * on its next step: target apps for managed app policies, assignments for the others.
 */
export function CreatePolicy({ collection }: { collection: PolicyCollectionInfo }) {
  const styles = useStyles();
  const { search } = useRoute();
  const { canWrite } = useSession();
  const kind = collection.kinds.length === 1 ? collection.kinds[0] : collection.kinds.find((k) => kindName(k) === search.get('kind'));
  const template = search.get('template');
  const baseline = search.get('baseline');
  const templatePath =
    template && template !== 'choose'
      ? `${collection.path}/templates/${template}${query({ minimumOsVersion: search.get('minimumOsVersion') ?? undefined, maximumOsVersion: search.get('maximumOsVersion') ?? undefined })}`
      : baseline !== null
        ? `${WIP_BASELINE}${query({ enterpriseDomain: search.get('enterpriseDomain') ?? undefined })}`
        : undefined;
  const start = useGraph<Record<string, unknown>>(templatePath);
  const create = useGraphWrite<Policy>();
  const title = `New ${kind ? kind.title : collection.title} policy`;

  if (!canWrite) return <PageHeader title={title} description="Your role does not allow creating policies." />;
  const save = (body: Record<string, unknown>) => {
    if (!kind) return;
    create.mutate(
      { method: 'POST', path: collection.path, body: { '@odata.type': kind.odataType, ...body } },
      { onSuccess: (created) => { if (created) navigate(`/policies/${collection.slug}/${created.id}?tab=${collection.targetApps ? 'apps' : 'assignments'}&created=1`); } },
    );
  };
  const waiting = templatePath !== undefined && !start.data;

  return (
    <>
      <PageHeader title={title} description={<Link to={`/policies?tab=${collection.slug}`}>Back to {collection.title} policies</Link>} />
      {collection.kinds.length > 1 ? (
        <div className={styles.step}>
          <Field label="Profile type" required>
            <RadioGroup value={kind ? kindName(kind) : ''} onChange={(_, data) => setSearch({ kind: data.value })}>
              {collection.kinds.map((k) => <Radio key={k.odataType} value={kindName(k)} label={`${k.title}: ${k.description}`} />)}
            </RadioGroup>
          </Field>
        </div>
      ) : null}
      {template !== null ? <TemplateChooser level={template === 'choose' ? undefined : template} /> : null}
      {collection.slug === 'wip' ? <BaselineChooser loaded={search.get('enterpriseDomain')} /> : null}
      <ErrorBar error={start.error} />
      {kind && (template === null || template !== 'choose') && !waiting ? (
        <>
        <Text as="h2" size={500} weight="semibold">{kind.title} settings</Text>
        <PolicyForm
          key={`${kindName(kind)} ${templatePath ?? ''}`}
          fields={kind.fields}
          body={start.data ?? EMPTY}
          defaults={start.data ? EMPTY_DEFAULTS : defaultsOf(kind)}
          mode="create"
          readOnly={false}
          pending={create.isPending}
          error={create.error}
          submitLabel="Create"
          onSubmit={save}
          onCancel={() => navigate(`/policies?tab=${collection.slug}`)}
        />
        </>
      ) : null}
      {kind === undefined && collection.kinds.length > 1 ? <Text>Choose a profile type.</Text> : null}
    </>
  );
}

const EMPTY_DEFAULTS = {};

/** App protection's starting point: a data protection framework level, its body answered by the API's template. */
function TemplateChooser({ level }: { level: string | undefined }) {
  const styles = useStyles();
  const { search } = useRoute();
  const [chosen, setChosen] = useState(level ?? 'level2');
  const [minimum, setMinimum] = useState(search.get('minimumOsVersion') ?? '');
  const [maximum, setMaximum] = useState(search.get('maximumOsVersion') ?? '');
  return (
    <section className={styles.step} aria-label="Template">
      <Text as="h2" size={500} weight="semibold">Start from a framework level</Text>
      <Field label="Framework level" required>
        <RadioGroup value={chosen} onChange={(_, data) => setChosen(data.value)}>
          {FRAMEWORK_LEVELS.map((l) => <Radio key={l.value} value={l.value} label={l.label} />)}
        </RadioGroup>
      </Field>
      <div className={styles.row}>
        <Field label="Minimum OS version" hint="Levels 2 and 3 block older Windows builds, e.g. 10.0.19045.">
          <Input value={minimum} onChange={(_, data) => setMinimum(data.value)} />
        </Field>
        <Field label="Maximum OS version" hint="Level 3 only.">
          <Input value={maximum} onChange={(_, data) => setMaximum(data.value)} />
        </Field>
        <Button appearance="primary" onClick={() => setSearch({ template: chosen, minimumOsVersion: minimum.trim(), maximumOsVersion: maximum.trim() })}>Use template</Button>
      </div>
    </section>
  );
}

/** WIP without enrollment can start from OpenMAM's baseline (Edge and the Microsoft 365 apps, a Hello PIN). */
function BaselineChooser({ loaded }: { loaded: string | null }) {
  const styles = useStyles();
  const [domain, setDomain] = useState(loaded ?? '');
  return (
    <section className={styles.step} aria-label="Baseline">
      <div className={styles.row}>
        <Field label="Baseline enterprise domain" hint="Optional: start from the OpenMAM baseline for this domain.">
          <Input value={domain} onChange={(_, data) => setDomain(data.value)} />
        </Field>
        <Button onClick={() => setSearch({ baseline: '1', enterpriseDomain: domain.trim() })}>Load baseline</Button>
      </div>
    </section>
  );
}
