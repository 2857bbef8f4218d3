import { useRouter } from "next/router";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { AppSecret } from "../components/AppSecret";
import { Field } from "../components/Field";
import { Layout } from "../components/Layout";
import { useAuth } from "../lib/auth";
import type { SignInResult } from "../lib/cognito";
import { safeNext } from "../lib/hooks";
import { passwordHint } from "../lib/password";
import { devToken } from "../lib/session";

const loadCognito = () => import("../lib/cognito");

export default function SignIn() {
  const { config, session, loaded, signedIn } = useAuth();
  const router = useRouter();
  const next = safeNext(router.query.next);

  useEffect(() => {
    if (loaded && session) void router.replace(next);
  }, [loaded, session, next, router]);
  useEffect(() => {
    // Fetch the sign-in library while the person types.
    if (config.signIn === "cognito") void loadCognito();
  }, [config.signIn]);

  return (
    <Layout title="Sign in">
      {router.query.expired && !session && (
        <p className="notice" role="status">
          Your session has ended. Sign in again.
        </p>
      )}
      {config.signIn === "dev" ? <DevSignIn onSignedIn={signedIn} /> : <CognitoSignIn />}
    </Layout>
  );
}

function CognitoSignIn() {
  const { config, signedIn } = useAuth();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [code, setCode] = useState("");
  // challenge is the step the pool asks for before signing in, if any.
  const [challenge, setChallenge] = useState<Exclude<SignInResult, { kind: "signedIn" }> | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const challengeInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (challenge) challengeInput.current?.focus();
  }, [challenge]);

  const settle = (r: SignInResult) => {
    if (r.kind === "signedIn") signedIn(r.session);
    else setChallenge(r);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    setError("");
    if (challenge?.kind === "newPasswordRequired" && newPassword !== confirm) {
      setError("The two new passwords differ. Type the same password twice.");
      return;
    }
    const asksCode = challenge?.kind === "totpRequired" || challenge?.kind === "totpSetupRequired";
    if (asksCode && !/^[0-9]{6}$/.test(code.trim())) {
      setError("Type the 6 digits your authenticator app shows.");
      return;
    }
    setBusy(true);
    try {
      if (challenge?.kind === "newPasswordRequired") settle(await challenge.complete(newPassword));
      else if (asksCode) settle(await challenge.complete(code.trim()));
      else settle(await (await loadCognito()).signIn(config, email.trim(), password));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  if (challenge?.kind === "totpRequired" || challenge?.kind === "totpSetupRequired") {
    const setup = challenge.kind === "totpSetupRequired";
    return (
      <form onSubmit={submit} noValidate aria-describedby="code-intro" className="narrow">
        <h2>{setup ? "Set up an authenticator app" : "Enter your code"}</h2>
        <p id="code-intro">
          {setup
            ? `Signing in here needs an authenticator app, which shows a new 6-digit code every 30 seconds. Add ${email} to yours, then type the code it shows.`
            : `Open your authenticator app and type the code it shows for ${email}.`}
        </p>
        {setup && <AppSecret app={challenge.app} />}
        {error && (
          <p className="form-error" role="alert" id="sign-in-error">
            {error}
          </p>
        )}
        <Field id="code" label="Code" hint="6 digits; a new one every 30 seconds.">
          {(p) => (
            <input
              {...p}
              ref={challengeInput}
              type="text"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={6}
              required
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
          )}
        </Field>
        <button type="submit" aria-disabled={busy}>
          {busy ? "Checking…" : setup ? "Verify and sign in" : "Sign in"}
        </button>
      </form>
    );
  }

  if (challenge) {
    return (
      <form onSubmit={submit} noValidate aria-describedby="new-password-intro" className="narrow">
        <h2>Choose a new password</h2>
        <p id="new-password-intro">
          Your account was created with a temporary password. Choose your own to finish signing in as {email}.
        </p>
        {error && (
          <p className="form-error" role="alert" id="sign-in-error">
            {error}
          </p>
        )}
        <Field id="new-password" label="New password" hint={passwordHint(config.passwordPolicy)}>
          {(p) => (
            <input
              {...p}
              ref={challengeInput}
              type="password"
              autoComplete="new-password"
              required
              value={newPassword}
              onChange={(e) => setNewPassword(e.target.value)}
            />
          )}
        </Field>
        <Field id="confirm-password" label="New password again">
          {(p) => (
            <input {...p} type="password" autoComplete="new-password" required value={confirm} onChange={(e) => setConfirm(e.target.value)} />
          )}
        </Field>
        <button type="submit" aria-disabled={busy}>
          {busy ? "Saving…" : "Set password and sign in"}
        </button>
      </form>
    );
  }

  return (
    <form onSubmit={submit} noValidate className="narrow">
      {error && (
        <p className="form-error" role="alert" id="sign-in-error">
          {error}
        </p>
      )}
      <Field id="email" label="Email">
        {(p) => (
          <input {...p} type="email" autoComplete="username" inputMode="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        )}
      </Field>
      <Field id="password" label="Password">
        {(p) => (
          <input {...p} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        )}
      </Field>
      <button type="submit" aria-disabled={busy}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
      <p className="hint">Accounts are created by an administrator. Ask yours for an invitation.</p>
    </form>
  );
}

function DevSignIn({ onSignedIn }: { onSignedIn: ReturnType<typeof useAuth>["signedIn"] }) {
  const [user, setUser] = useState("");
  const [error, setError] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const name = user.trim();
    if (!name) {
      setError("Enter a user name.");
      return;
    }
    onSignedIn({ mode: "dev", user: name, accessToken: devToken(name) });
  };
  return (
    <form onSubmit={submit} noValidate className="narrow">
      <Field
        id="dev-user"
        label="User name"
        hint="Dev sign-in: any name acts as that user against the local API. Deployed stages use real sign-in."
        error={error}
      >
        {(p) => <input {...p} type="text" autoComplete="username" required value={user} onChange={(e) => setUser(e.target.value)} />}
      </Field>
      <button type="submit">Sign in</button>
    </form>
  );
}
