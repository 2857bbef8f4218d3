package web

import "github.com/personabackend/app/build"

// Site is how this folder builds: npm ci (when the lockfile is newer than the
// installed packages), then next build, which exports the static site to out/.
// The build names itself by the sources' fingerprint (next.config.ts reads
// build.BuildIDEnv), so the same sources give the same files.
var Site = build.Site{
	Name:      "web",
	Dir:       "web",
	Install:   []string{"npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"},
	Installed: "node_modules/.package-lock.json",
	Lockfile:  "package-lock.json",
	Build:     []string{"npm", "run", "build"},
	Env:       []string{"NEXT_TELEMETRY_DISABLED=1"},
	Output:    "out",
	// What next build reads. The rest of web/ (this Go package, its tests, e2e/,
	// testdata/, the README) changes no build, so editing it costs make synth nothing.
	Sources: []string{"src", "package.json", "package-lock.json", "next.config.ts", "tsconfig.json", "next-env.d.ts"},
	Ignore:  []string{"node_modules", ".next", ".test-build"},
}
