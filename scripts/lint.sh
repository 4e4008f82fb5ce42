#!/usr/bin/env bash
# OCA quality gates (`make lint`): pre-commit runs ruff, pylint-odoo, oca-checks-odoo-module
# and oca-checks-po on every file of the repository (.pre-commit-config.yaml). pre-commit
# builds each hook's environment from PyPI once (~/.cache/pre-commit).
# LINT_ARGS="--hook-stage manual ruff" etc. are passed to `pre-commit run`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PRE_COMMIT="$ROOT/.venv/bin/pre-commit"
if [ ! -x "$PRE_COMMIT" ]; then
    bash scripts/setup.sh venv
    [ -x "$PRE_COMMIT" ] || "$ROOT/.venv/bin/pip" install -q pre-commit
fi
# ruff --fix / ruff format rewrite files: show what they changed, then fail.
exec "$PRE_COMMIT" run --all-files --show-diff-on-failure --color=never "$@"
