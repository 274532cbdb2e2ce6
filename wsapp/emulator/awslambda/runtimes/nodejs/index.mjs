// The entry point of a Node.js execution environment, as /var/runtime/index.mjs is in AWS's images:
// AWS's runtime interface client (the aws-lambda-ric package, found in LAMBDA_RUNTIME_DIR) loads the
// handler from the task root and drives it over the Runtime API. ES modules ignore NODE_PATH, so the
// client is imported by its path.
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const client = join(process.env.LAMBDA_RUNTIME_DIR, "node_modules", "aws-lambda-ric", "dist", "index.mjs");
const { run } = await import(pathToFileURL(client).href);
await run(process.env.LAMBDA_TASK_ROOT, process.env._HANDLER);
