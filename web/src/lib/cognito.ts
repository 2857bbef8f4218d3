// Sign-in against the stage's Cognito user pool with SRP, through
// amazon-cognito-identity-js (no hand-written crypto), and setting up an
// authenticator app. This module is loaded only when signing in, refreshing,
// signing out or setting up an app (import("./cognito")), so the library stays
// out of the JavaScript every page loads first.

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
  | { kind: "newPasswordRequired"; complete: (newPassword: string) => Promise<SignInResult> }
  | { kind: "totpRequired"; complete: (code: string) => Promise<SignInResult> }
  | { kind: "totpSetupRequired"; app: AppSecret; complete: (code: string) => Promise<SignInResult> };

// AppSecret is what an authenticator app is set up with: the secret Cognito gave
// (base32), and the otpauth:// URI that carries it with the account's name.
export interface AppSecret {
  secret: string;
  uri: string;
}

// issuer names the stage's accounts in an authenticator app.
const issuer = (c: SiteConfig) => `Personas (${c.stage})`;

// otpauthURI is the Key URI an authenticator app reads (from a QR code or a link):
// TOTP with Cognito's parameters, SHA-1, 6 digits, every 30 seconds, the defaults.
export function otpauthURI(secret: string, account: string, issuer: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  return `otpauth://totp/${label}?secret=${encodeURIComponent(secret)}&issuer=${encodeURIComponent(issuer)}`;
}

// signIn runs SRP (USER_SRP_AUTH). A user an administrator created must choose
// a new password first, a user with an authenticator app (a stage whose pool
// offers TOTP) gives its code, and on a pool that requires one a user without
// an app sets one up: the result then asks for what is needed, and complete answers.
export function signIn(c: SiteConfig, email: string, password: string): Promise<SignInResult> {
  return authenticate(user(c, email), email, password, issuer(c));
}

// ChallengedUser is the part of a CognitoUser a sign-in drives.
export type ChallengedUser = Pick<
  CognitoUser,
  "authenticateUser" | "completeNewPasswordChallenge" | "sendMFACode" | "associateSoftwareToken" | "verifySoftwareToken"
>;

// deviceName is what Cognito records as the name of the app a user sets up.
const deviceName = "Authenticator app";

// authenticate signs u in, and answers each challenge the pool sets through the
// result: every answer takes the same callbacks, so the steps come in any order.
export function authenticate(u: ChallengedUser, email: string, password: string, appIssuer: string): Promise<SignInResult> {
  const callbacks = (resolve: (r: SignInResult) => void, reject: (err: unknown) => void) => ({
    onSuccess: (s: CognitoUserSession) => resolve({ kind: "signedIn", session: toSession(email, s) }),
    onFailure: (err: unknown) => reject(new SignInError(err)),
    newPasswordRequired: () =>
      resolve({
        kind: "newPasswordRequired",
        // No attributes are sent back: the pool requires none beyond the email the
        // administrator set, and email is not writable here.
        complete: (newPassword: string) =>
          new Promise<SignInResult>((done, fail) => u.completeNewPasswordChallenge(newPassword, {}, callbacks(done, fail))),
      }),
    totpRequired: () =>
      resolve({
        kind: "totpRequired",
        complete: (code: string) =>
          new Promise<SignInResult>((done, fail) => u.sendMFACode(code, callbacks(done, fail), "SOFTWARE_TOKEN_MFA")),
      }),
    // A pool that requires MFA makes a user without an authenticator app set one up
    // first: Cognito gives a secret for this sign-in's session, and a code of the app
    // set up with it finishes signing in.
    mfaSetup: () =>
      u.associateSoftwareToken({
        associateSecretCode: (secret: string) =>
          resolve({
            kind: "totpSetupRequired",
            app: { secret, uri: otpauthURI(secret, email, appIssuer) },
            complete: (code: string) =>
              new Promise<SignInResult>((done, fail) => u.verifySoftwareToken(code, deviceName, callbacks(done, fail))),
          }),
        onFailure: (err: unknown) => reject(new SignInError(err)),
      }),
  });
  return new Promise((resolve, reject) =>
    u.authenticateUser(new AuthenticationDetails({ Username: email, Password: password }), callbacks(resolve, reject)),
  );
}

export type AppSetup =
  | { kind: "scan"; app: AppSecret; verify: (code: string) => Promise<AppSetup> }
  | { kind: "enabled" };

// AppUser is the part of a signed-in CognitoUser that sets up an authenticator app.
export type AppUser = Pick<CognitoUser, "associateSoftwareToken" | "verifySoftwareToken" | "setUserMfaPreference">;

// setUpApp starts setting up an authenticator app for the signed-in session s: the
// result gives the secret to scan, and verify takes one code of the app, then turns
// TOTP on as the account's second factor, so every sign-in after asks for a code.
export function setUpApp(c: SiteConfig, s: Session): Promise<AppSetup> {
  const u = user(c, s.user);
  u.setSignInUserSession(cognitoSession(s));
  return enrollApp(u, s.user, issuer(c));
}

// enrollApp drives u through the setup: associate (a new secret), verify (a code of
// the app set up with it; a wrong one may be answered again), enable.
export function enrollApp(u: AppUser, account: string, appIssuer: string): Promise<AppSetup> {
  return new Promise((resolve, reject) =>
    u.associateSoftwareToken({
      associateSecretCode: (secret: string) => {
        const app = { secret, uri: otpauthURI(secret, account, appIssuer) };
        const verify = (code: string) =>
          new Promise<AppSetup>((done, fail) =>
            u.verifySoftwareToken(code, deviceName, {
              onSuccess: () =>
                u.setUserMfaPreference(null, { PreferredMfa: true, Enabled: true }, (err) =>
                  err ? fail(new SignInError(err)) : done({ kind: "enabled" }),
                ),
              onFailure: (err: unknown) => fail(new SignInError(err)),
            }),
          );
        resolve({ kind: "scan", app, verify });
      },
      onFailure: (err: unknown) => reject(new SignInError(err)),
    }),
  );
}

function cognitoSession(s: Session): CognitoUserSession {
  return new CognitoUserSession({
    IdToken: new CognitoIdToken({ IdToken: s.idToken ?? "" }),
    AccessToken: new CognitoAccessToken({ AccessToken: s.accessToken }),
    RefreshToken: new CognitoRefreshToken({ RefreshToken: s.refreshToken ?? "" }),
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
  u.setSignInUserSession(cognitoSession(s));
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
    case "CodeMismatchException":
    case "EnableSoftwareTokenMFAException":
      return "The code is not right. Type the 6 digits your authenticator app shows now.";
    case "SoftwareTokenMFANotFoundException":
      return "This stage's sign-in does not offer authenticator apps.";
    case "ExpiredCodeException":
      return "The code has already been used. Wait for the next one and type that.";
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
