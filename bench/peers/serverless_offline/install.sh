#!/usr/bin/env bash
# Install serverless-offline (the benchmark peer) into a folder git ignores, from the pinned lock file.
#
#   bash bench/peers/serverless_offline/install.sh [TARGET]   # default: .wsapp/bench-peers/serverless_offline
#
# Serverless Framework v3 (3.40.0), not v4: v4 asks for a login or a licence key before any command,
# v3 runs fully offline without an account. serverless-offline 13.9.0 is the last line for v3 (14.x
# needs serverless ^4). @aws-sdk/client-apigatewaymanagementapi is for the Node.js handler.
# `npm ci` installs exactly package-lock.json; --ignore-scripts skips the packages' postinstall
# banners (nothing is built). The service files are copied next to node_modules, since Serverless
# loads its plugins from the service's own folder. A stamp with the lock file's hash makes a second
# run a no-op; bench/run.py runs this on first use.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
target="${1:-$root/.wsapp/bench-peers/serverless_offline}"

command -v npm >/dev/null || { echo "npm is not installed" >&2; exit 3; }
command -v node >/dev/null || { echo "node is not installed" >&2; exit 3; }

mkdir -p "$target"
stamp="$target/.installed"
digest="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
cp "$here/package.json" "$here/package-lock.json" "$here"/serverless.*.yml "$here"/handler.py \
   "$here"/handler_node.mjs "$target/"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$digest" && -d "$target/node_modules" ]]; then
  exit 0
fi
rm -f "$stamp"
cd "$target"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
echo "$digest" > "$stamp"
