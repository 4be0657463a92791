import { PageHeader } from '../../components/PageHeader.tsx';

export default function Page() {
  return <PageHeader title="Managed apps" description="Not built yet." />;
}
