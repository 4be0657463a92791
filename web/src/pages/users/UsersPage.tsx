import { PageHeader } from '../../components/PageHeader.tsx';

export default function Page() {
  return <PageHeader title="Users" description="Not built yet." />;
}
