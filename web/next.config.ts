import type { NextConfig } from "next";
import { PHASE_DEVELOPMENT_SERVER } from "next/constants";
import path from "node:path";

// A static export with no stage values in it: the page reads /config.json at
// start, so one build serves every stage.
const config: NextConfig = {
  output: "export",
  // /personas is written as personas.html; the host rewrites clean URLs to it.
  trailingSlash: false,
  reactStrictMode: true,
  poweredByHeader: false,
  images: { unoptimized: true },
  // The QR code encoder (loaded by the authenticator app's setup only) is compiled as
  // the app's own code: as a package of ES modules, Turbopack would put its support for
  // asynchronous modules, 0.4 KiB gzipped, into the runtime every page loads first.
  transpilePackages: ["uqr"],
  // web/ is its own project, beside the repository's root package.json.
  turbopack: { root: path.join(__dirname) },
  // The site builder passes a fingerprint of the sources, so the same sources give
  // the same files (the build id is part of asset paths and of every page).
  generateBuildId: async () => process.env.SITE_BUILD_ID || null,
};

// The dev server (npm run dev) has no config.json of its own: it answers
// /config.json with the one served at CONFIG_ORIGIN, by default the dev mode's web
// app (go run . dev), or a deployed stage's WebUrl. Builds are left as they are.
export default function nextConfig(phase: string): NextConfig {
  if (phase !== PHASE_DEVELOPMENT_SERVER) {
    return config;
  }
  const origin = (process.env.CONFIG_ORIGIN || "http://127.0.0.1:3002").replace(/\/+$/, "");
  return { ...config, rewrites: async () => [{ source: "/config.json", destination: `${origin}/config.json` }] };
}
