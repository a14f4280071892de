# Sourced by the scripts: make .venv exist and hold the project with the given extras.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
extras="$1"
if [ ! -x .venv/bin/python ]; then
    echo "creating .venv" >&2
    python3 -m venv .venv
fi
echo "installing stateward[$extras] into .venv" >&2
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[$extras]" 2>&1 \
    | grep -v '^WARNING: Location' >&2 || true
.venv/bin/python -c "import stateward" || { echo "install failed" >&2; exit 1; }
