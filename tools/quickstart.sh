#!/usr/bin/env bash
# `npm run quickstart`: install what is missing, build the libraries and run the demo of what
# Agola-TS can do so far, ending with `agola serve` (embedded etcd, posix storage, local executor)
# running examples/hello.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/lib/setup.sh

install_system_packages
tree_before_install=$(tree_state)
install_npm_packages
check_tree_unchanged "$tree_before_install" || echo "(continuing: the demo does not depend on it)"
echo "==> building libraries"
log=$(mktemp)
if ! npx nx run-many -t build --outputStyle=static --parallel=2 >"$log" 2>&1; then
  cat "$log"
  echo "build failed"
  exit 1
fi
rm -f "$log"
echo "==> demo"
exec node tools/quickstart/demo.mjs
