#!/bin/bash
# Creates the project venv (.venv) and installs the package with its dev extras.
#
# Why a stamp: a full `pip install -e '.[dev]'` costs ~1 min on a fresh machine and several seconds
# even when nothing changed, so the install is skipped when pyproject.toml has not changed since the
# last successful one and the package still imports. Set EXECBROKER_FORCE_INSTALL=1 to reinstall.
set -euo pipefail
# shellcheck source=scripts/lib-services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-services.sh"

PYTHON="${PYTHON:-python3}"
VENV="$REPO/.venv"
STAMP="$VENV/.execbroker-dev-install"
t0=$(now)

if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV with $($PYTHON --version 2>&1)"
  "$PYTHON" -m venv "$VENV"
fi

want="$(sha256sum "$REPO/pyproject.toml" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "${EXECBROKER_FORCE_INSTALL:-0}" != 1 ] && [ "$want" = "$have" ] \
   && "$VENV/bin/python" -c 'import execbroker, pytest, moto' 2>/dev/null; then
  log "venv up to date (pyproject.toml unchanged): skipping pip install"
else
  log "pip install -e '.[dev]' into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$REPO[dev]"
  echo "$want" > "$STAMP"
fi
elapsed "venv (.venv)" "$t0"
