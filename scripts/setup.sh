#!/usr/bin/env bash
# Sets alpha-dpo up on this machine: libtorch, npm dependencies, the native addon and the
# TypeScript build. Idempotent: each step is skipped when already done.
#   bash scripts/setup.sh            # libtorch (apt, as root on Debian/Ubuntu) + npm ci + build
#   bash scripts/setup.sh --peer     # also PyTorch for Python (python3-torch), the benchmarks' peer
#   bash scripts/setup.sh --dev      # also Debian's chromium, for the dashboard's browser tests
# LIBTORCH=/path/to/libtorch uses that libtorch instead of the system's (see the README).
set -euo pipefail
cd "$(dirname "$0")/.."

want_peer=0
want_dev=0
for arg in "$@"; do
  case "$arg" in
    --peer) want_peer=1 ;;
    --dev) want_dev=1 ;;
    *) echo "setup.sh: unknown option $arg (known: --peer, --dev)" >&2; exit 2 ;;
  esac
done

apt_install() {
  if [ -f /etc/debian_version ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "$@"
    return 0
  fi
  return 1
}

# 1. libtorch
if node scripts/find-libtorch.mjs >/dev/null 2>&1; then
  echo "setup: libtorch found: $(node scripts/find-libtorch.mjs | node -e 'const i=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(i.version, "(" + i.source + ", " + i.libdir + ")")')"
elif [ -n "${LIBTORCH:-}" ]; then
  node scripts/find-libtorch.mjs >&2 || true
  exit 1
elif ! apt_install libtorch-dev libopenblas0-pthread; then
  cat >&2 <<'MSG'
setup: libtorch (PyTorch's C++ library, 1.13 or 2.x) is missing and cannot be installed automatically here
(that needs Debian/Ubuntu and root). Do one of:
  - as root on Debian/Ubuntu:  apt-get install libtorch-dev
  - download libtorch (CPU or CUDA) from pytorch.org, unzip it, and  export LIBTORCH=/path/to/libtorch
  - with a pip-installed torch:  export LIBTORCH=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
then run  bash scripts/setup.sh  again.
MSG
  exit 1
fi

# 2. a fast BLAS. Debian's libtorch does its matmuls through the system libblas.so.3, which is
# the slow reference BLAS unless an optimised one is installed: measured 7.8 GFLOP/s for a
# 1024² matmul with it against 240 with OpenBLAS (npm run smoke, 2 cores).
if [ -z "${LIBTORCH:-}" ] && [ -f /etc/debian_version ]; then
  blas=$(readlink -f "$(ldconfig -p | awk '/libblas\.so\.3 /{print $NF; exit}')" 2>/dev/null || true)
  case "$blas" in
    *openblas*|*blis*|*mkl*) ;;
    *) apt_install libopenblas0-pthread ||
         echo "setup: warning: libtorch will use the slow reference BLAS ($blas); install OpenBLAS (apt-get install libopenblas0-pthread)" >&2 ;;
  esac
fi

# 2b. Gloo's headers, which the addon's torch.distributed (native/src/distributed.cc) compiles
# against; without them the addon builds without multi-process training (docs/distributed.md).
if [ ! -f /usr/include/gloo/algorithm.h ] && [ -f /etc/debian_version ]; then
  apt_install libgloo-dev ||
    echo "setup: warning: no Gloo headers: multi-process training is left out of the addon (apt-get install libgloo-dev)" >&2
fi

# 3. the benchmarks' peer (optional)
if [ "$want_peer" = 1 ] && ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
  apt_install python3-torch || echo "setup: install PyTorch for /usr/bin/python3 yourself (Debian: apt-get install python3-torch)" >&2
fi

# 3b. a browser for the dashboard's tests (optional; they skip, saying why, without it)
if [ "$want_dev" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  apt_install chromium || echo "setup: install chromium yourself (Debian: apt-get install chromium) for the browser tests" >&2
fi

# 4. npm dependencies; installing builds the native addon (scripts/build-native.mjs)
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
if [ ! -f build/Release/alpha_dpo_native.node ] || [ -n "$(find native binding.gyp -newer build/Release/alpha_dpo_native.node -print -quit)" ]; then
  npm run build:native
fi

# 5. TypeScript → dist/ (the CLI and the package entry point)
npm run build
echo "setup: done. Next: npm run demo (or npm run smoke for a 2-second engine check; npm test for the tests)"
