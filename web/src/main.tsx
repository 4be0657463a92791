import { FluentProvider, webLightTheme, Title1 } from '@fluentui/react-components';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

const queryClient = new QueryClient();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <FluentProvider theme={webLightTheme}>
        <main>
          <Title1 as="h1">OpenMAM</Title1>
        </main>
      </FluentProvider>
    </QueryClientProvider>
  </StrictMode>,
);
