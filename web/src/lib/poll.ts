// Polling that is polite to the API: it backs off while nothing changes, pauses
// while the tab is hidden, and stops as soon as nothing is in flight.

import { useEffect, useRef } from "react";

const firstDelay = 1000;
const maxDelay = 15000;

// delay is the wait before poll number attempt (0-based) since the last change:
// 1 s, 1.6 s, 2.6 s, 4.1 s, 6.6 s, 10.5 s, then every 15 s.
export function delay(attempt: number) {
  return Math.min(firstDelay * 1.6 ** attempt, maxDelay);
}

// usePoll calls poll while active is true; poll resolves to whether it saw a
// change, which starts the backoff over.
export function usePoll(active: boolean, poll: () => Promise<boolean>) {
  const latest = useRef(poll);
  useEffect(() => {
    latest.current = poll;
  });

  useEffect(() => {
    if (!active) return;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    let stopped = false;

    const schedule = () => {
      if (stopped || running || timer !== undefined || document.hidden) return;
      timer = setTimeout(run, delay(attempt));
    };
    const run = async () => {
      timer = undefined;
      running = true;
      let changed = false;
      try {
        changed = await latest.current();
      } catch {
        // The caller shows the error; polling goes on, further apart.
      }
      running = false;
      attempt = changed ? 0 : attempt + 1;
      schedule();
    };
    const onVisibility = () => {
      if (document.hidden) {
        clearTimeout(timer);
        timer = undefined;
      } else {
        attempt = 0;
        schedule();
      }
    };

    schedule();
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [active]);
}
