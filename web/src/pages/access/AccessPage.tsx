import { PageHeader } from '../../components/PageHeader.tsx';

export default function Page() {
  return <PageHeader title="Conditional access" description="Not built yet." />;
}
