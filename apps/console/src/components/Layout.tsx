import { NavLink, Outlet } from 'react-router';
import { can, type Capability } from '../auth/capabilities.js';
import { useAuthSession, useUser } from '../app-context.js';

const NAV: { to: string; label: string; needs: Capability; icon: string }[] = [
  { to: '/', label: 'Overview', needs: 'viewInventory', icon: 'M3 13h6V3H3zm0 8h6v-6H3zm8 0h10V11H11zm0-18v6h10V3z' },
  {
    to: '/connections',
    label: 'Connections',
    needs: 'viewInventory',
    icon: 'M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3zm0 0v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3',
  },
  { to: '/agents', label: 'Agents', needs: 'viewInventory', icon: 'M4 4h16v6H4zm0 10h16v6H4zM7 7h.01M7 17h.01' },
  {
    to: '/identities',
    label: 'Identities',
    needs: 'viewRecordings',
    icon: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 9a7 7 0 0 1 14 0',
  },
  {
    to: '/grants',
    label: 'Grants',
    needs: 'viewInventory',
    icon: 'M15 7a3 3 0 1 1-6 0 3 3 0 0 1 6 0zM12 10v11m0-4h4m-4 3h3',
  },
  { to: '/policies', label: 'Policies', needs: 'viewInventory', icon: 'M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z' },
  { to: '/sessions', label: 'Sessions', needs: 'viewRecordings', icon: 'M5 4l14 8-14 8z' },
  { to: '/audit', label: 'Audit log', needs: 'viewRecordings', icon: 'M6 3h9l4 4v14H6zM9 9h6M9 13h6M9 17h4' },
];

export function Layout() {
  const user = useUser();
  const auth = useAuthSession();
  return (
    <div className="shell">
      <aside className="sidebar">
        <div className="brand">
          <svg viewBox="0 0 24 24" width={22} height={22} aria-hidden>
            <rect x={2} y={2} width={20} height={20} rx={4} className="brand-mark" />
            <path d="M7 6v13M12 6v13M17 6v13M6 10h12M6 15h12" className="brand-bars" />
          </svg>
          <span>Portcullis</span>
        </div>
        <nav>
          {NAV.filter((item) => can(user, item.needs)).map((item) => (
            <NavLink key={item.to} to={item.to} end={item.to === '/'} className="nav-link">
              <svg viewBox="0 0 24 24" width={18} height={18} aria-hidden>
                <path d={item.icon} />
              </svg>
              {item.label}
            </NavLink>
          ))}
        </nav>
        <div className="sidebar-user">
          <div className="user-name">{user.username}</div>
          <div className="user-roles">
            {user.roles.join(', ') || 'no console role'}
            {!can(user, 'manage') && <span className="readonly-tag">read-only</span>}
          </div>
          <button type="button" className="link-button" onClick={() => void auth.logout()}>
            Sign out
          </button>
        </div>
      </aside>
      <main className="content">
        <Outlet />
      </main>
    </div>
  );
}
