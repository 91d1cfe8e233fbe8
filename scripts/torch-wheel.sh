#!/usr/bin/env bash
# Installs libtorch 2.x from PyTorch's pip wheel (CPU build) into a Python venv outside the
# repository and prints the torch package folder, which is a libtorch folder for LIBTORCH
# (include/ and lib/). Only the C++ library is wanted, so torch's Python dependencies are skipped.
#   bash scripts/torch-wheel.sh                # prints e.g. ~/.cache/alpha-dpo/torch-venv/lib/python3.11/site-packages/torch
# Settings (environment): ALPHA_DPO_TORCH_VENV (default ~/.cache/alpha-dpo/torch-venv),
# ALPHA_DPO_TORCH_SPEC (default torch==2.13.0+cpu), PYTHON (default python3); pip reads its own
# configuration (pip config list) and PIP_INDEX_URL / PIP_EXTRA_INDEX_URL / PIP_FIND_LINKS.
# Exit status 1 with one line on stderr saying why when the wheel cannot be installed here.
set -euo pipefail

venv=${ALPHA_DPO_TORCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/alpha-dpo/torch-venv}
spec=${ALPHA_DPO_TORCH_SPEC:-torch==2.13.0+cpu}
python=${PYTHON:-python3}

torch_dir() {
  # The package folder without importing torch (that would need its Python dependencies).
  "$venv/bin/python" -c 'import importlib.util, os; s = importlib.util.find_spec("torch"); print(os.path.dirname(s.origin))' 2>/dev/null
}
installed_version() {
  "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null
}

wanted=${spec#*==}
if [ -x "$venv/bin/python" ] && [ "$(installed_version)" = "$wanted" ] && dir=$(torch_dir); then
  echo "$dir"
  exit 0
fi
if ! command -v "$python" >/dev/null; then
  echo "torch-wheel: no $python to make a venv with" >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ] && ! "$python" -m venv "$venv" >/dev/null 2>&1; then
  echo "torch-wheel: '$python -m venv $venv' failed (Debian: apt-get install python3-venv)" >&2
  rm -rf "$venv"
  exit 1
fi
# Short timeouts: on a machine without network an unreachable index must not stall for minutes
# (the wheel may still come from a local index or find-links folder).
log=$(mktemp)
if ! "$venv/bin/python" -m pip install --quiet --no-deps --retries 1 --timeout 15 "$spec" >"$log" 2>&1; then
  echo "torch-wheel: pip could not install $spec into $venv with $("$venv/bin/python" --version 2>&1): $(grep -m1 -E '^ERROR' "$log" || tail -1 "$log")" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
if ! dir=$(torch_dir); then
  echo "torch-wheel: $spec installed into $venv but its torch package folder was not found" >&2
  exit 1
fi
echo "$dir"
