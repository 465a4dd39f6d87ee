import { PageHeader } from '../../components/ui.js';
import { GrantsPanel } from './GrantsPanel.js';

export function GrantsPage() {
  return (
    <div className="page">
      <PageHeader
        title="Grants"
        description="Who may open which connection. Policies then decide what each request may do and see."
      />
      <GrantsPanel />
    </div>
  );
}
