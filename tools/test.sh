#!/usr/bin/env bash
# `npm test`: install what is missing, then lint, typecheck, build, test and docs.
# Ends with one line "N passed, N failed": tests passed, and tests failed plus failed steps.
set -uo pipefail
cd "$(dirname "$0")/.."
source tools/lib/setup.sh

declare -a STEP_NAMES=() STEP_RESULTS=()
failed_steps=0

step() {
  local name="$1"
  shift
  echo
  echo "==> $name"
  local start=$SECONDS
  if "$@"; then
    STEP_RESULTS+=("ok     $name ($((SECONDS - start)) s)")
  else
    STEP_RESULTS+=("FAILED $name ($((SECONDS - start)) s)")
    failed_steps=$((failed_steps + 1))
  fi
}

nx_all() {
  npx nx run-many -t "$1" --outputStyle=static --parallel=2 "${@:2}"
}

run_tests() {
  find libs apps tools -name .vitest-report.json -not -path '*/node_modules/*' -delete 2>/dev/null
  nx_all test -- --reporter=default --reporter=json --outputFile.json=.vitest-report.json
}

step "install system packages" install_system_packages
tree_before_install=$(tree_state)
step "install npm packages" install_npm_packages
if [ "$failed_steps" -gt 0 ]; then
  echo "installation failed; nothing else can run"
  echo "0 passed, $failed_steps failed"
  exit 1
fi
step "install left the tree clean" check_tree_unchanged "$tree_before_install"
step "format" npx prettier --check . --log-level warn
step "lint" nx_all lint
step "typecheck" nx_all typecheck
step "build" nx_all build
step "test" run_tests
step "docs" npm run docs --silent

echo
echo "==> summary"
printf '  %s\n' "${STEP_RESULTS[@]}"
node tools/test-summary.mjs "$failed_steps"
