import { lazy, type ComponentType, type LazyExoticComponent } from 'react';

/**
 * The console's areas, in navigation order. Each area is one folder of pages/ and routes its own sub-paths
 * (`/policies/...`) with `matchPath`; this table only says where an area starts. Pages load on demand, so the first
 * load carries the shell and the page it lands on.
 */
export interface Area {
  /** First path segment, `/` for Home. */
  path: string;
  title: string;
  section: 'Overview' | 'Manage' | 'Users and apps' | 'Tenant';
  page: LazyExoticComponent<ComponentType>;
}

export const AREAS: readonly Area[] = [
  { path: '/', title: 'Home', section: 'Overview', page: lazy(() => import('./pages/home/HomePage.tsx')) },
  { path: '/policies', title: 'Policies', section: 'Manage', page: lazy(() => import('./pages/policies/PoliciesPage.tsx')) },
  { path: '/apps', title: 'Managed apps', section: 'Manage', page: lazy(() => import('./pages/policies/ManagedAppsPage.tsx')) },
  { path: '/devices', title: 'Devices', section: 'Manage', page: lazy(() => import('./pages/devices/DevicesPage.tsx')) },
  { path: '/registrations', title: 'App registrations', section: 'Users and apps', page: lazy(() => import('./pages/users/RegistrationsPage.tsx')) },
  { path: '/users', title: 'Users', section: 'Users and apps', page: lazy(() => import('./pages/users/UsersPage.tsx')) },
  { path: '/sign-ins', title: 'Sign-in log', section: 'Users and apps', page: lazy(() => import('./pages/sign-ins/SignInsPage.tsx')) },
  { path: '/connectors', title: 'Threat defense', section: 'Users and apps', page: lazy(() => import('./pages/connectors/ConnectorsPage.tsx')) },
  { path: '/access', title: 'Conditional access', section: 'Users and apps', page: lazy(() => import('./pages/access/AccessPage.tsx')) },
  { path: '/groups', title: 'Groups', section: 'Tenant', page: lazy(() => import('./pages/groups/GroupsPage.tsx')) },
  { path: '/settings', title: 'Tenant settings', section: 'Tenant', page: lazy(() => import('./pages/settings/SettingsPage.tsx')) },
  { path: '/audit', title: 'Audit log', section: 'Tenant', page: lazy(() => import('./pages/audit/AuditPage.tsx')) },
];

/** The area a console path belongs to: the longest area path that is a prefix of it by whole segments. */
export function areaOf(path: string): Area | undefined {
  if (path === '/') return AREAS[0];
  return AREAS.filter((area) => area.path !== '/' && (path === area.path || path.startsWith(`${area.path}/`))).sort((a, b) => b.path.length - a.path.length)[0];
}
