#!/usr/bin/env bash
# Benchmark harness of issue 6: Tributary vs dlt's rest_api source on the same PCO simulator.
#
#   bench/run.sh [--people N] [--quick] [--smoke] [--no-dlt] [--scale 10000,100000[,1000000]]
#                [--rl-people N] [--rl-all-people N] [--rl-period S] [--only ROWS]
#                [--before DIR [--before-label L]] [--repeat N] [--out FILE]
#
#   (default)  50,000 people; rate-limit rows (100 requests / 20 s) for the 4 entities at 50,000
#              people and the whole sync at 500; scaling at 10k and 100k people; writes
#              BENCHMARKS.md (between its result markers).
#   --quick    10,000 people; rate-limit rows at 10,000 (4 entities) and 300 (whole sync);
#              scaling at 10k only.
#   --smoke    300 people; rate-limit rows at 300 people with a 2 s window (100 requests / 2 s);
#              scaling at 300 and 1,000 people; writes $TARGET/bench-smoke.md, not BENCHMARKS.md.
#              Checks that every row runs and prints and that the counts match; no timing checks.
#   --no-dlt   skip the dlt peer (and its pip install).
#   --only     rows: t4sqlite,t4pg,dlt4,tall,before,rl4,rlall,scale,gen (default: all; gen runs
#              debug cargo builds in CARGO_TARGET_DIR and touches two spec files).
#   --repeat N runs of each headline row (Tributary → SQLite, → PostgreSQL, dlt), interleaved;
#              each row reports its median run by wall (default 5; --smoke 2, --quick 1).
#   --before DIR  also run the whole sync of DIR/tributary (an older build) on the headline
#              simulator, for a before/after table measured in the same run.
#   BENCH_NO_BUILD=1 [BENCH_BIN_DIR=dir]: skip the cargo build, use existing binaries.
#
# Needs: cargo, python3 (3.9+), psql + PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres),
# sqlite3, GNU time (/usr/bin/time; installed with apt-get when missing). Builds with
# CARGO_TARGET_DIR (default: target/), creates the dlt venv under it (bench/dlt/setup-venv.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$repo/$CARGO_TARGET_DIR" ;; esac

mode=full people=50000 rl_people="" rl_all_people=500 rl_period=20 scale="10000,100000" dlt=1 out="" only=""
before="" before_label="before" repeat=""
invocation="bench/run.sh${*:+ $*}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --people) people="$2"; shift 2 ;;
    --quick) mode=quick people=10000 rl_all_people=300 scale="10000"; shift ;;
    --smoke) mode=smoke people=300 rl_people=300 rl_all_people=300 rl_period=2 scale="300,1000"; shift ;;
    --no-dlt) dlt=0; shift ;;
    --scale) scale="$2"; shift 2 ;;
    --rl-people) rl_people="$2"; shift 2 ;;
    --rl-all-people) rl_all_people="$2"; shift 2 ;;
    --before) before="$2"; shift 2 ;;
    --before-label) before_label="$2"; shift 2 ;;
    --rl-period) rl_period="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
rl_people="${rl_people:-$people}"   # the 4-entity rate-limit row runs at the headline size
case "$mode" in smoke) repeat="${repeat:-2}" ;; quick) repeat="${repeat:-1}" ;; *) repeat="${repeat:-5}" ;; esac
if [[ -z "$out" ]]; then
  if [[ $mode == smoke ]]; then out="$CARGO_TARGET_DIR/bench-smoke.md"; else out="$repo/BENCHMARKS.md"; fi
fi
started=$(date +%s)

if [[ ! -x /usr/bin/time ]]; then
  echo "bench: installing GNU time" >&2
  (apt-get update -qq && apt-get install -y -qq time) >&2
fi
for tool in psql sqlite3 python3 cargo; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 2; }
done
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "bench: PostgreSQL is not accepting connections on 127.0.0.1:5432" >&2; exit 2; }

bin="$CARGO_TARGET_DIR/release"
if [[ -n "${BENCH_NO_BUILD:-}" ]]; then
  # Use binaries built elsewhere (e.g. from a clean `git archive` of a commit): BENCH_BIN_DIR.
  bin="${BENCH_BIN_DIR:-$bin}"
  echo "bench: BENCH_NO_BUILD set; using $bin/tributary and $bin/pco-sim as they are" >&2
else
  echo "bench: cargo build --release -p tributary-engine -p pco-sim (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
  cargo build --release --quiet -p tributary-engine -p pco-sim >&2
fi

dlt_args=()
if [[ $dlt == 1 ]]; then
  venv="$("$here/dlt/setup-venv.sh")"
  dlt_args=(--dlt-python "$venv/bin/python")
  [[ -f "$venv/.install-seconds" ]] && dlt_args+=(--dlt-install-seconds "$(cat "$venv/.install-seconds")")
fi

only_args=()
[[ -n "$only" ]] && only_args=(--only "$only")
if [[ -n "$before" ]]; then
  [[ -x "$before/tributary" ]] || { echo "bench: --before $before: no executable $before/tributary" >&2; exit 2; }
  only_args+=(--before-tributary "$before/tributary" --before-label "$before_label")
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/tributary-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
rc=0
python3 "$here/driver.py" --mode "$mode" --people "$people" --rl-people "$rl_people" \
  --rl-all-people "$rl_all_people" --rl-period "$rl_period" --scale "$scale" --out "$out" --workdir "$work" \
  --tributary "$bin/tributary" --sim "$bin/pco-sim" --repeat "$repeat" \
  --invocation "$invocation" "${only_args[@]}" "${dlt_args[@]}" || rc=$?
echo "bench: $mode run finished in $(( $(date +%s) - started )) s (exit $rc); results in $out" >&2
if [[ $mode == smoke ]]; then
  # Every row must have printed.
  for row in "| Tributary → SQLite |" "| Tributary → PostgreSQL |" "| Tributary whole sync → SQLite" \
             "Rate limit on" "| Tributary, 4 entities → SQLite |" "| Tributary, whole sync → SQLite |" "Scaling" \
             "### 5. Generator" "| after touching \`specs/pco/manifest.yaml\` |"; do
    grep -qF "$row" "$out" || { echo "bench smoke: row missing: $row" >&2; rc=1; }
  done
  if [[ $dlt == 1 ]]; then
    for row in "| dlt rest_api → PostgreSQL |" "**Tributary → SQLite / dlt" "**Tributary → PostgreSQL / dlt" \
               "**Repeats:**"; do
      grep -qF "$row" "$out" || { echo "bench smoke: row missing: $row" >&2; rc=1; }
    done
  fi
  grep -qE 'MISMATCH|^\| Tributary[^|]*\| not run' "$out" && { echo "bench smoke: a row did not run or its counts differ" >&2; rc=1; }
  echo "bench smoke: $([[ $rc == 0 ]] && echo OK || echo FAIL)"
fi
exit $rc
