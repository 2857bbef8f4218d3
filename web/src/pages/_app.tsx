import type { AppProps } from "next/app";
import Head from "next/head";
import { useEffect, useState } from "react";
import { AuthProvider } from "../lib/auth";
import { ConfigError, configPath, loadConfig, type SiteConfig } from "../lib/config";
import "../styles/globals.css";

type Loaded = { config: SiteConfig } | { error: string } | null;

// App reads the stage's config.json before anything else: the build holds no
// stage values. Without a valid config it shows why instead of a broken page.
export default function App({ Component, pageProps }: AppProps) {
  const [loaded, setLoaded] = useState<Loaded>(null);
  useEffect(() => {
    loadConfig().then(
      (config) => setLoaded({ config }),
      (err) => setLoaded({ error: err instanceof ConfigError ? err.message : String(err) }),
    );
  }, []);

  return (
    <>
      <Head>
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Personas</title>
      </Head>
      {loaded === null && (
        <main id="main" className="loading" aria-busy="true">
          <p>Loading…</p>
        </main>
      )}
      {loaded && "error" in loaded && <ConfigProblem message={loaded.error} />}
      {loaded && "config" in loaded && (
        <AuthProvider config={loaded.config}>
          <Component {...pageProps} />
        </AuthProvider>
      )}
    </>
  );
}

function ConfigProblem({ message }: { message: string }) {
  return (
    <main id="main" className="config-problem">
      <h1>This site is not configured</h1>
      <p role="alert">{message}</p>
      <p>
        The page reads its stage&apos;s settings from <code>{configPath}</code>, which the stack writes beside the
        site when it deploys (and dev mode serves). Deploy the stage again, or ask whoever runs it.
      </p>
    </main>
  );
}
