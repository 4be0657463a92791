import { FluentProvider, webDarkTheme, webLightTheme } from '@fluentui/react-components';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphError } from './api/graph.ts';
import { SessionProvider } from './auth/session.tsx';
import { AppShell } from './layout/AppShell.tsx';
import './global.css';

/**
 * The admin console: React with Fluent UI v9 (the design language of Microsoft's admin centers), server state with
 * TanStack Query, talking only to the public admin API. Tokens live in memory (auth/session.tsx).
 */
const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      refetchOnWindowFocus: false,
      // A refusal (4xx) will not change by asking again; a network blip or a 5xx may.
      retry: (failures, error) => failures < 2 && !(error instanceof GraphError && error.status >= 400 && error.status < 500),
    },
  },
});

const THEME_KEY = 'openmam.theme';

function Console() {
  // Only the theme choice is kept in the browser (never a token).
  const [dark, setDark] = useState(() => (localStorage.getItem(THEME_KEY) ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light')) === 'dark');
  useEffect(() => {
    localStorage.setItem(THEME_KEY, dark ? 'dark' : 'light');
    document.documentElement.style.colorScheme = dark ? 'dark' : 'light';
  }, [dark]);
  return (
    <FluentProvider theme={dark ? webDarkTheme : webLightTheme} style={{ minHeight: '100vh' }}>
      <SessionProvider>
        <AppShell dark={dark} onDarkChange={setDark} />
      </SessionProvider>
    </FluentProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <Console />
    </QueryClientProvider>
  </StrictMode>,
);
