import type { NextConfig } from "next";
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
  // web/ is its own project, beside the repository's root package.json.
  turbopack: { root: path.join(__dirname) },
  // The site builder passes a fingerprint of the sources, so the same sources give
  // the same files (the build id is part of asset paths and of every page).
  generateBuildId: async () => process.env.SITE_BUILD_ID || null,
};

export default config;
