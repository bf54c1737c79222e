import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from '@tanstack/react-router';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiError, onUnauthorized, setCsrfToken } from './api/client';
import { applyTheme } from './lib/theme';
import { router } from './router';
import './styles/base.css';
import './styles/components.css';
import './styles/pages.css';

// the palette before the first paint, so a dark system never flashes light
applyTheme();

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      refetchOnWindowFocus: true,
      // a 4xx will not change by asking again
      retry: (count, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && count < 2,
    },
  },
});

// Any 401 of a data route: the session is gone; sign in again and come back here.
onUnauthorized(() => {
  const location = router.state.location;
  if (location.pathname.startsWith('/login')) return;
  setCsrfToken(null);
  queryClient.clear();
  void router.navigate({ to: '/login', search: { next: location.href, reason: 'expired' } });
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
