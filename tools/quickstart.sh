#!/usr/bin/env bash
# `npm run quickstart`: install what is missing, build the libraries and the `agola` app, start
# `agola serve` (embedded etcd, posix storage, local executor, git server), run examples/hello
# as a direct run, and keep serving until Ctrl-C (`npm run quickstart -- --exit`, CI=true or no
# terminal: exit after the run, 0 if it succeeded).
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
echo "==> agola serve + examples/hello as a direct run"
exec node tools/quickstart/quickstart.mjs "$@"
