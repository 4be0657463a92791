import { Badge, makeStyles, Spinner, Text, Title3, tokens } from '@fluentui/react-components';
import { useMemo } from 'react';
import { odataString, type GraphCollection } from '../../api/graph.ts';
import { useGraph } from '../../api/hooks.ts';
import { ErrorBar } from '../../components/ErrorBar.tsx';
import { formatDateTime } from '../../components/format.ts';
import { PageHeader } from '../../components/PageHeader.tsx';
import { PagedTable, type Column, type TableFilter } from '../../components/PagedTable.tsx';
import { Link, matchPath, useRoute } from '../../router.tsx';
import { Facts } from '../users/labels.tsx';
import { SimpleTable } from '../users/UsersPage.tsx';
import { AUDIT_EVENTS_PATH, type AuditActor, type AuditEvent, type AuditResource } from './types.ts';

/**
 * The audit log (Graph beta `deviceManagement/auditEvents`, docs/graph.md "Audit events"): every change an admin
 * made, newest first, filtered by category (the server's `getAuditCategories()`) and by date range through the API's
 * `$filter`; `/audit/{id}` shows one event with who made it and each property it changed, old and new. Read-only:
 * Admin and Reader see the same page.
 */
const useStyles = makeStyles({
  section: { marginTop: tokens.spacingVerticalXXL, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  value: { whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' },
});

export default function AuditPage() {
  const { path } = useRoute();
  const one = matchPath('/audit/:id', path);
  return one ? <AuditEventDetail id={one['id']!} /> : <AuditEventList />;
}

/** Who, as an admin reads it: the user, else the app or the CLI's operator, else the actor's type. */
export function actorName(actor: AuditActor): string {
  return actor.userPrincipalName ?? actor.servicePrincipalName ?? actor.applicationId ?? actor.type;
}

function resourceName(resource: AuditResource): string {
  return resource.displayName ? `${resource.displayName} (${resource.type})` : `${resource.type} ${resource.resourceId}`;
}

function Result({ event }: { event: AuditEvent }) {
  return event.activityResult === 'Success'
    ? <Badge appearance="tint" color="success">Success</Badge>
    : <Badge appearance="tint" color="danger">{event.activityResult}</Badge>;
}

/** The start of a picked day (`YYYY-MM-DD`) in the browser's time zone, as an OData dateTime literal; `days` later. */
export function dayStart(day: string, days = 0): string {
  const [year, month, date] = day.split('-').map(Number);
  return new Date(year!, month! - 1, date! + days).toISOString();
}

const COLUMNS: readonly Column<AuditEvent>[] = [
  { id: 'date', title: 'Date', render: (e) => <Link to={`/audit/${e.id}`}>{formatDateTime(e.activityDateTime)}</Link>, sortBy: 'activityDateTime' },
  { id: 'activity', title: 'Activity', render: (e) => e.activity },
  { id: 'actor', title: 'Actor', render: (e) => actorName(e.actor) },
  { id: 'result', title: 'Result', render: (e) => <Result event={e} /> },
  { id: 'resources', title: 'Resources', render: (e) => e.resources.map(resourceName).join('; ') || '—' },
];

function AuditEventList() {
  // The categories the server files events under; the filter offers them once known.
  const categories = useGraph<GraphCollection<string>>(`${AUDIT_EVENTS_PATH}/getAuditCategories()`);
  const names = categories.data?.value;
  const filters = useMemo((): readonly TableFilter[] => [
    { id: 'category', label: 'Category', options: (names ?? []).map((c) => ({ value: c, label: c })), toOData: (v) => `category eq ${odataString(v)}` },
    { id: 'from', label: 'From', date: true, toOData: (v) => `activityDateTime ge ${dayStart(v)}` },
    { id: 'to', label: 'To', date: true, toOData: (v) => `activityDateTime lt ${dayStart(v, 1)}` },
  ], [names]);
  return (
    <>
      <PageHeader title="Audit log" description="Every change an admin made, newest first: who, what and when, with the values before and after." />
      <ErrorBar error={categories.error} />
      <PagedTable<AuditEvent> label="Audit events" path={AUDIT_EVENTS_PATH} columns={COLUMNS} rowKey={(e) => e.id} filters={filters}
        defaultSort={{ by: 'activityDateTime', direction: 'desc' }} count empty="No audit event matches." />
    </>
  );
}

function AuditEventDetail({ id }: { id: string }) {
  const styles = useStyles();
  const event = useGraph<AuditEvent>(`${AUDIT_EVENTS_PATH}/${encodeURIComponent(id)}`);
  if (event.isPending) return <Spinner label="Loading the audit event" />;
  if (event.error) return (<><PageHeader title="Audit event" /><ErrorBar error={event.error} /></>);
  const e = event.data;
  const { actor } = e;
  return (
    <>
      <PageHeader title={e.activity} description={<Link to="/audit">All audit events</Link>} />
      <Facts items={[
        ['Date', formatDateTime(e.activityDateTime)],
        ['Result', <Result key="r" event={e} />],
        ['Operation', e.activityOperationType],
        ['Category', `${e.category} (${e.componentName})`],
        ['Actor', actorName(actor)],
        ['Actor type', actor.type],
        ['Roles', actor.userPermissions.join(', ') || '—'],
        ['Application', actor.applicationId ?? '—'],
        ['IP address', actor.ipAddress ?? '—'],
        ['Correlation id', <Text key="c" font="monospace" size={200}>{e.correlationId}</Text>],
      ]} />
      {e.resources.map((resource, i) => (
        <section key={`${resource.resourceId}-${i}`} className={styles.section} aria-labelledby={`resource-${i}`}>
          <Title3 as="h2" id={`resource-${i}`}>{resource.displayName ?? resource.type}</Title3>
          <Text>{resource.type} <Text font="monospace" size={200}>{resource.resourceId || '—'}</Text></Text>
          <SimpleTable label={`Modified properties of ${resource.displayName ?? resource.type}`} rows={resource.modifiedProperties} rowKey={(p) => p.displayName}
            empty={e.activityResult === 'Success' ? 'No property changed.' : 'Nothing changed: the change was refused.'} columns={[
              { id: 'property', title: 'Property', render: (p) => <Text font="monospace" size={200}>{p.displayName}</Text> },
              { id: 'old', title: 'Old value', render: (p) => <span className={styles.value}>{p.oldValue || '—'}</span> },
              { id: 'new', title: 'New value', render: (p) => <span className={styles.value}>{p.newValue || '—'}</span> },
            ]} />
        </section>
      ))}
    </>
  );
}
