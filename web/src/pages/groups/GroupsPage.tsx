import { PageHeader } from '../../components/PageHeader.tsx';

export default function Page() {
  return <PageHeader title="Groups" description="Not built yet." />;
}
