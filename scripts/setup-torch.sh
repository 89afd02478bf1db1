#!/usr/bin/env bash
# Installs Debian's PyTorch (python3-torch), which the PyTorch parity and
# exported-project tests run against. Idempotent: a second run only checks.
# Without root or apt the tests that need torch are skipped, and say so.
set -euo pipefail
if /usr/bin/python3 -c 'import torch' 2>/dev/null && command -v torchrun >/dev/null; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "[setup-torch] python3-torch is not installed and cannot be installed here (needs root and apt): the PyTorch tests will be skipped"
  exit 0
fi
echo "[setup-torch] apt-get install python3-torch"
t0=$(date +%s)
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
echo "[setup-torch] installed in $(( $(date +%s) - t0 ))s: $(/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)')"
