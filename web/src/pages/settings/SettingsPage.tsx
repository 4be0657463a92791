import { Button, Field, Input, makeStyles, Radio, RadioGroup, Spinner, Switch, Text, Textarea, Title3, tokens } from '@fluentui/react-components';
import { useState, type FormEvent, type ReactNode } from 'react';
import { GraphError } from '../../api/graph.ts';
import { useGraph, useGraphWrite } from '../../api/hooks.ts';
import { useSession } from '../../auth/session.tsx';
import { ErrorBar, fieldMessage } from '../../components/ErrorBar.tsx';
import { formatDateTime } from '../../components/format.ts';
import { PageHeader } from '../../components/PageHeader.tsx';

import { GroupPicker } from '../groups/pickers.tsx';
import { TENANT_SETTINGS_PATH, type MamUserScope, type PollSchedule, type TenantSettings } from './types.ts';

/**
 * The tenant's settings (the `openMamTenantSettings` singleton): its name, enrollment, the Terms of Use shown at
 * enrollment, the devices' poll schedule and who may use MAM. One form, one PATCH of what changed, conditioned on the
 * ETag read (a change made meanwhile by someone else is a 412, never overwritten).
 */
export default function SettingsPage() {
  const settings = useGraph<TenantSettings>(TENANT_SETTINGS_PATH);
  // Here, not in the form: a saved change re-seeds the form (keyed by the new ETag) and the outcome stays shown.
  const save = useGraphWrite<TenantSettings>();
  if (settings.isPending) return <><PageHeader title="Tenant settings" /><Spinner label="Loading settings" /></>;
  if (!settings.data) return <><PageHeader title="Tenant settings" /><ErrorBar error={settings.error} /></>;
  return <SettingsForm key={settings.data['@odata.etag']} settings={settings.data} save={save} onReload={() => void settings.refetch()} />;
}

const useStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXL, maxWidth: '760px' },
  section: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  grid: { display: 'grid', gridTemplateColumns: 'repeat(2, minmax(0, 1fr))', gap: tokens.spacingHorizontalL },
  error: { color: tokens.colorPaletteRedForeground1 },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center', position: 'sticky', bottom: 0, padding: `${tokens.spacingVerticalS} 0`, backgroundColor: tokens.colorNeutralBackground1 },
});

type Draft = Omit<TenantSettings, '@odata.etag' | 'id' | 'identityProvider' | 'createdDateTime' | 'lastModifiedDateTime' | 'pollSchedule'> & {
  /** As typed: the server judges the numbers. */
  pollSchedule: Record<NumberSetting, string> & Pick<PollSchedule, 'pollOnLogin' | 'allUsersPollOnFirstLogin'>;
};

type NumberSetting = Exclude<keyof PollSchedule, 'pollOnLogin' | 'allUsersPollOnFirstLogin'>;

/** The DMClient Poll settings an admin sets, in the order the CSP applies them. */
const POLL_NUMBERS: readonly { name: NumberSetting; label: string; hint?: string }[] = [
  { name: 'numberOfFirstRetries', label: 'First set: number of check-ins' },
  { name: 'intervalForFirstSetOfRetries', label: 'First set: minutes between check-ins' },
  { name: 'numberOfSecondRetries', label: 'Second set: number of check-ins' },
  { name: 'intervalForSecondSetOfRetries', label: 'Second set: minutes between check-ins' },
  { name: 'numberOfRemainingScheduledRetries', label: 'Then: number of check-ins', hint: '0 repeats forever' },
  { name: 'intervalForRemainingScheduledRetries', label: 'Then: minutes between check-ins', hint: 'At least 1440 (once a day), Microsoft\'s guidance for MAM' },
];

const SCOPES: readonly { value: MamUserScope; label: string }[] = [
  { value: 'all', label: 'All users' },
  { value: 'selected', label: 'Members of the groups below' },
  { value: 'none', label: 'No one' },
];

function draftOf(settings: TenantSettings): Draft {
  const { pollSchedule: poll } = settings;
  return {
    displayName: settings.displayName,
    enrollmentAllowed: settings.enrollmentAllowed,
    requireTermsOfUse: settings.requireTermsOfUse,
    termsOfUseText: settings.termsOfUseText,
    mamUserScope: settings.mamUserScope,
    mamUserScopeGroupIds: [...settings.mamUserScopeGroupIds],
    pollSchedule: {
      ...Object.fromEntries(POLL_NUMBERS.map(({ name }) => [name, String(poll[name])])) as Record<NumberSetting, string>,
      pollOnLogin: poll.pollOnLogin,
      allUsersPollOnFirstLogin: poll.allUsersPollOnFirstLogin,
    },
  };
}

/** A typed number as JSON: a whole number as a number, anything else as the text, for the server to refuse at its field. */
function numberOrText(text: string): number | string {
  return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text;
}

/** Only what the admin changed, so a concurrent change of another field is not undone. */
function changes(was: Draft, now: Draft): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const name of ['displayName', 'enrollmentAllowed', 'requireTermsOfUse', 'termsOfUseText', 'mamUserScope'] as const) {
    if (now[name] !== was[name]) body[name] = now[name];
  }
  if (now.mamUserScopeGroupIds.join() !== was.mamUserScopeGroupIds.join()) body['mamUserScopeGroupIds'] = now.mamUserScopeGroupIds;
  const poll: Record<string, unknown> = {};
  for (const { name } of POLL_NUMBERS) if (now.pollSchedule[name] !== was.pollSchedule[name]) poll[name] = numberOrText(now.pollSchedule[name]);
  for (const name of ['pollOnLogin', 'allUsersPollOnFirstLogin'] as const) if (now.pollSchedule[name] !== was.pollSchedule[name]) poll[name] = now.pollSchedule[name];
  if (Object.keys(poll).length > 0) body['pollSchedule'] = poll;
  return body;
}

/** Every path a field of this form shows a refusal at (the rest go to the error bar). */
const FIELD_PATHS = ['displayName', 'enrollmentAllowed', 'requireTermsOfUse', 'termsOfUseText', 'mamUserScope', 'mamUserScopeGroupIds', ...POLL_NUMBERS.map((p) => `pollSchedule.${p.name}`), 'pollSchedule.pollOnLogin', 'pollSchedule.allUsersPollOnFirstLogin'];

function Section({ id, title, description, children }: { id: string; title: string; description?: string; children: ReactNode }) {
  const styles = useStyles();
  return (
    <section className={styles.section} aria-labelledby={id}>
      <Title3 as="h2" id={id}>{title}</Title3>
      {description ? <Text>{description}</Text> : null}
      {children}
    </section>
  );
}

function SettingsForm({ settings, save, onReload }: { settings: TenantSettings; save: ReturnType<typeof useGraphWrite<TenantSettings>>; onReload: () => void }) {
  const styles = useStyles();
  const { canWrite } = useSession();
  const initial = draftOf(settings);
  const [draft, setDraft] = useState<Draft>(initial);
  const body = changes(initial, draft);
  const dirty = Object.keys(body).length > 0;
  const error = save.error;
  const set = (change: Partial<Draft>) => setDraft((was) => ({ ...was, ...change }));
  const setPoll = (change: Partial<Draft['pollSchedule']>) => setDraft((was) => ({ ...was, pollSchedule: { ...was.pollSchedule, ...change } }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (dirty) save.mutate({ method: 'PATCH', path: TENANT_SETTINGS_PATH, body, ifMatch: settings['@odata.etag'] });
  };
  const stale = error instanceof GraphError && error.status === 412;
  // A whole-schedule refusal ("the poll intervals must not all be 0") names pollSchedule itself.
  const scheduleMessage = fieldMessage(error, 'pollSchedule') !== undefined && !FIELD_PATHS.some((p) => p.startsWith('pollSchedule.') && fieldMessage(error, p) !== undefined) ? fieldMessage(error, 'pollSchedule') : undefined;
  return (
    <>
      <PageHeader title="Tenant settings"
        description={<>Tenant <Text font="monospace">{settings.id}</Text>, identity provider {settings.identityProvider === 'builtin' ? 'built-in (development)' : 'Microsoft Entra ID'}; last changed {formatDateTime(settings.lastModifiedDateTime)}.</>} />
      <form className={styles.form} onSubmit={submit} aria-label="Tenant settings">
        <Section id="tenant-heading" title="Tenant">
          <Field label="Display name" required validationMessage={fieldMessage(error, 'displayName')}>
            <Input value={draft.displayName} readOnly={!canWrite} onChange={(_, d) => set({ displayName: d.value })} />
          </Field>
        </Section>
        <Section id="enrollment-heading" title="Enrollment" description="Whether Windows devices of this tenant may enroll for MAM (devices already enrolled stay).">
          <Field validationMessage={fieldMessage(error, 'enrollmentAllowed')}>
            <Switch label="Allow MAM enrollment" checked={draft.enrollmentAllowed} disabled={!canWrite} onChange={(_, d) => set({ enrollmentAllowed: d.checked })} />
          </Field>
        </Section>
        <Section id="terms-heading" title="Terms of Use" description="Shown to users when they add their work account, before the device enrolls.">
          <Field validationMessage={fieldMessage(error, 'requireTermsOfUse')}>
            <Switch label="Require users to accept the Terms of Use" checked={draft.requireTermsOfUse} disabled={!canWrite} onChange={(_, d) => set({ requireTermsOfUse: d.checked })} />
          </Field>
          <Field label="Terms of Use text" required validationMessage={fieldMessage(error, 'termsOfUseText')}>
            <Textarea value={draft.termsOfUseText} readOnly={!canWrite} rows={6} resize="vertical" onChange={(_, d) => set({ termsOfUseText: d.value })} />
          </Field>
        </Section>
        <Section id="poll-heading" title="Poll schedule" description="How often enrolled devices check in (DMClient Poll). A change reaches enrolled devices at their next check-in.">
          {scheduleMessage ? <Text role="alert" className={styles.error}>{scheduleMessage}</Text> : null}
          <div className={styles.grid}>
            {POLL_NUMBERS.map(({ name, label, hint }) => (
              <Field key={name} label={label} hint={hint} validationMessage={fieldMessage(error, `pollSchedule.${name}`)}>
                <Input type="number" min={0} step={1} value={draft.pollSchedule[name]} readOnly={!canWrite} onChange={(_, d) => setPoll({ [name]: d.value })} />
              </Field>
            ))}
          </div>
          <Switch label="Check in when a user signs in" checked={draft.pollSchedule.pollOnLogin} disabled={!canWrite} onChange={(_, d) => setPoll({ pollOnLogin: d.checked })} />
          <Switch label="Check in at each user's first sign-in" checked={draft.pollSchedule.allUsersPollOnFirstLogin} disabled={!canWrite} onChange={(_, d) => setPoll({ allUsersPollOnFirstLogin: d.checked })} />
        </Section>
        <Section id="scope-heading" title="MAM user scope" description="Who may enroll and use managed apps.">
          <Field label="Users who may use MAM" validationMessage={fieldMessage(error, 'mamUserScope')}>
            <RadioGroup value={draft.mamUserScope} disabled={!canWrite} onChange={(_, d) => set({ mamUserScope: d.value as MamUserScope })}>
              {SCOPES.map((scope) => <Radio key={scope.value} value={scope.value} label={scope.label} />)}
            </RadioGroup>
          </Field>
          {draft.mamUserScope === 'selected' || draft.mamUserScopeGroupIds.length > 0 ? (
            <GroupPicker label="MAM user groups" hint={draft.mamUserScope === 'selected' ? undefined : 'Used only when the scope is the members of groups.'}
              value={draft.mamUserScopeGroupIds} onChange={(ids) => set({ mamUserScopeGroupIds: ids })} readOnly={!canWrite}
              validationMessage={fieldMessage(error, 'mamUserScopeGroupIds')} />
          ) : null}
        </Section>
        <ErrorBar error={error} shownFields={[...FIELD_PATHS, 'pollSchedule']} />
        {save.isSuccess && !dirty ? <Text role="status">Settings saved.</Text> : null}
        {canWrite ? (
          <div className={styles.actions}>
            <Button appearance="primary" type="submit" disabled={!dirty || save.isPending}>{save.isPending ? 'Saving…' : 'Save settings'}</Button>
            <Button disabled={!dirty && !stale} onClick={() => { save.reset(); setDraft(initial); if (stale) onReload(); }}>{stale ? 'Reload' : 'Discard changes'}</Button>
          </div>
        ) : null}
      </form>
    </>
  );
}
