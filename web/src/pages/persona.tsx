import Link from "next/link";
import { useRouter } from "next/router";
import { useEffect, useState } from "react";
import { Layout } from "../components/Layout";
import { inFlight, StatusBadge } from "../components/StatusBadge";
import { ApiError, personaIdPattern, type Persona } from "../lib/api";
import { errorText, when } from "../lib/format";
import { useClient, useSignedIn } from "../lib/hooks";
import { usePoll } from "../lib/poll";
import { defaultTemperature } from "../lib/rules";

// One persona (/persona?id=<id>), read again until it is ready or failed; its
// agent profile once ready.
export default function PersonaPage() {
  const signedIn = useSignedIn();
  const api = useClient();
  const router = useRouter();
  const id = typeof router.query.id === "string" ? router.query.id : "";
  const [persona, setPersona] = useState<Persona | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState("");

  useEffect(() => {
    if (!signedIn || !router.isReady) return;
    setPersona(null);
    setError("");
    // The API answers 404 for a malformed id too; no need to ask it.
    if (!personaIdPattern.test(id)) {
      setMissing(true);
      return;
    }
    setMissing(false);
    let cancelled = false;
    api.get(id).then(
      (p) => !cancelled && setPersona(p),
      (err) => {
        if (cancelled) return;
        if (err instanceof ApiError && err.status === 404) setMissing(true);
        else setError(errorText(err));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [signedIn, router.isReady, id, api]);

  usePoll(persona !== null && inFlight(persona.status), async () => {
    try {
      const fresh = await api.get(id);
      setError("");
      const changed = fresh.status !== persona?.status;
      setPersona(fresh);
      return changed;
    } catch (err) {
      setError(errorText(err));
      return false;
    }
  });

  const title = persona ? persona.name : missing ? "Persona not found" : "Persona";
  return (
    <Layout title={title}>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {missing && (
        <p>
          You have no persona with this id. <Link href="/">See your personas</Link>.
        </p>
      )}
      {!persona && !missing && !error && <p aria-busy="true">Loading…</p>}
      {persona && (
        <>
          <p className="status-line" aria-live="polite">
            Status: <StatusBadge status={persona.status} />
            {inFlight(persona.status) && <span className="hint"> This page updates by itself.</span>}
          </p>
          {persona.status === "failed" && persona.statusReason && (
            <p className="form-error">Provisioning failed: {persona.statusReason}</p>
          )}
          <dl className="details">
            {persona.description && (
              <>
                <dt>Description</dt>
                <dd>{persona.description}</dd>
              </>
            )}
            <dt>Instructions</dt>
            <dd className="pre">{persona.instructions}</dd>
            <dt>Model</dt>
            <dd>{persona.model || "the runtime's default"}</dd>
            <dt>Temperature</dt>
            <dd>{persona.temperature ?? `${defaultTemperature} (default)`}</dd>
            <dt>Tools</dt>
            <dd>{persona.tools?.length ? persona.tools.join(", ") : "none"}</dd>
            <dt>Requested</dt>
            <dd>
              <time dateTime={persona.createdAt}>{when(persona.createdAt)}</time>
            </dd>
            <dt>Id</dt>
            <dd>
              <code>{persona.id}</code>
            </dd>
          </dl>
          {persona.profile && (
            <section aria-labelledby="profile-heading">
              <h2 id="profile-heading">Agent profile</h2>
              <dl className="details">
                <dt>System prompt</dt>
                <dd className="pre">{persona.profile.systemPrompt}</dd>
                <dt>Model</dt>
                <dd>{persona.profile.model}</dd>
                <dt>Temperature</dt>
                <dd>{persona.profile.temperature}</dd>
                <dt>Tools</dt>
                <dd>{persona.profile.tools?.length ? persona.profile.tools.join(", ") : "none"}</dd>
                <dt>Issued</dt>
                <dd>
                  <time dateTime={persona.profile.issuedAt}>{when(persona.profile.issuedAt)}</time>
                </dd>
                <dt>Signature</dt>
                <dd>
                  <code className="wrap">{persona.profile.signature}</code>
                </dd>
              </dl>
              <details>
                <summary>Profile as JSON</summary>
                <pre className="json">{JSON.stringify(persona.profile, null, 2)}</pre>
              </details>
            </section>
          )}
        </>
      )}
      <p>
        <Link href="/">Back to your personas</Link>
      </p>
    </Layout>
  );
}
