// The entry point of a Node.js execution environment, as /var/runtime/index.mjs is in AWS's images:
// AWS's runtime interface client (the aws-lambda-ric package, found in LAMBDA_RUNTIME_DIR) loads the
// handler from the task root and drives it over the Runtime API. ES modules ignore NODE_PATH, so the
// client is imported by its path, and an ES-module handler's imports fall back to the NODE_PATH
// folders (the runtime's AWS SDK, layers) through node_path.mjs, as on Lambda's Node.js 18+ runtimes.
import { existsSync, readFileSync } from "node:fs";
import module from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const task = process.env.LAMBDA_TASK_ROOT;
const handler = process.env._HANDLER;

// Whether the client will import the handler's file as an ES module: the order of its loader
// (UserFunction.js: extensionless, .js unless "type": "module", then .js as a module, .mjs, .cjs).
function loadsAsModule() {
  const name = basename(handler);
  const file = resolve(task, handler.slice(0, handler.length - name.length), name.split(".")[0]);
  if (existsSync(file)) return false;
  if (existsSync(`${file}.js`)) return typeModule(dirname(file));
  return existsSync(`${file}.mjs`);
}

function typeModule(folder) {
  if (folder.endsWith("/node_modules")) return false;
  const manifest = join(folder, "package.json");
  if (existsSync(manifest)) {
    try {
      return JSON.parse(readFileSync(manifest, "utf8"))?.type === "module";
    } catch {
      return false;
    }
  }
  return folder === dirname(folder) ? false : typeModule(dirname(folder));
}

// Only for ES modules: the hooks' loader thread costs a CommonJS handler's cold start ~50 ms for nothing
// (require() searches NODE_PATH itself).
if (process.env.NODE_PATH && module.register && loadsAsModule()) {
  module.register("./node_path.mjs", import.meta.url);
}
// --callback-host HOST ... --callback-target HOST:PORT [--callback-tls]: the emulator's callback hosts
// (see callbacks.mjs).
const argv = process.argv.slice(2);
const callbackHosts = new Set(argv.flatMap((arg, i) => (arg === "--callback-host" ? [argv[i + 1]] : [])));
const callbackTarget = argv[argv.indexOf("--callback-target") + 1];
if (callbackHosts.size && argv.includes("--callback-target")) {
  const { redirect } = await import("./callbacks.mjs");
  redirect(callbackHosts, callbackTarget, { tls: argv.includes("--callback-tls") });
}
const client = join(process.env.LAMBDA_RUNTIME_DIR, "node_modules", "aws-lambda-ric", "dist", "index.mjs");
const { run } = await import(pathToFileURL(client).href);
await run(task, handler);
