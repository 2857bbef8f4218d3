// Sign-in against the stage's Cognito user pool with SRP, through
// amazon-cognito-identity-js (no hand-written crypto). This module is loaded
// only when signing in, refreshing or signing out (import("./cognito")), so the
// library stays out of the JavaScript every page loads first.

import {
  AuthenticationDetails,
  CognitoAccessToken,
  CognitoIdToken,
  CognitoRefreshToken,
  CognitoUser,
  CognitoUserPool,
  CognitoUserSession,
  type ICognitoStorage,
} from "amazon-cognito-identity-js";
import type { SiteConfig } from "./config";
import { jwtExpiry, type Session } from "./session";

// The library keeps its own copy of the tokens in the Storage it is given
// (localStorage by default); the page keeps the session itself (session.ts), so
// the library gets a store that lives and dies with this module's memory.
class MemoryStorage implements ICognitoStorage {
  private items = new Map<string, string>();
  setItem(k: string, v: string) {
    this.items.set(k, v);
  }
  getItem(k: string) {
    return this.items.get(k) ?? null;
  }
  removeItem(k: string) {
    this.items.delete(k);
  }
  clear() {
    this.items.clear();
  }
}

const storage = new MemoryStorage();

function pool(c: SiteConfig) {
  return new CognitoUserPool({
    UserPoolId: c.userPoolId,
    ClientId: c.userPoolClientId,
    endpoint: c.cognitoEndpoint,
    Storage: storage,
  });
}

function user(c: SiteConfig, username: string) {
  return new CognitoUser({ Username: username, Pool: pool(c), Storage: storage });
}

function toSession(username: string, s: CognitoUserSession, previousRefresh?: string): Session {
  const accessToken = s.getAccessToken().getJwtToken();
  const idToken = s.getIdToken().getJwtToken();
  const expiries = [jwtExpiry(accessToken), jwtExpiry(idToken)].filter((e): e is number => e !== undefined);
  return {
    mode: "cognito",
    user: username,
    accessToken,
    idToken,
    refreshToken: s.getRefreshToken().getToken() || previousRefresh,
    expiresAt: expiries.length ? Math.min(...expiries) : Date.now() + 60 * 60 * 1000,
  };
}

export type SignInResult =
  | { kind: "signedIn"; session: Session }
  | { kind: "newPasswordRequired"; complete: (newPassword: string) => Promise<SignInResult> };

// signIn runs SRP (USER_SRP_AUTH). A user an administrator created must choose
// a new password first: the result then asks for it, and complete finishes the
// sign-in with it.
export function signIn(c: SiteConfig, email: string, password: string): Promise<SignInResult> {
  const u = user(c, email);
  return new Promise((resolve, reject) => {
    const callbacks = {
      onSuccess: (s: CognitoUserSession) => resolve({ kind: "signedIn", session: toSession(email, s) }),
      onFailure: (err: unknown) => reject(new SignInError(err)),
      newPasswordRequired: () =>
        resolve({
          kind: "newPasswordRequired",
          complete: (newPassword: string) =>
            new Promise<SignInResult>((done, fail) => {
              // No attributes are sent back: the pool requires none beyond the
              // email the administrator set, and email is not writable here.
              u.completeNewPasswordChallenge(newPassword, {}, {
                onSuccess: (s) => done({ kind: "signedIn", session: toSession(email, s) }),
                onFailure: (err) => fail(new SignInError(err)),
              });
            }),
        }),
    };
    u.authenticateUser(new AuthenticationDetails({ Username: email, Password: password }), callbacks);
  });
}

// refresh trades the refresh token for new id and access tokens.
export function refresh(c: SiteConfig, s: Session): Promise<Session> {
  if (!s.refreshToken) return Promise.reject(new SignInError({ code: "NotAuthorizedException" }));
  const u = user(c, s.user);
  return new Promise((resolve, reject) => {
    u.refreshSession(new CognitoRefreshToken({ RefreshToken: s.refreshToken! }), (err: unknown, fresh: CognitoUserSession) => {
      if (err) reject(new SignInError(err));
      else resolve(toSession(s.user, fresh, s.refreshToken));
    });
  });
}

// signOut revokes the refresh token (the pool client has token revocation on),
// so a copy of it cannot mint new tokens. Best effort: the page forgets the
// session whatever the answer.
export function signOut(c: SiteConfig, s: Session): Promise<void> {
  if (!s.refreshToken || !s.idToken) return Promise.resolve();
  const u = user(c, s.user);
  u.setSignInUserSession(
    new CognitoUserSession({
      IdToken: new CognitoIdToken({ IdToken: s.idToken }),
      AccessToken: new CognitoAccessToken({ AccessToken: s.accessToken }),
      RefreshToken: new CognitoRefreshToken({ RefreshToken: s.refreshToken }),
    }),
  );
  return new Promise((resolve) => u.signOut(() => resolve()));
}

// SignInError says, in words for the person signing in, what went wrong.
export class SignInError extends Error {
  code: string;
  constructor(err: unknown) {
    const code = (err as { code?: string; name?: string })?.code ?? (err as { name?: string })?.name ?? "";
    super(describe(code, (err as { message?: string })?.message));
    this.code = code;
  }
}

function describe(code: string, message?: string): string {
  switch (code) {
    case "NotAuthorizedException":
      return message?.includes("expired") || message?.includes("Refresh Token")
        ? "Your session has ended. Sign in again."
        : "The email or password is not right.";
    case "UserNotFoundException":
      return "The email or password is not right.";
    case "InvalidPasswordException":
      return `The new password does not meet the policy${message ? `: ${message.replace(/^Password does not conform to policy: /, "")}` : ""}.`;
    case "PasswordResetRequiredException":
      return "An administrator reset your password. Ask them for a new temporary password.";
    case "UserNotConfirmedException":
      return "Your account is not confirmed yet. Ask an administrator.";
    case "TooManyRequestsException":
    case "LimitExceededException":
      return "Too many attempts. Wait a minute and try again.";
    case "NetworkError":
      return "Cognito could not be reached. Check your connection and try again.";
  }
  return message ? `Sign-in failed: ${message}` : "Sign-in failed. Try again.";
}
