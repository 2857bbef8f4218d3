import { useEffect, useRef, useState, type FormEvent } from "react";
import { AppSecret } from "../components/AppSecret";
import { Field } from "../components/Field";
import { Layout } from "../components/Layout";
import { useAuth } from "../lib/auth";
import type { AppSetup } from "../lib/cognito";
import { errorText } from "../lib/format";
import { useSignedIn } from "../lib/hooks";
import { readSession } from "../lib/session";

const loadCognito = () => import("../lib/cognito");

type Step = { kind: "starting" } | { kind: "failed"; message: string } | AppSetup;

// Set up an authenticator app (/authenticator) for the signed-in account: Cognito
// gives a new secret, the person adds it to their app and types one code the app
// shows, and TOTP is turned on, so every sign-in after asks for a code. Setting up
// again replaces the app set up before.
export default function Authenticator() {
  const signedIn = useSignedIn();
  const { config, session, token } = useAuth();
  const [step, setStep] = useState<Step>({ kind: "starting" });
  const [code, setCode] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const codeInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!signedIn || config.signIn !== "cognito") return;
    let live = true;
    (async () => {
      // A fresh token first: Cognito refuses one about to expire.
      await token();
      const fresh = readSession(config);
      if (!fresh) throw new Error("Your session has ended. Sign in again.");
      return (await loadCognito()).setUpApp(config, fresh);
    })().then(
      (s) => live && setStep(s),
      (err) => live && setStep({ kind: "failed", message: errorText(err) }),
    );
    return () => {
      live = false;
    };
  }, [signedIn, config, token]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy || step.kind !== "scan") return;
    setError("");
    if (!/^[0-9]{6}$/.test(code.trim())) {
      setError("Type the 6 digits your authenticator app shows.");
      codeInput.current?.focus();
      return;
    }
    setBusy(true);
    try {
      setStep(await step.verify(code.trim()));
    } catch (err) {
      setError(errorText(err));
      codeInput.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  let body;
  if (!signedIn) body = null;
  else if (config.signIn !== "cognito") body = <p className="notice">Dev sign-in mode has no passwords and no second factor.</p>;
  else if (step.kind === "starting") body = <p aria-busy="true">Asking Cognito for a new key…</p>;
  else if (step.kind === "failed")
    body = (
      <p className="form-error" role="alert" id="setup-error">
        {step.message}
      </p>
    );
  else if (step.kind === "enabled")
    body = (
      <p className="notice" role="status" id="setup-done">
        Your authenticator app is set up. From now on, signing in asks for the code it shows.
      </p>
    );
  else
    body = (
      <form onSubmit={submit} noValidate className="narrow">
        <p>
          An authenticator app (such as Google Authenticator, Microsoft Authenticator or 1Password) shows a new 6-digit
          code every 30 seconds. Once it is set up, signing in as {session?.user} asks for that code after
          the password.
        </p>
        <AppSecret app={step.app} />
        {error && (
          <p className="form-error" role="alert" id="setup-error">
            {error}
          </p>
        )}
        <Field id="code" label="Code" hint="The 6 digits the app shows for this account now.">
          {(p) => (
            <input
              {...p}
              ref={codeInput}
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
          {busy ? "Checking…" : "Verify and turn on"}
        </button>
      </form>
    );
  return <Layout title="Set up an authenticator app">{body}</Layout>;
}
