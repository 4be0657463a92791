import { Button, Checkbox, Field, makeStyles, Select, Text, tokens } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import type { GraphCollection } from '../../api/graph.ts';
import { useGraph, useGraphWrite } from '../../api/hooks.ts';
import { useSession } from '../../auth/session.tsx';
import { ErrorBar } from '../../components/ErrorBar.tsx';
import { Link } from '../../router.tsx';
import type { PolicyCollectionInfo } from './kinds.ts';
import { messageAt } from './messages.ts';
import type { ManagedApp, ManagedMobileApp, Policy } from './types.ts';

export const CATALOGUE_PATH = '/deviceAppManagement/openMamManagedApps';
const APP_GROUP_TYPES = ['selectedPublicApps', 'allCoreMicrosoftApps', 'allMicrosoftApps', 'allApps'] as const;

const useStyles = makeStyles({
  panel: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, maxWidth: '760px' },
  apps: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS, border: 'none', margin: 0, padding: 0 },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center' },
});

/**
 * The apps a managed app policy targets, picked from the tenant's managed app catalogue (Microsoft Edge is built in);
 * `targetApps` replaces the list, conditioned on the policy's ETag.
 */
export function TargetAppsPanel({ collection, policy }: { collection: PolicyCollectionInfo; policy: Policy }) {
  const styles = useStyles();
  const { canWrite } = useSession();
  const path = `${collection.path}/${policy.id}`;
  const catalogue = useGraph<GraphCollection<ManagedApp>>(CATALOGUE_PATH);
  const current = useGraph<GraphCollection<ManagedMobileApp>>(`${path}/apps`);
  const write = useGraphWrite();
  const [chosen, setChosen] = useState<string[]>([]);
  const [groupType, setGroupType] = useState<string>(String(policy['appGroupType'] ?? 'selectedPublicApps'));
  const [saved, setSaved] = useState('');
  useEffect(() => setChosen((current.data?.value ?? []).map((a) => a.mobileAppIdentifier.windowsAppId)), [current.data]);
  useEffect(() => setGroupType(String(policy['appGroupType'] ?? 'selectedPublicApps')), [policy]);

  const known = catalogue.data?.value ?? [];
  // Apps a policy targets that the catalogue no longer lists stay visible (and can be removed).
  const extra = chosen.filter((id) => !known.some((app) => app.windowsAppId === id));
  const toggle = (id: string, on: boolean) => setChosen((was) => (on ? [...was, id] : was.filter((x) => x !== id)));
  const save = () => {
    setSaved('');
    const body = {
      apps: chosen.map((windowsAppId) => ({ '@odata.type': '#microsoft.graph.managedMobileApp', mobileAppIdentifier: { '@odata.type': '#microsoft.graph.windowsAppIdentifier', windowsAppId } })),
      ...(collection.targetApps?.withAppGroupType ? { appGroupType: groupType } : {}),
    };
    write.mutate({ method: 'POST', path: `${path}/targetApps`, body, ...(policy['@odata.etag'] ? { ifMatch: policy['@odata.etag'] } : {}) }, { onSuccess: () => setSaved(`Target apps saved: ${chosen.length}.`) });
  };

  return (
    <section className={styles.panel} aria-label="Target apps">
      <Text as="h2" size={500} weight="semibold">Target apps</Text>
      <Text>Apps come from the <Link to="/apps" inline>managed apps catalogue</Link>.</Text>
      <ErrorBar error={catalogue.error ?? current.error} />
      <fieldset className={styles.apps}>
        <legend>Apps</legend>
        {known.map((app) => (
          <Checkbox key={app.id} label={`${app.displayName} (${app.windowsAppId})`} checked={chosen.includes(app.windowsAppId)} disabled={!canWrite} onChange={(_, data) => toggle(app.windowsAppId, data.checked === true)} />
        ))}
        {extra.map((id) => (
          <Checkbox key={id} label={`${id} (not in the catalogue)`} checked disabled={!canWrite} onChange={(_, data) => toggle(id, data.checked === true)} />
        ))}
      </fieldset>
      {collection.targetApps?.withAppGroupType ? (
        <Field label="App group" hint="selectedPublicApps: the apps above.">
          <Select value={groupType} disabled={!canWrite} onChange={(_, data) => setGroupType(data.value)}>
            {APP_GROUP_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
          </Select>
        </Field>
      ) : null}
      {messageAt(write.error, 'apps') ?? messageAt(write.error, 'appGroupType') ? <Text role="alert">{messageAt(write.error, 'apps') ?? messageAt(write.error, 'appGroupType')}</Text> : <ErrorBar error={write.error} />}
      {canWrite ? (
        <div className={styles.actions}>
          <Button appearance="primary" onClick={save} disabled={write.isPending}>{write.isPending ? 'Saving…' : 'Save target apps'}</Button>
          <Text role="status">{saved}</Text>
        </div>
      ) : null}
    </section>
  );
}
