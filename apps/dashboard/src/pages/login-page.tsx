import { useQueryClient } from '@tanstack/react-query';
import { getRouteApi, useNavigate } from '@tanstack/react-router';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError, errorMessage, setCsrfToken } from '../api/client';
import { sessionApi } from '../api/admin';
import { formatDuration } from '../lib/time';

const routeApi = getRouteApi('/login');

function explain(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return 'That admin key is not valid. Check it and try again.';
    if (err.status === 429) {
      const wait = err.retryAfterSec !== null ? ` Try again in ${formatDuration(err.retryAfterSec * 1000)}.` : ' Try again later.';
      return `Too many wrong keys from this address.${wait}`;
    }
  }
  return errorMessage(err);
}

export function LoginPage() {
  const { next, reason } = routeApi.useSearch();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    input.current?.focus();
    // Already signed in (a cookie from earlier): go straight in.
    sessionApi
      .current()
      .then((session) => {
        setCsrfToken(session.csrf_token);
        queryClient.setQueryData(['session'], session);
        void navigate({ href: next ?? '/', replace: true });
      })
      .catch(() => undefined);
  }, [navigate, next, queryClient]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!key.trim()) {
      setError('Enter the admin key (it starts with gqa_).');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const session = await sessionApi.signIn(key.trim());
      setKey('');
      setCsrfToken(session.csrf_token);
      queryClient.setQueryData(['session'], session);
      await navigate({ href: next ?? '/' });
    } catch (err) {
      setError(explain(err));
      input.current?.select();
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login">
      <form className="login-card" onSubmit={(e) => void submit(e)} noValidate>
        <div className="brand brand-lg">
          <span className="brand-mark" aria-hidden="true">
            gq
          </span>
          <span>
            genqueue <span className="brand-sub">admin</span>
          </span>
        </div>
        <h1>Sign in</h1>
        <p className="muted">
          Use the admin key (<code>ADMIN_API_KEY</code>, printed on first start). It is exchanged for a session cookie and never stored in this browser.
        </p>
        {reason === 'expired' && !error ? <div className="banner banner-info">Your session ended. Sign in again to continue.</div> : null}
        {reason === 'signed_out' && !error ? <div className="banner banner-success">You are signed out.</div> : null}
        {error ? (
          <div className="banner banner-error" role="alert" data-testid="login-error">
            {error}
          </div>
        ) : null}
        <label className="field">
          <span className="field-label">Admin key</span>
          <input
            ref={input}
            name="admin-key"
            type="password"
            autoComplete="off"
            spellCheck={false}
            placeholder="gqa_…"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            aria-invalid={error ? true : undefined}
          />
        </label>
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
