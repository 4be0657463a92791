import { Badge, Button, Checkbox, Field, Input, makeStyles, MessageBar, MessageBarBody, MessageBarTitle, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, tokens } from '@fluentui/react-components';
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { GraphError, graphSend } from '../../api/graph.ts';
import { useGraph } from '../../api/hooks.ts';
import { ErrorBar } from '../../components/ErrorBar.tsx';
import { numberOrText } from './form-model.ts';
import type { PolicyCollectionInfo } from './kinds.ts';
import type { EasComplianceResult, MdmHandoffCheck, Policy } from './types.ts';

const useStyles = makeStyles({
  panel: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL, maxWidth: '960px' },
  block: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  grid: { display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(280px, 1fr))', gap: tokens.spacingVerticalM },
  list: { margin: 0 },
});

/** The EAS device-lock settings MAM evaluates (core/wip/eas-compliance.ts EAS_SPECS). */
const EAS_NUMBERS = [
  ['minDevicePasswordLength', 'Minimum password length (1-16)'],
  ['minDevicePasswordComplexCharacters', 'Complex character groups (1-4)'],
  ['maxInactivityTimeDeviceLock', 'Inactivity before lock (minutes)'],
  ['maxDevicePasswordFailedAttempts', 'Failed attempts (0, or 4-16)'],
  ['devicePasswordExpiration', 'Password expiration (days)'],
  ['devicePasswordHistory', 'Password history'],
] as const;
const EAS_FLAGS = [
  ['devicePasswordEnabled', 'Device password required'],
  ['alphanumericDevicePasswordRequired', 'Alphanumeric password required'],
  ['requireDeviceEncryption', 'Device encryption required'],
] as const;

/**
 * The WIP tools of a MAM policy: whether a change to MDM would selectively wipe the user's protected data
 * (`{id}/mdmHandoffCheck`), and how an Exchange ActiveSync policy compares with the policy's device lock
 * (`{id}/evaluateEasCompliance`). Both only read, so a Reader may use them.
 */
export function WipToolsPanel({ collection, policy }: { collection: PolicyCollectionInfo; policy: Policy }) {
  const styles = useStyles();
  const path = `${collection.path}/${policy.id}`;
  const handoff = useGraph<MdmHandoffCheck>(`${path}/mdmHandoffCheck`);
  return (
    <section className={styles.panel} aria-label="WIP tools">
      <div className={styles.block}>
        <Text as="h2" size={500} weight="semibold">MDM handoff check</Text>
        <ErrorBar error={handoff.error} />
        {handoff.data ? (
          <MessageBar intent={handoff.data.wouldSelectivelyWipe ? 'warning' : 'success'}>
            <MessageBarBody>
              <MessageBarTitle>{handoff.data.wouldSelectivelyWipe ? 'A change to MDM would selectively wipe protected data' : 'A change to MDM keeps protected data'}</MessageBarTitle>
              {handoff.data.reasons.length > 0 ? <ul className={styles.list}>{handoff.data.reasons.map((r) => <li key={r}>{r}</li>)}</ul> : null}
            </MessageBarBody>
          </MessageBar>
        ) : null}
      </div>
      <EasTool path={path} />
    </section>
  );
}

function EasTool({ path }: { path: string }) {
  const styles = useStyles();
  const [numbers, setNumbers] = useState<Record<string, string>>({});
  const [flags, setFlags] = useState<Record<string, boolean>>({ devicePasswordEnabled: true });
  const evaluate = useMutation({ mutationFn: (easPolicy: Record<string, unknown>) => graphSend<EasComplianceResult>('POST', `${path}/evaluateEasCompliance`, { easPolicy }) });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const easPolicy: Record<string, unknown> = { ...flags };
    for (const [name, value] of Object.entries(numbers)) if (value.trim() !== '') easPolicy[name] = numberOrText(value);
    evaluate.mutate(easPolicy);
  };
  const messageFor = (name: string) => (evaluate.error instanceof GraphError && evaluate.error.path === `easPolicy.${name}` ? evaluate.error.detail : undefined);
  const shownError = evaluate.error instanceof GraphError && evaluate.error.path?.startsWith('easPolicy.');
  const result = evaluate.data;
  return (
    <form className={styles.block} onSubmit={submit} aria-label="EAS compliance">
      <Text as="h2" size={500} weight="semibold">EAS compliance</Text>
      <Text>Compare an Exchange ActiveSync device-lock policy with this policy: what the device would end up enforcing.</Text>
      <div className={styles.grid}>
        {EAS_FLAGS.map(([name, label]) => (
          <Field key={name} validationMessage={messageFor(name)}>
            <Checkbox label={label} checked={flags[name] === true} onChange={(_, data) => setFlags((was) => ({ ...was, [name]: data.checked === true }))} />
          </Field>
        ))}
        {EAS_NUMBERS.map(([name, label]) => (
          <Field key={name} label={label} validationMessage={messageFor(name)}>
            <Input inputMode="numeric" value={numbers[name] ?? ''} onChange={(_, data) => setNumbers((was) => ({ ...was, [name]: data.value }))} />
          </Field>
        ))}
      </div>
      <div><Button type="submit" appearance="primary" disabled={evaluate.isPending}>Evaluate EAS policy</Button></div>
      {shownError ? null : <ErrorBar error={evaluate.error} />}
      {result ? (
        <div className={styles.block} role="status">
          <Text weight="semibold">{result.compliant ? <Badge color="success">Compliant</Badge> : <Badge color="warning">Not compliant</Badge>}</Text>
          {result.gaps.length > 0 ? (
            <Table aria-label="EAS gaps" size="small">
              <TableHeader>
                <TableRow>
                  <TableHeaderCell>EAS setting</TableHeaderCell>
                  <TableHeaderCell>EAS value</TableHeaderCell>
                  <TableHeaderCell>Policy value</TableHeaderCell>
                  <TableHeaderCell>Policy properties</TableHeaderCell>
                </TableRow>
              </TableHeader>
              <TableBody>
                {result.gaps.map((gap) => (
                  <TableRow key={gap.setting}>
                    <TableCell>{gap.setting}</TableCell>
                    <TableCell>{String(gap.eas)}</TableCell>
                    <TableCell>{gap.mam === null ? 'not set' : String(gap.mam)}</TableCell>
                    <TableCell>{gap.mamProperties.join(', ')}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          ) : null}
          <ul className={styles.list}>{result.notes.map((n) => <li key={n}>{n}</li>)}</ul>
        </div>
      ) : null}
    </form>
  );
}
