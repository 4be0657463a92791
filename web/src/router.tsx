import { Link as FluentLink } from '@fluentui/react-components';
import { useSyncExternalStore, type MouseEvent, type ReactNode } from 'react';

/**
 * The console's routing: plain paths under /console (the server answers index.html for any of them), the History API,
 * and one external store so that every component reading the route re-renders on navigation. A console with a
 * handful of areas needs no more than this.
 */
export const CONSOLE_BASE = '/console';
const NAVIGATE_EVENT = 'openmam:navigate';

function snapshot(): string {
  return `${location.pathname}${location.search}`;
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATE_EVENT, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATE_EVENT, onChange);
  };
}

export interface Route {
  /** The path inside the console, starting with `/` (`/policies/abc`). */
  path: string;
  search: URLSearchParams;
}

export function useRoute(): Route {
  const current = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(current, location.origin);
  const inside = url.pathname.startsWith(CONSOLE_BASE) ? url.pathname.slice(CONSOLE_BASE.length) : url.pathname;
  return { path: inside === '' ? '/' : inside.replace(/\/+$/, '') || '/', search: url.searchParams };
}

/** Goes to a console path (`/devices/123?tab=inventory`). */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = `${CONSOLE_BASE}${to.startsWith('/') ? to : `/${to}`}`;
  if (options.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
  window.scrollTo(0, 0);
}

/** Replaces the query string of the current path (a table's sort, filter and page), keeping history clean. */
export function setSearch(update: Record<string, string | undefined>): void {
  const url = new URL(location.href);
  for (const [name, value] of Object.entries(update)) {
    if (value === undefined || value === '') url.searchParams.delete(name);
    else url.searchParams.set(name, value);
  }
  history.replaceState(null, '', `${url.pathname}${url.search}`);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

/** `/policies/:collection/:id` against `/policies/x/y` gives `{ collection: 'x', id: 'y' }`; undefined when it does not match. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  if (want.length !== have.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!;
    const value = have[i]!;
    if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(value);
    else if (segment !== value) return undefined;
  }
  return params;
}

/** A link inside the console: a real `<a href>` (open in a new tab works), navigated in place on a plain click. */
export function Link({ to, children, inline, title }: { to: string; children: ReactNode; inline?: boolean; title?: string }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <FluentLink href={`${CONSOLE_BASE}${to}`} onClick={onClick} inline={inline ?? false} title={title}>
      {children}
    </FluentLink>
  );
}
