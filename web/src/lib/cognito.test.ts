import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CognitoAccessToken,
  CognitoIdToken,
  CognitoRefreshToken,
  CognitoUserSession,
  type AuthenticationDetails,
  type IAuthenticationCallback,
} from "amazon-cognito-identity-js";
import { authenticate, type ChallengedUser, type SignInResult } from "./cognito";

// jwt is an unsigned token expiring at exp (seconds): enough for the session's expiry.
function jwt(exp: number): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "none" })}.${part({ exp, sub: "u-1" })}.sig`;
}

const session = new CognitoUserSession({
  IdToken: new CognitoIdToken({ IdToken: jwt(2000000000) }),
  AccessToken: new CognitoAccessToken({ AccessToken: jwt(2000000000) }),
  RefreshToken: new CognitoRefreshToken({ RefreshToken: "refresh" }),
});

// pool plays Cognito: it sets the challenges named, in order, then signs in;
// answers records what the page sent.
function pool(challenges: ("newPassword" | "totp" | "totpSetup")[], answers: string[]): ChallengedUser {
  const next = (cb: IAuthenticationCallback) => {
    const challenge = challenges.shift();
    if (challenge === "newPassword") cb.newPasswordRequired?.({}, []);
    else if (challenge === "totp") cb.totpRequired?.("SOFTWARE_TOKEN_MFA", {});
    else if (challenge === "totpSetup") cb.mfaSetup?.("MFA_SETUP", {});
    else cb.onSuccess(session);
  };
  return {
    authenticateUser: (details: AuthenticationDetails, cb: IAuthenticationCallback) => {
      answers.push(`password ${details.getPassword()}`);
      next(cb);
    },
    completeNewPasswordChallenge: (password: string, _attrs: unknown, cb: IAuthenticationCallback) => {
      answers.push(`new password ${password}`);
      next(cb);
    },
    sendMFACode: (code: string, cb: IAuthenticationCallback, type?: string) => {
      if (code !== "123456") return cb.onFailure({ code: "CodeMismatchException" });
      answers.push(`${type} ${code}`);
      next(cb);
    },
  } as unknown as ChallengedUser;
}

async function answer(r: SignInResult, value: string, kind: SignInResult["kind"]): Promise<SignInResult> {
  assert.equal(r.kind, kind);
  assert.ok(r.kind !== "signedIn");
  return r.complete(value);
}

test("a user with an authenticator app signs in with its code after the password", async () => {
  const answers: string[] = [];
  const r = await answer(await authenticate(pool(["totp"], answers), "ada@example.com", "pw"), "123456", "totpRequired");
  assert.equal(r.kind, "signedIn");
  assert.equal(r.kind === "signedIn" && r.session.user, "ada@example.com");
  assert.deepEqual(answers, ["password pw", "SOFTWARE_TOKEN_MFA 123456"]);
});

test("a wrong code is refused in words and the same step can be answered again", async () => {
  const first = await authenticate(pool(["totp"], []), "ada@example.com", "pw");
  await assert.rejects(answer(first, "000000", "totpRequired"), /The code is not right/);
  assert.equal((await answer(first, "123456", "totpRequired")).kind, "signedIn");
});

test("a new user chooses a password, then gives the code", async () => {
  const answers: string[] = [];
  const first = await authenticate(pool(["newPassword", "totp"], answers), "ada@example.com", "temporary");
  const second = await answer(first, "Chosen-Password-1", "newPasswordRequired");
  assert.equal((await answer(second, "123456", "totpRequired")).kind, "signedIn");
  assert.deepEqual(answers, ["password temporary", "new password Chosen-Password-1", "SOFTWARE_TOKEN_MFA 123456"]);
});

test("a pool that requires an app this user has not set up says so", async () => {
  await assert.rejects(authenticate(pool(["totpSetup"], []), "ada@example.com", "pw"), /authenticator app set up/);
});
