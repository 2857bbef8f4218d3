import Link from "next/link";
import { useEffect, useState } from "react";
import { Layout } from "../components/Layout";
import { inFlight, StatusBadge } from "../components/StatusBadge";
import type { Persona } from "../lib/api";
import { errorText, when } from "../lib/format";
import { useClient, useSignedIn } from "../lib/hooks";
import { usePoll } from "../lib/poll";

// The caller's personas, newest first, a page of 20 at a time. Personas still
// being provisioned are read again (GET /personas/{id}) until they are ready or
// failed; each change is announced.
export default function Personas() {
  const signedIn = useSignedIn();
  const api = useClient();
  const [personas, setPersonas] = useState<Persona[] | null>(null);
  const [nextToken, setNextToken] = useState<string>();
  const [error, setError] = useState("");
  const [loadingMore, setLoadingMore] = useState(false);
  const [announcement, setAnnouncement] = useState("");

  useEffect(() => {
    if (!signedIn) return;
    let cancelled = false;
    api.list().then(
      (page) => {
        if (cancelled) return;
        setPersonas(page.personas);
        setNextToken(page.nextToken);
      },
      (err) => !cancelled && setError(errorText(err)),
    );
    return () => {
      cancelled = true;
    };
  }, [signedIn, api]);

  const loadMore = async () => {
    if (!nextToken || loadingMore) return;
    setLoadingMore(true);
    try {
      const page = await api.list(nextToken);
      // A persona requested meanwhile shifts the pages: keep each id once.
      setPersonas((have) => {
        const seen = new Set((have ?? []).map((p) => p.id));
        return [...(have ?? []), ...page.personas.filter((p) => !seen.has(p.id))];
      });
      setNextToken(page.nextToken);
      setError("");
    } catch (err) {
      setError(errorText(err));
    } finally {
      setLoadingMore(false);
    }
  };

  const pending = (personas ?? []).filter((p) => inFlight(p.status));
  const refresh = async () => {
    try {
      const fresh = await Promise.all(pending.map((p) => api.get(p.id)));
      setError("");
      const moved = fresh.filter((f, i) => f.status !== pending[i].status);
      if (moved.length === 0) return false;
      const byId = new Map(moved.map((p) => [p.id, p]));
      setPersonas((have) => (have ?? []).map((p) => byId.get(p.id) ?? p));
      setAnnouncement(moved.map((p) => `${p.name} is ${p.status}.`).join(" "));
      return true;
    } catch (err) {
      setError(errorText(err));
      return false;
    }
  };
  usePoll(pending.length > 0, refresh);

  return (
    <Layout title="Your personas">
      <p className="actions">
        <Link href="/new" className="button">
          Request a persona
        </Link>
      </p>
      <div aria-live="polite" className="visually-hidden">
        {announcement}
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {personas === null && !error && <p aria-busy="true">Loading your personas…</p>}
      {personas?.length === 0 && (
        <p>
          You have no personas yet. <Link href="/new">Request your first one</Link>.
        </p>
      )}
      {personas && personas.length > 0 && (
        <ul className="persona-list" aria-label="Personas, newest first">
          {personas.map((p) => (
            <li key={p.id}>
              <Link href={`/persona?id=${p.id}`} className="persona-name">
                {p.name}
              </Link>
              <StatusBadge status={p.status} />
              {p.description && <p className="description">{p.description}</p>}
              <p className="meta">
                Requested <time dateTime={p.createdAt}>{when(p.createdAt)}</time>
                {p.status === "failed" && p.statusReason && <> · {p.statusReason}</>}
              </p>
            </li>
          ))}
        </ul>
      )}
      {nextToken && (
        <button type="button" className="secondary" onClick={loadMore} aria-disabled={loadingMore}>
          {loadingMore ? "Loading…" : "Show older personas"}
        </button>
      )}
    </Layout>
  );
}

