import { Button, makeStyles, Tab, TabList, Text, tokens } from '@fluentui/react-components';
import { AddRegular, DocumentCopyRegular } from '@fluentui/react-icons';
import { useSession } from '../../auth/session.tsx';
import { odataString } from '../../api/graph.ts';
import { PageHeader } from '../../components/PageHeader.tsx';
import { PagedTable, type Column } from '../../components/PagedTable.tsx';
import { formatDateTime } from '../../components/format.ts';
import { Link, matchPath, navigate, setSearch, useRoute } from '../../router.tsx';
import { AssignmentSummary } from './Assignments.tsx';
import { CreatePolicy } from './CreatePolicy.tsx';
import { COLLECTIONS, collectionBySlug, kindOf, type PolicyCollectionInfo } from './kinds.ts';
import { PolicyDetail } from './PolicyDetail.tsx';
import type { Policy } from './types.ts';

/**
 * Policies: one tab per policy collection of the admin API (WIP without and with enrollment, device configurations,
 * app protection, app configuration), each a server-paged list; `/policies/new/{collection}` creates one and
 * `/policies/{collection}/{id}` shows one (settings, target apps, assignments, status, tools).
 */
export default function PoliciesPage() {
  const { path } = useRoute();
  const create = matchPath('/policies/new/:collection', path);
  const createIn = collectionBySlug(create?.['collection']);
  if (create && createIn) return <CreatePolicy collection={createIn} />;
  const detail = matchPath('/policies/:collection/:id', path);
  const detailIn = collectionBySlug(detail?.['collection']);
  if (detail && detailIn) return <PolicyDetail collection={detailIn} id={detail['id']!} />;
  if (path !== '/policies') return <PageHeader title="Policy not found" description={<Link to="/policies">Back to policies</Link>} />;
  return <PolicyList />;
}

const useStyles = makeStyles({
  toolbar: { display: 'flex', gap: tokens.spacingHorizontalS, margin: `${tokens.spacingVerticalM} 0`, flexWrap: 'wrap', alignItems: 'center' },
  panel: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
});

function PolicyList() {
  const styles = useStyles();
  const { search } = useRoute();
  const { canWrite } = useSession();
  const collection = collectionBySlug(search.get('tab')) ?? COLLECTIONS[0]!;
  return (
    <>
      <PageHeader title="Policies" description="WIP, device configurations, app protection and app configuration: create them, assign them to groups, follow where they apply." />
      <TabList selectedValue={collection.slug} onTabSelect={(_, data) => setSearch({ tab: String(data.value) })} aria-label="Policy types">
        {COLLECTIONS.map((c) => <Tab key={c.slug} value={c.slug}>{c.title}</Tab>)}
      </TabList>
      <div role="tabpanel" aria-label={collection.title} className={styles.panel}>
        <div className={styles.toolbar}>
          <Text>{collection.kinds.length > 1 ? collection.kinds.map((k) => k.title).join(', ') : collection.kinds[0]!.description}</Text>
          {canWrite ? (
            <>
              {collection.slug === 'app-protection' ? (
                <Button appearance="primary" icon={<DocumentCopyRegular />} onClick={() => navigate(`/policies/new/${collection.slug}?template=choose`)}>Create from template</Button>
              ) : null}
              <Button appearance={collection.slug === 'app-protection' ? 'secondary' : 'primary'} icon={<AddRegular />} onClick={() => navigate(`/policies/new/${collection.slug}`)}>Create policy</Button>
            </>
          ) : null}
        </div>
        <PolicyTable key={collection.slug} collection={collection} />
      </div>
    </>
  );
}

function PolicyTable({ collection }: { collection: PolicyCollectionInfo }) {
  const columns: Column<Policy>[] = [
    { id: 'name', title: 'Name', sortBy: 'displayName', render: (p) => <Link to={`/policies/${collection.slug}/${p.id}`}>{p.displayName}</Link> },
    ...(collection.kinds.length > 1 ? [{ id: 'type', title: 'Type', render: (p: Policy) => kindOf(collection, p['@odata.type']).title }] : []),
    { id: 'assignments', title: 'Assignments', render: (p) => <AssignmentSummary assignments={p.assignments ?? []} /> },
    ...(collection.targetApps ? [{ id: 'apps', title: 'Target apps', render: (p: Policy) => (p.apps ?? []).map((a) => a.mobileAppIdentifier.windowsAppId).join(', ') || 'None' }] : []),
    { id: 'version', title: 'Version', render: (p) => String(p.version) },
    { id: 'modified', title: 'Last modified', sortBy: 'lastModifiedDateTime', render: (p) => formatDateTime(p.lastModifiedDateTime) },
  ];
  return (
    <PagedTable<Policy>
      label={collection.tableLabel}
      path={collection.path}
      columns={columns}
      rowKey={(p) => p.id}
      expand={collection.targetApps ? 'assignments,apps' : 'assignments'}
      select={['id', 'displayName', 'version', 'isAssigned', 'lastModifiedDateTime']}
      defaultSort={{ by: 'displayName', direction: 'asc' }}
      filters={[{ id: 'name', label: 'Name starts with', toOData: (value) => `startswith(displayName,${odataString(value)})` }]}
      empty={`No ${collection.title} policies yet.`}
    />
  );
}
