import { Button, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text } from '@fluentui/react-components';
import { useQuery } from '@tanstack/react-query';
import { graphGet, type GraphCollection } from '../../api/graph.ts';
import { useGraph, useGraphWrite } from '../../api/hooks.ts';
import { useSession } from '../../auth/session.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { ErrorBar } from '../../components/ErrorBar.tsx';
import { formatDateTime } from '../../components/format.ts';
import { OPERATION_REASONS, OperationBadge } from './labels.tsx';
import type { ManagedAppOperation } from './types.ts';

/**
 * The selective wipe actions on a user (learn.microsoft.com/graph/api/user-wipemanagedappregistrationsbydevicetag,
 * ...byazureaddeviceid, user-wipeandblockmanagedapps, user-unblockmanagedapps), each confirmed first, and the wipe
 * operations of a registration, re-read while one is pending so that "pending" turns "succeeded" on its own when the
 * app checks in and reports the wipe.
 */
const userPath = (userId: string) => `/users/${encodeURIComponent(userId)}`;

export function WipeByDeviceTagButton({ userId, deviceTag, deviceName }: { userId: string; deviceTag: string; deviceName: string | null }) {
  const write = useGraphWrite();
  return (
    <ConfirmButton label="Wipe by device tag" title="Wipe the apps' organization data on this device?" confirmLabel="Wipe"
      onConfirm={() => write.mutateAsync({ method: 'POST', path: `${userPath(userId)}/wipeManagedAppRegistrationsByDeviceTag`, body: { deviceTag } })}>
      Every managed app of this user with device tag <strong>{deviceTag}</strong>{deviceName ? ` (${deviceName})` : ''} removes the
      organization's data the next time it checks in. The user's personal data stays.
    </ConfirmButton>
  );
}

export function WipeByEntraDeviceButton({ userId, azureAdDeviceId }: { userId: string; azureAdDeviceId: string }) {
  const write = useGraphWrite();
  return (
    <ConfirmButton label="Wipe by Entra device" title="Wipe the apps' organization data on this Entra device?" confirmLabel="Wipe"
      onConfirm={() => write.mutateAsync({ method: 'POST', path: `${userPath(userId)}/wipeManagedAppRegistrationsByAzureAdDeviceId`, body: { azureAdDeviceId } })}>
      Every managed app of this user on the Entra device <strong>{azureAdDeviceId}</strong> removes the organization's data the next time
      it checks in.
    </ConfirmButton>
  );
}

/** Wipe and block (confirmed) or unblock, after the user's blocked state (the isManagedAppUserBlocked function). */
export function BlockControls({ userId }: { userId: string }) {
  const { canWrite } = useSession();
  const blocked = useGraph<{ value: boolean }>(`${userPath(userId)}/isManagedAppUserBlocked`);
  const write = useGraphWrite();
  if (blocked.isPending) return <Spinner size="tiny" label="Reading the block state" />;
  if (blocked.error) return <ErrorBar error={blocked.error} />;
  return (
    <>
      <Text role="status">{blocked.data.value ? 'Blocked: managed apps are wiped and refused' : 'Not blocked'}</Text>
      {blocked.data.value ? (
        canWrite ? (
          <Button onClick={() => write.mutate({ method: 'POST', path: `${userPath(userId)}/unblockManagedApps` })} disabled={write.isPending}>Unblock</Button>
        ) : null
      ) : (
        <ConfirmButton label="Wipe and block" title="Wipe and block this user's managed apps?" confirmLabel="Wipe and block" appearance="primary"
          onConfirm={() => write.mutateAsync({ method: 'POST', path: `${userPath(userId)}/wipeAndBlockManagedApps` })}>
          Every managed app of this user, on every device, removes the organization's data at its next check-in, and the user cannot
          register a managed app again until unblocked.
        </ConfirmButton>
      )}
      <ErrorBar error={write.error} />
    </>
  );
}

const POLL_MS = 3000;

/** A registration's operations; re-read every few seconds while one is pending. */
export function useOperations(registrationId: string) {
  const path = `/deviceAppManagement/managedAppRegistrations/${encodeURIComponent(registrationId)}/operations`;
  return useQuery({
    queryKey: ['graph', path],
    queryFn: ({ signal }) => graphGet<GraphCollection<ManagedAppOperation>>(path, signal),
    refetchInterval: (q) => (q.state.data?.value.some((o) => o.state === 'pending') ? POLL_MS : false),
  });
}

/** The latest operation of a registration, for a row of a table. */
export function LatestOperation({ registrationId }: { registrationId: string }) {
  const operations = useOperations(registrationId);
  const latest = [...(operations.data?.value ?? [])].sort((a, b) => b.lastModifiedDateTime.localeCompare(a.lastModifiedDateTime))[0];
  if (operations.isPending) return <Spinner size="extra-tiny" aria-label="Loading" />;
  if (!latest) return <Text>None</Text>;
  return <span><OperationBadge state={latest.state} /> {OPERATION_REASONS[latest.reason]}</span>;
}

export function OperationsTable({ registrationId }: { registrationId: string }) {
  const operations = useOperations(registrationId);
  const rows = [...(operations.data?.value ?? [])].sort((a, b) => b.lastModifiedDateTime.localeCompare(a.lastModifiedDateTime));
  return (
    <>
      <ErrorBar error={operations.error} />
      <Table aria-label="Wipe operations" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Operation</TableHeaderCell>
            <TableHeaderCell>State</TableHeaderCell>
            <TableHeaderCell>Last changed</TableHeaderCell>
            <TableHeaderCell>Detail</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {rows.map((o) => (
            <TableRow key={o.id}>
              <TableCell>{OPERATION_REASONS[o.reason]}</TableCell>
              <TableCell><OperationBadge state={o.state} /></TableCell>
              <TableCell>{formatDateTime(o.lastModifiedDateTime)}</TableCell>
              <TableCell>{o.detail ?? '—'}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {operations.isPending ? <Spinner size="small" label="Loading" /> : null}
      <Text role="status">
        {operations.data ? (rows.length === 0 ? 'No wipe has been sent to this registration.' : rows.some((o) => o.state === 'pending') ? 'A wipe is pending: it completes when the app next checks in.' : '') : ''}
      </Text>
    </>
  );
}
