import { Tab, TabList } from '@fluentui/react-components';
import { matchPath, navigate, useRoute } from '../../router.tsx';
import { PolicyDetail, NewPolicy, PolicyList } from './Policies.tsx';
import { NewResource, ResourceDetail, ResourceList } from './Resources.tsx';

/**
 * Conditional access: the policies OpenMAM evaluates for every access decision (Graph
 * `identity/conditionalAccess/policies`) and the resources they protect (Graph `servicePrincipals`).
 * `/access` and `/access/resources` are the two lists; `/access/policies/{new|id}` and `/access/resources/{new|id}`
 * the forms.
 */
export default function AccessPage() {
  const { path } = useRoute();
  if (path === '/access/policies/new') return <NewPolicy />;
  if (path === '/access/resources/new') return <NewResource />;
  const policy = matchPath('/access/policies/:id', path);
  if (policy) return <PolicyDetail key={policy.id} id={policy.id!} />;
  const resource = matchPath('/access/resources/:id', path);
  if (resource) return <ResourceDetail key={resource.id} id={resource.id!} />;
  const tab = path === '/access/resources' ? 'resources' : 'policies';
  return tab === 'resources' ? <ResourceList tabs={<AccessTabs selected={tab} />} /> : <PolicyList tabs={<AccessTabs selected={tab} />} />;
}

function AccessTabs({ selected }: { selected: 'policies' | 'resources' }) {
  return (
    <TabList selectedValue={selected} onTabSelect={(_, data) => navigate(data.value === 'resources' ? '/access/resources' : '/access')} aria-label="Conditional access">
      <Tab value="policies">Policies</Tab>
      <Tab value="resources">Protected resources</Tab>
    </TabList>
  );
}
