// Hooks the signed-in pages share.

import { useRouter } from "next/router";
import { useEffect, useMemo } from "react";
import { client, type Client } from "./api";
import { useAuth } from "./auth";

// useClient gives the API client of the signed-in user; a session that ends
// sends the page to sign-in, to come back here afterwards.
export function useClient(): Client {
  const { config, token, signOut } = useAuth();
  const router = useRouter();
  return useMemo(
    () =>
      client(config.apiUrl, token, () => {
        signOut();
        void router.replace(signInPath(router.asPath, true));
      }),
    [config.apiUrl, token, signOut, router],
  );
}

// useSignedIn sends a visitor without a session to sign-in and says whether the
// page may show the user's data.
export function useSignedIn(): boolean {
  const { session, loaded } = useAuth();
  const router = useRouter();
  useEffect(() => {
    if (loaded && !session && router.isReady) void router.replace(signInPath(router.asPath, false));
  }, [loaded, session, router]);
  return loaded && session !== null;
}

export function signInPath(back: string, expired: boolean) {
  const q = new URLSearchParams();
  if (back && back !== "/") q.set("next", back);
  if (expired) q.set("expired", "1");
  const s = q.toString();
  return `/sign-in${s ? `?${s}` : ""}`;
}

// safeNext keeps a post-sign-in destination on this site.
export function safeNext(next: unknown): string {
  return typeof next === "string" && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}
