import { PageHeader } from '../../components/PageHeader.tsx';

export default function Page() {
  return <PageHeader title="Policies" description="Not built yet." />;
}
