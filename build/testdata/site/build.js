// A tiny static site build: copies src/ to out/, names the script after its
// content and stamps the page with the build id, as a bundler would.
const fs = require("fs");
const crypto = require("crypto");
if (fs.existsSync("src/hang")) {
  // Stands in for a bundler's worker: a child that runs until it is stopped, listening
  // on a port it writes to the file src/hang names. The build waits for it.
  const portFile = fs.readFileSync("src/hang", "utf8");
  const worker = `require("net").createServer().listen(0, "127.0.0.1", function () {
    require("fs").writeFileSync(${JSON.stringify(portFile)}, String(this.address().port));
  });`;
  require("child_process").spawn(process.execPath, ["-e", worker], { stdio: "inherit" });
  return;
}
if (fs.existsSync("src/fail")) {
  for (let i = 1; i <= 40; i++) console.log(`step ${i} of the build`);
  console.error("error: src/fail says this build fails");
  process.exit(1);
}
const script = fs.readFileSync("src/app.js");
const hash = crypto.createHash("sha256").update(script).digest("hex").slice(0, 8);
fs.mkdirSync("out/assets", { recursive: true });
fs.writeFileSync(`out/assets/app-${hash}.js`, script);
const page = fs.readFileSync("src/index.html", "utf8")
  .replace("BUILD_ID", process.env.SITE_BUILD_ID || "none")
  .replace("APP_JS", `/assets/app-${hash}.js`);
fs.writeFileSync("out/index.html", page);
