# Shared by tools/test.sh and tools/quickstart.sh (sourced): environment and installs.
# Everything the project needs on a fresh Debian machine with Node 20 is installed here.

export CI="${CI:-true}"
export NX_NO_CLOUD=true NX_DAEMON=false NX_TUI=false NX_SKIP_NX_CACHE="${NX_SKIP_NX_CACHE:-false}"
# The AWS SDK warns on every client that future versions need node >= 22.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

# Debian packages: etcd (datamanager, tests), sqlite headers (the sqlite3 addon builds against
# them: 20 s instead of 2 min), git (executor, gitserver, tests), jsonnet (runconfig), and the
# container runtime of the executor's docker-driver tests: podman (its Docker-compatible API
# socket, `podman system service`; it pulls conmon and containers-common), runc (crun fails on
# these VMs: no CAP_SYS_RESOURCE for its rlimits, hybrid cgroups) and busybox-static (the testkit
# builds a local busybox image from it: no registry is reachable), and the browser of the web UI's
# tests: Debian's chromium, driven by playwright-core (no browser download is possible), with
# fonts (without them screenshots show no text), and zsh (the CLI test checks `agola completion zsh` with `zsh -n`).
AGOLA_APT_PACKAGES="etcd-server libsqlite3-dev git jsonnet podman runc busybox-static chromium fonts-liberation fonts-dejavu-core zsh"

install_system_packages() {
  local missing=()
  for pkg in $AGOLA_APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_npm_packages() {
  # Not `npm ci`: the registry mirror here lacks some optional platform packages that the
  # lockfile lists, and npm ci refuses that; npm install installs exactly the lockfile.
  # GYP_DEFINES makes the sqlite3 addon build against Debian's libsqlite3 (installed above):
  # 20 s instead of 2 min. It is read by gyp, not npm, so no npm command warns about an
  # unknown config key (as `sqlite=/usr` in .npmrc did). Without it (a plain `npm install`)
  # the addon builds its bundled SQLite.
  echo "==> npm install"
  GYP_DEFINES="sqlite=/usr${GYP_DEFINES:+ $GYP_DEFINES}" npm install --no-audit --no-fund --loglevel=error
}

# What git sees of the working tree: changed paths and a digest of their content ('' outside
# a git checkout).
tree_state() {
  git rev-parse --is-inside-work-tree >/dev/null 2>&1 || return 0
  git status --porcelain=v1 --untracked-files=all
  git diff --no-ext-diff | sha256sum
}

# npm install must leave the tree as it found it: a lockfile that npm rewrites (or any file an
# install step writes) means the committed state is not what a fresh clone installs.
# Usage: before=$(tree_state); install_npm_packages; check_tree_unchanged "$before"
check_tree_unchanged() {
  local after
  after=$(tree_state)
  [ "$1" = "$after" ] && return 0
  echo "ERROR: npm install changed the working tree; a fresh clone would be left dirty:"
  git status --short
  git diff --stat
  echo "Commit the package-lock.json that npm install writes (run it, check 'git diff', commit)."
  return 1
}
