/**
 * Entry point: resolves where the node is, builds what the pages share and renders the app. The
 * node is the page's own origin (the node serves this UI), unless the Electron preload names it.
 */
import '@fontsource/inter/latin-400.css';
import '@fontsource/inter/latin-500.css';
import '@fontsource/inter/latin-600.css';
import './styles.css';
import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { AppContextProvider, createAppContext } from './app-context.js';
import { memoryStorage, type KeyValueStorage } from './stores/storage.js';

declare global {
  interface Window {
    /** Set by the Electron preload when the UI is loaded from a custom protocol. */
    readonly meshdesk?: { readonly apiBaseUrl?: string };
  }
}

function resolveBaseUrl(): string {
  const fromShell = window.meshdesk?.apiBaseUrl;
  if (typeof fromShell === 'string' && /^https?:\/\//.test(fromShell)) return fromShell;
  // Same origin: the node serves the UI at `/`, so relative requests reach it.
  return window.location.protocol === 'http:' || window.location.protocol === 'https:'
    ? ''
    : 'http://127.0.0.1:8440';
}

function storageOr(get: () => Storage): KeyValueStorage {
  try {
    return get();
  } catch {
    return memoryStorage();
  }
}

const app = createAppContext({
  baseUrl: resolveBaseUrl(),
  sessionStorage: storageOr(() => window.sessionStorage),
  preferences: storageOr(() => window.localStorage),
});

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <AppContextProvider value={app}>
      <QueryClientProvider client={app.queryClient}>
        <App />
      </QueryClientProvider>
    </AppContextProvider>
  </StrictMode>,
);
