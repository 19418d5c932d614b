import { useEffect } from 'react';

/** Calls `refresh` every `ms` while the page is visible: the fallback beside live events. */
export function usePoll(refresh: () => void, ms: number): void {
  useEffect(() => {
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') refresh();
    }, ms);
    return () => window.clearInterval(timer);
  }, [refresh, ms]);
}
