import { Link } from 'react-router';
import { EmptyState } from '../components/ui.js';

export function NotFoundPage() {
  return (
    <div className="page">
      <EmptyState title="There is no page at this address" action={<Link to="/">Go to the overview</Link>} />
    </div>
  );
}
