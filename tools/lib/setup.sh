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
# builds a local busybox image from it: no registry is reachable).
AGOLA_APT_PACKAGES="etcd-server libsqlite3-dev git jsonnet podman runc busybox-static"

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
  echo "==> npm install"
  npm install --no-audit --no-fund --loglevel=error
}
