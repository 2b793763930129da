#!/usr/bin/env bash
# Creates (once) the venv of the dlt peer: ${DLT_VENV:-${CARGO_TARGET_DIR:-target}/dlt-venv},
# with dlt[postgres,duckdb] from PyPI. Prints the venv path on stdout (last line) and the install
# time on stderr. Idempotent: an existing venv whose `import dlt` works is reused.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
venv="${DLT_VENV:-$target/dlt-venv}"
spec="${DLT_SPEC:-dlt[postgres,duckdb]}"
if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c 'import dlt, psycopg2' 2>/dev/null; then
  echo "dlt venv: reusing $venv ($("$venv/bin/python" -c 'import dlt; print(dlt.__version__)'))" >&2
  echo "$venv"
  exit 0
fi
py="${PYTHON:-python3}"
start=$(date +%s.%N)
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec" >&2
end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}')
ver=$("$venv/bin/python" -c 'import dlt; print(dlt.__version__)')
echo "dlt venv: installed $spec (dlt $ver) into $venv in ${secs}s" >&2
echo "$secs" > "$venv/.install-seconds"
echo "$venv"
