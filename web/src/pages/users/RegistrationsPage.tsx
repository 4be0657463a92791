import { PageHeader } from '../../components/PageHeader.tsx';

export default function Page() {
  return <PageHeader title="App registrations" description="Not built yet." />;
}
