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
import { authenticate, enrollApp, otpauthURI, type AppSetup, type AppUser, type ChallengedUser, type SignInResult } from "./cognito";

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

// secret is the one the fakes below give for an authenticator app.
const secret = "JBSWY3DPEHPK3PXP";

// pool plays Cognito: it sets the challenges named, in order, then signs in;
// answers records what the page sent. Its only right code is 123456.
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
    associateSoftwareToken: (cb: { associateSecretCode: (s: string) => void }) => {
      answers.push("associate");
      cb.associateSecretCode(secret);
    },
    verifySoftwareToken: (code: string, _device: string, cb: IAuthenticationCallback) => {
      if (code !== "123456") return cb.onFailure({ code: "CodeMismatchException" });
      answers.push(`verify ${code}`);
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
  const r = await answer(await authenticate(pool(["totp"], answers), "ada@example.com", "pw", "Personas (test)"), "123456", "totpRequired");
  assert.equal(r.kind, "signedIn");
  assert.equal(r.kind === "signedIn" && r.session.user, "ada@example.com");
  assert.deepEqual(answers, ["password pw", "SOFTWARE_TOKEN_MFA 123456"]);
});

test("a wrong code is refused in words and the same step can be answered again", async () => {
  const first = await authenticate(pool(["totp"], []), "ada@example.com", "pw", "Personas (test)");
  await assert.rejects(answer(first, "000000", "totpRequired"), /The code is not right/);
  assert.equal((await answer(first, "123456", "totpRequired")).kind, "signedIn");
});

test("a new user chooses a password, then gives the code", async () => {
  const answers: string[] = [];
  const first = await authenticate(pool(["newPassword", "totp"], answers), "ada@example.com", "temporary", "Personas (test)");
  const second = await answer(first, "Chosen-Password-1", "newPasswordRequired");
  assert.equal((await answer(second, "123456", "totpRequired")).kind, "signedIn");
  assert.deepEqual(answers, ["password temporary", "new password Chosen-Password-1", "SOFTWARE_TOKEN_MFA 123456"]);
});

test("a pool that requires an app has a user without one set it up, then signs them in with its code", async () => {
  const answers: string[] = [];
  const setup = await authenticate(pool(["totpSetup"], answers), "ada@example.com", "pw", "Personas (test)");
  assert.equal(setup.kind, "totpSetupRequired");
  assert.ok(setup.kind === "totpSetupRequired");
  assert.equal(setup.app.secret, secret);
  assert.equal(setup.app.uri, `otpauth://totp/Personas%20(test):ada%40example.com?secret=${secret}&issuer=Personas%20(test)`);
  await assert.rejects(setup.complete("000000"), /The code is not right/);
  assert.equal((await setup.complete("123456")).kind, "signedIn");
  assert.deepEqual(answers, ["password pw", "associate", "verify 123456"]);
});

test("a new user on such a pool chooses a password, then sets up the app", async () => {
  const answers: string[] = [];
  const first = await authenticate(pool(["newPassword", "totpSetup"], answers), "ada@example.com", "temporary", "Personas (test)");
  const second = await answer(first, "Chosen-Password-1", "newPasswordRequired");
  assert.equal((await answer(second, "123456", "totpSetupRequired")).kind, "signedIn");
  assert.deepEqual(answers, ["password temporary", "new password Chosen-Password-1", "associate", "verify 123456"]);
});

// signedInUser plays a signed-in user's Cognito for setting up an app: offered says
// whether the pool offers TOTP, preference whether setting it on succeeds; calls
// records what the page asked.
function signedInUser(calls: string[], { offered = true, preference = true } = {}): AppUser {
  return {
    associateSoftwareToken: (cb: { associateSecretCode: (s: string) => void; onFailure: (e: unknown) => void }) => {
      calls.push("associate");
      if (!offered) return cb.onFailure({ code: "SoftwareTokenMFANotFoundException" });
      cb.associateSecretCode(secret);
    },
    verifySoftwareToken: (code: string, device: string, cb: { onSuccess: () => void; onFailure: (e: unknown) => void }) => {
      calls.push(`verify ${code} as ${device}`);
      if (code !== "123456") return cb.onFailure({ code: "EnableSoftwareTokenMFAException" });
      cb.onSuccess();
    },
    setUserMfaPreference: (sms: unknown, totp: unknown, cb: (err: unknown, result?: string) => void) => {
      calls.push(`preference sms=${JSON.stringify(sms)} totp=${JSON.stringify(totp)}`);
      if (!preference) return cb({ code: "InvalidParameterException", message: "User has not verified software token mfa" });
      cb(null, "SUCCESS");
    },
  } as unknown as AppUser;
}

async function scan(setup: Promise<AppSetup>): Promise<Extract<AppSetup, { kind: "scan" }>> {
  const s = await setup;
  assert.equal(s.kind, "scan");
  return s as Extract<AppSetup, { kind: "scan" }>;
}

test("a signed-in user sets up an app: its secret, one code, then TOTP is on and preferred", async () => {
  const calls: string[] = [];
  const s = await scan(enrollApp(signedInUser(calls), "ada@example.com", "Personas (prod)"));
  assert.equal(s.app.secret, secret);
  assert.equal(s.app.uri, otpauthURI(secret, "ada@example.com", "Personas (prod)"));
  assert.deepEqual(await s.verify("123456"), { kind: "enabled" });
  assert.deepEqual(calls, [
    "associate",
    "verify 123456 as Authenticator app",
    'preference sms=null totp={"PreferredMfa":true,"Enabled":true}',
  ]);
});

test("a wrong code turns nothing on and the same secret can be verified again", async () => {
  const calls: string[] = [];
  const s = await scan(enrollApp(signedInUser(calls), "ada@example.com", "Personas (prod)"));
  await assert.rejects(s.verify("654321"), /The code is not right/);
  assert.ok(!calls.some((c) => c.startsWith("preference")), "TOTP was turned on after a wrong code");
  assert.deepEqual(await s.verify("123456"), { kind: "enabled" });
  assert.equal(calls.filter((c) => c === "associate").length, 1);
});

test("a stage whose pool offers no authenticator apps says so", async () => {
  await assert.rejects(enrollApp(signedInUser([], { offered: false }), "ada@example.com", "Personas (dev)"), /does not offer authenticator apps/);
});

test("a verified app that Cognito would not turn on is reported, not called done", async () => {
  const s = await scan(enrollApp(signedInUser([], { preference: false }), "ada@example.com", "Personas (prod)"));
  await assert.rejects(s.verify("123456"), /User has not verified software token mfa/);
});

test("the otpauth URI escapes the account and the issuer", () => {
  assert.equal(
    otpauthURI("ABC", "a+b@example.com", "Personas (a/b)"),
    "otpauth://totp/Personas%20(a%2Fb):a%2Bb%40example.com?secret=ABC&issuer=Personas%20(a%2Fb)",
  );
});
