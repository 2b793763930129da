#!/usr/bin/env bash
# Points Planning Center's published Python client (PyPI `pypco`) at the simulator, changing
# nothing but its API base, and checks that it pages the whole organisation: the counts it sees
# must equal the simulator's ground truth. A low rate limit makes pypco exercise its 429 handling.
#
# Usage: tests/pco-sim/scripts/pypco-check.sh [PEOPLE]   (default 600)
# Env:   CARGO_TARGET_DIR (where to build; default <repo>/target), PYPCO_VENV (venv dir),
#        PYTHON (default python3)
set -euo pipefail

PEOPLE="${1:-600}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="${PYPCO_VENV:-$TARGET/pypco-venv}"
PYTHON="${PYTHON:-python3}"
START=$(date +%s)

echo "pypco-check: building pco-sim"
cargo build --quiet -p pco-sim --bin pco-sim --manifest-path "$ROOT/Cargo.toml"

if [ ! -x "$VENV/bin/python" ]; then
  echo "pypco-check: creating venv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check pypco

LOG="$(mktemp)"
# Low rate limit (8 requests per 2 s) so pypco meets 429 + Retry-After and must back off.
"$TARGET/debug/pco-sim" --people "$PEOPLE" --seed 3 --rate-limit 8 --rate-period 2 >"$LOG" 2>"$LOG.err" &
SIM=$!
trap 'kill $SIM 2>/dev/null || true; rm -f "$LOG" "$LOG.err"' EXIT
for _ in $(seq 1 100); do
  [ -s "$LOG" ] && break
  sleep 0.1
done
BASE="$(head -n1 "$LOG")"
[ -n "$BASE" ] || { echo "pypco-check: FAIL: simulator did not start"; cat "$LOG.err"; exit 1; }

"$VENV/bin/python" - "$BASE" <<'PY'
import json, sys, urllib.request
import pypco

base = sys.argv[1]
truth = json.load(urllib.request.urlopen(base + "/__admin/counts"))
pco = pypco.PCO("sim-app-id", "sim-secret", api_base=base)
failures = []

people = list(pco.iterate("/people/v2/people", per_page=100))
ids = [p["data"]["id"] for p in people]
if len(ids) != truth["Person"] or len(set(ids)) != len(ids):
    failures.append(f"people: pypco saw {len(ids)} ({len(set(ids))} distinct), truth {truth['Person']}")

emails, addresses, phones = set(), set(), set()
n = 0
for p in pco.iterate("/people/v2/people", per_page=100, include="emails,addresses,phone_numbers"):
    n += 1
    for inc in p["included"]:
        {"Email": emails, "Address": addresses, "PhoneNumber": phones}[inc["type"]].add(inc["id"])
for name, seen in (("Email", emails), ("Address", addresses), ("PhoneNumber", phones)):
    if len(seen) != truth[name]:
        failures.append(f"{name}: pypco saw {len(seen)} via include, truth {truth[name]}")
if n != truth["Person"]:
    failures.append(f"people with include: {n} vs {truth['Person']}")

households = sum(1 for _ in pco.iterate("/people/v2/households", per_page=100))
if households != truth["Household"]:
    failures.append(f"households: {households} vs {truth['Household']}")

one = pco.get(f"/people/v2/people/{ids[0]}")
if one["data"]["id"] != ids[0]:
    failures.append("single GET returned another person")

stats = json.load(urllib.request.urlopen(base + "/__admin/stats"))
if stats["over_limit"] == 0:
    failures.append("pypco never met a 429: the rate-limit path was not exercised")

summary = (f"people={len(ids)} emails={len(emails)} addresses={len(addresses)} phones={len(phones)} "
           f"households={households} requests={stats['requests']} 429s={stats['over_limit']}")
if failures:
    print("pypco-check: FAIL: " + "; ".join(failures) + " | " + summary)
    sys.exit(1)
print("pypco-check: OK: pypco paged the simulated organisation, counts equal ground truth | " + summary)
PY
echo "pypco-check: finished in $(( $(date +%s) - START ))s"
