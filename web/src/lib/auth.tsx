// The app's sign-in state: the stage config, the session, and a token for the
// API that is refreshed before it expires.

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type { SiteConfig } from "./config";
import { needsRefresh, readSession, writeSession, type Session } from "./session";

export interface Auth {
  config: SiteConfig;
  session: Session | null;
  // loaded is false until the stored session has been read (after the first render).
  loaded: boolean;
  signedIn: (s: Session) => void;
  signOut: () => void;
  // token returns a token for the API with at least refreshMargin of life left,
  // refreshing it first when needed; it rejects with SessionEnded when it cannot.
  token: () => Promise<string>;
}

export class SessionEnded extends Error {
  constructor() {
    super("Your session has ended. Sign in again.");
  }
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ config, children }: { config: SiteConfig; children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(null);
  const [loaded, setLoaded] = useState(false);
  const current = useRef<Session | null>(null);
  const refreshing = useRef<Promise<Session> | null>(null);

  const store = useCallback(
    (s: Session | null) => {
      current.current = s;
      writeSession(config, s);
      setSession(s);
    },
    [config],
  );

  useEffect(() => {
    const s = readSession(config);
    current.current = s;
    setSession(s);
    setLoaded(true);
  }, [config]);

  const signOut = useCallback(() => {
    const s = current.current;
    store(null);
    if (s?.mode === "cognito") {
      import("./cognito").then((m) => m.signOut(config, s)).catch(() => undefined);
    }
  }, [config, store]);

  const token = useCallback(async () => {
    const s = current.current;
    if (!s) throw new SessionEnded();
    if (!needsRefresh(s)) return s.accessToken;
    // One refresh at a time, however many requests want a token.
    refreshing.current ??= import("./cognito")
      .then((m) => m.refresh(config, s))
      .finally(() => (refreshing.current = null));
    try {
      const fresh = await refreshing.current;
      store(fresh);
      return fresh.accessToken;
    } catch (err) {
      // A refused refresh token ends the session; a network failure does not.
      if ((err as { code?: string }).code !== "NotAuthorizedException") throw err;
      store(null);
      throw new SessionEnded();
    }
  }, [config, store]);

  const value = useMemo<Auth>(
    () => ({ config, session, loaded, signedIn: store, signOut, token }),
    [config, session, loaded, store, signOut, token],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const a = useContext(AuthContext);
  if (!a) throw new Error("useAuth outside AuthProvider");
  return a;
}
