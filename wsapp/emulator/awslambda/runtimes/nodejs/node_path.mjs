// ES-module imports that also search NODE_PATH, as Lambda's Node.js 18+ runtimes do.
//
// Node itself searches NODE_PATH only for require(); an `import "@aws-sdk/client-s3"` from /var/task
// looks in node_modules folders above the importing file and nowhere else. AWS's runtimes fall back to
// the NODE_PATH folders (the runtime's SDK in /var/runtime/node_modules, layers in /opt/nodejs/...) for
// ES modules as well [DOC: "The Node.js 18.x runtime for Lambda searches the folders listed in NODE_PATH
// when loading ES modules"]. This resolve hook does the same, and only when Node's own resolution
// failed: a package of the function's own node_modules always wins, and nothing of the user's code or
// folders changes.
//
// A NODE_PATH folder named node_modules is searched with Node's ES-module rules (package.json
// "exports" with the "import" condition, as a package found there by walking up would be); any other
// folder (the task root, the runtime folder) holds plain files, found the way require() finds them.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const FOLDERS = (process.env.NODE_PATH || "").split(":").filter(Boolean);

function bare(specifier) {
  return !/^(\.{0,2}\/|[a-zA-Z][a-zA-Z0-9+.-]*:)/.test(specifier);
}

function packageName(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

// Where to resolve `specifier` from instead, or a resolved file URL; undefined when no folder has it.
function fallback(specifier, context) {
  const name = packageName(specifier);
  for (const folder of FOLDERS) {
    if (basename(folder) === "node_modules") {
      if (existsSync(join(folder, name))) {
        // Resolved as if imported by a file next to this node_modules folder.
        return { context: { ...context, parentURL: pathToFileURL(join(dirname(folder), "_")).href } };
      }
      continue;
    }
    try {
      const file = createRequire(join(folder, "_")).resolve(`./${specifier}`);
      return { url: pathToFileURL(file).href };
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

function missing(error, specifier) {
  return error?.code === "ERR_MODULE_NOT_FOUND" && bare(specifier);
}

// Registered with module.register (Node 20.6+): runs on the loader thread.
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const found = missing(error, specifier) ? fallback(specifier, context) : undefined;
    if (found === undefined) throw error;
    return found.url ? { url: found.url, shortCircuit: true } : nextResolve(specifier, found.context);
  }
}
