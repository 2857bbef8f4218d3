import Link from "next/link";
import { useRouter } from "next/router";
import { useEffect, useRef, type ReactNode } from "react";
import { useAuth } from "../lib/auth";

// Layout is every page's frame: a skip link, the header with navigation and
// sign-out, the dev sign-in notice, and the page's heading, which takes focus
// after a client-side navigation so screen readers announce the new page.
export function Layout({ title, children }: { title: string; children: ReactNode }) {
  const { config, session, signOut } = useAuth();
  const router = useRouter();
  const heading = useRef<HTMLHeadingElement>(null);
  const first = useRef(true);

  useEffect(() => {
    document.title = `${title} · Personas`;
  }, [title]);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    heading.current?.focus();
  }, [router.asPath]);

  const current = (path: string) => (router.pathname === path ? "page" : undefined);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      {config.signIn === "dev" && (
        <p className="dev-banner" role="note">
          Dev sign-in mode: no password, unsigned tokens that only the local dev API accepts.
        </p>
      )}
      <header className="site-header">
        <Link href="/" className="brand">
          Personas
        </Link>
        {session && (
          <nav aria-label="Main">
            <ul>
              <li>
                <Link href="/" aria-current={current("/")}>
                  Your personas
                </Link>
              </li>
              <li>
                <Link href="/new" aria-current={current("/new")}>
                  Request a persona
                </Link>
              </li>
            </ul>
          </nav>
        )}
        {session && (
          <div className="account">
            <span className="who" title={session.user}>
              {session.user}
            </span>
            {config.signIn === "cognito" && (
              <Link href="/authenticator" aria-current={current("/authenticator")}>
                Authenticator app
              </Link>
            )}
            <button
              type="button"
              className="secondary"
              onClick={() => {
                signOut();
                void router.push("/sign-in");
              }}
            >
              Sign out
            </button>
          </div>
        )}
      </header>
      <main id="main">
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {children}
      </main>
      <footer className="site-footer">Stage {config.stage}</footer>
    </>
  );
}
