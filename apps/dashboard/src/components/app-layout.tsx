import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, Outlet, useNavigate, useRouterState } from '@tanstack/react-router';
import { useEffect, useRef } from 'react';
import { ApiError, setCsrfToken } from '../api/client';
import { sessionApi } from '../api/admin';
import { useTheme, type Theme } from '../lib/theme';
import { ErrorBanner, Spinner } from './feedback';

const NAV = [
  { to: '/', label: 'Overview', icon: '◧', exact: true },
  { to: '/jobs', label: 'Jobs', icon: '☰', exact: false },
  { to: '/projects', label: 'Projects & keys', icon: '⬡', exact: false },
  { to: '/webhooks', label: 'Webhooks', icon: '⇄', exact: false },
] as const;

const THEME_NEXT: Record<Theme, Theme> = { system: 'light', light: 'dark', dark: 'system' };
const THEME_LABEL: Record<Theme, string> = { system: 'Theme: system', light: 'Theme: light', dark: 'Theme: dark' };

/** `/` focuses the page's search box (the jobs search, or opens Jobs to use it). */
function useSlashToSearch(): void {
  const navigate = useNavigate();
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== '/' || e.metaKey || e.ctrlKey || e.altKey) return;
      const target = e.target as HTMLElement | null;
      if (target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return;
      const box = document.querySelector<HTMLInputElement>('[data-search-box]');
      e.preventDefault();
      if (box) box.focus();
      else void navigate({ to: '/jobs', search: {} }).then(() => document.querySelector<HTMLInputElement>('[data-search-box]')?.focus());
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate]);
}

export function AppLayout() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const href = useRouterState({ select: (s) => s.location.href });
  const [theme, setTheme] = useTheme();
  useSlashToSearch();
  const session = useQuery({ queryKey: ['session'], queryFn: sessionApi.current, retry: false, staleTime: 60_000, refetchOnWindowFocus: true });

  useEffect(() => {
    if (session.data) setCsrfToken(session.data.csrf_token);
  }, [session.data]);

  const isSignedOut = session.error instanceof ApiError && session.error.status === 401;
  // Once per sign-out: the layout is still mounted for a moment while the router moves to /login.
  const redirected = useRef(false);
  useEffect(() => {
    if (!isSignedOut || redirected.current || href.startsWith('/login')) return;
    redirected.current = true;
    void navigate({ to: '/login', search: href === '/' ? {} : { next: href }, replace: true });
  }, [isSignedOut, navigate, href]);

  const signOut = async () => {
    redirected.current = true;
    try {
      await sessionApi.signOut();
    } finally {
      setCsrfToken(null);
      queryClient.clear();
      void navigate({ to: '/login', search: { reason: 'signed_out' } });
    }
  };

  if (session.isPending || isSignedOut) {
    return (
      <div className="boot">
        <Spinner label="Checking your session" />
      </div>
    );
  }
  if (session.error) {
    return (
      <div className="boot">
        <ErrorBanner error={session.error} title="Could not check your session" onRetry={() => void session.refetch()} />
      </div>
    );
  }

  return (
    <div className="shell">
      <aside className="sidebar">
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden="true">
            gq
          </span>
          <span>
            genqueue <span className="brand-sub">admin</span>
          </span>
        </Link>
        <nav className="nav" aria-label="Main">
          {NAV.map((item) => (
            <Link key={item.to} to={item.to} className="nav-link" activeProps={{ className: 'active', 'aria-current': 'page' }} activeOptions={{ exact: item.exact, includeSearch: false }}>
              <span className="nav-icon" aria-hidden="true">
                {item.icon}
              </span>
              {item.label}
            </Link>
          ))}
          <a className="nav-link" href="/admin/queues" target="_blank" rel="noreferrer">
            <span className="nav-icon" aria-hidden="true">
              ≡
            </span>
            Queues <span className="nav-ext">raw BullMQ ↗</span>
          </a>
        </nav>
        <div className="sidebar-foot">
          <div className="kbd-hint">
            <kbd>/</kbd> search jobs
          </div>
          <button type="button" className="btn btn-ghost btn-sm nav-btn" onClick={() => setTheme(THEME_NEXT[theme])} title="Switch light / dark / system theme">
            <span aria-hidden="true">{theme === 'dark' ? '☾' : theme === 'light' ? '☀' : '◐'}</span> {THEME_LABEL[theme]}
          </button>
          <button type="button" className="btn btn-ghost btn-sm nav-btn" onClick={() => void signOut()}>
            <span aria-hidden="true">↪</span> Sign out
          </button>
        </div>
      </aside>
      <main className="main" id="main">
        <Outlet />
      </main>
    </div>
  );
}
