// The signed-in session, kept in this tab's sessionStorage (never localStorage,
// never a cookie): it ends with the tab, and nothing else on the machine reads it.

import type { SiteConfig } from "./config";

export interface Session {
  mode: "cognito" | "dev";
  user: string; // the email (cognito) or user name (dev) typed at sign-in
  accessToken: string; // what the API gets as "Authorization: Bearer"
  idToken?: string;
  refreshToken?: string;
  expiresAt?: number; // ms since the epoch; absent for a dev token
}

// Tokens are refreshed once fewer than this many ms of their life are left, so
// no request leaves with a token about to expire.
export const refreshMargin = 5 * 60 * 1000;

function key(c: SiteConfig) {
  return `persona.session.${c.stage}.${c.signIn === "dev" ? "dev" : c.userPoolClientId}`;
}

export function readSession(c: SiteConfig): Session | null {
  try {
    const raw = window.sessionStorage.getItem(key(c));
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return s && s.mode === c.signIn && typeof s.accessToken === "string" ? s : null;
  } catch {
    return null;
  }
}

export function writeSession(c: SiteConfig, s: Session | null) {
  try {
    if (s) window.sessionStorage.setItem(key(c), JSON.stringify(s));
    else window.sessionStorage.removeItem(key(c));
  } catch {
    // Storage refused (private mode quota): the session lives in memory for this page.
  }
}

export function needsRefresh(s: Session, now = Date.now()) {
  return s.expiresAt !== undefined && s.expiresAt - now < refreshMargin;
}

// jwtExpiry reads a token's "exp" claim (ms). It verifies nothing: the API does.
export function jwtExpiry(token: string): number | undefined {
  const claims = jwtClaims(token);
  return typeof claims?.exp === "number" ? claims.exp * 1000 : undefined;
}

function jwtClaims(token: string): Record<string, unknown> | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (ch) => ch.charCodeAt(0))));
  } catch {
    return null;
  }
}

// devToken builds the unsigned token (alg "none") that dev mode's API accepts
// in place of a signed one, as dev/apigw.DevToken does. Deployed APIs refuse it.
export function devToken(user: string): string {
  const enc = (v: unknown) => {
    const bytes = new TextEncoder().encode(JSON.stringify(v));
    let bin = "";
    bytes.forEach((b) => (bin += String.fromCharCode(b)));
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  return `${enc({ alg: "none", typ: "JWT" })}.${enc({ sub: user })}.`;
}
