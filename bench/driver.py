#!/usr/bin/env python3
"""Benchmark driver for issue 6 (called by bench/run.sh; standard library only).

Starts the PCO simulator (release build) as its own process, runs `tributary sync` into SQLite and
PostgreSQL and the dlt peer (bench/dlt/pco_dlt.py) into PostgreSQL against the same simulator,
measures each process from outside with GNU time (wall, user+sys CPU, peak RSS), checks the
record counts in the databases against the simulator's ground truth, then runs the rate-limit and
scaling rows, prints a results table and writes it (with the exact commands) to a Markdown file.
"""
import argparse
import datetime
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BENCH = ["Person", "Address", "Email", "PhoneNumber"]
TRIB_TABLES = {"Person": "people", "Address": "addresses", "Email": "emails", "PhoneNumber": "phone_numbers"}
DLT_TABLES = {"Person": "people", "Address": "addresses", "Email": "emails", "PhoneNumber": "phone_numbers"}
# Entities the engine lists as children of a parent only (no top-level list in PCO).
NESTED_ONLY = {"HouseholdMembership": "Household", "GroupMembership": "Group"}
PG = "postgres://postgres@127.0.0.1:5432"
APP_ID, SECRET = "sim-app-id", "sim-secret"

COMMANDS = []  # (label, command line) in the order run
NOTES = []
FAILURES = []


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def fail(msg):
    FAILURES.append(msg)
    log("FAIL: " + msg)


class Sim:
    """One simulator process; the first stdout line is its base URL."""

    def __init__(self, binary, people, extra):
        self.cmd = [binary, "--people", str(people), "--port", "0", *extra]
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise RuntimeError(f"simulator did not print its URL: {self.cmd}")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def admin(self, path):
        with urllib.request.urlopen(self.url + "/__admin/" + path, timeout=60) as r:
            return json.load(r)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def timed(label, cmd, env=None, ok_codes=(0,)):
    """Runs cmd under GNU time; returns (stdout, measures)."""
    out = tempfile.NamedTemporaryFile(prefix="bench-time-", delete=False)
    out.close()
    full = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", out.name, *cmd]
    COMMANDS.append((label, " ".join(shlex.quote(c) for c in cmd)))
    log(f"{label}: {' '.join(shlex.quote(c) for c in cmd)}")
    p = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    with open(out.name) as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    os.unlink(out.name)
    wall, user, sys_, rss = lines[-1].split()
    m = {"wall": float(wall), "cpu": float(user) + float(sys_), "rss_mib": int(rss) / 1024.0,
         "exit": p.returncode}
    if p.returncode not in ok_codes:
        fail(f"{label} exited {p.returncode}: {p.stderr.strip()[-2000:]}")
    return p.stdout, m


def sql_count(db, query):
    if db.startswith("postgres"):
        r = subprocess.run(["psql", "-X", "-tA", db, "-c", query], capture_output=True, text=True)
    else:
        r = subprocess.run(["sqlite3", db, query], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"count failed on {db}: {r.stderr.strip()}")
    return int(r.stdout.strip() or 0)


def fresh_pg(name):
    admin = PG + "/postgres"
    for q in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", "-X", "-q", admin, "-c", q], check=True, capture_output=True)
    return f"{PG}/{name}"


def drop_pg(name):
    subprocess.run(["psql", "-X", "-q", PG + "/postgres", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
                   capture_output=True)


def summary_of(stdout):
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                doc = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "entities" in doc and "state" in doc:
                return doc
    return None


def run_tributary(a, sim, db, label, rate_limited=False):
    org = "bench"
    cmd = [a.tributary, "--json", "sync", "--org", org, "--base-url", sim.url, "--app-id", APP_ID,
           "--secret", SECRET, "--database-url", db]
    if not rate_limited:
        cmd.append("--no-rate-limit")
    before = sim.admin("stats")
    stdout, m = timed(label, cmd, ok_codes=(0, 3))
    after = sim.admin("stats")
    m["requests"] = after["requests"] - before["requests"]
    m["over_limit"] = after["over_limit"] - before["over_limit"]
    s = summary_of(stdout)
    m["state"] = s["state"] if s else "no summary"
    ents = {e["entity"]: e for e in (s or {}).get("entities", [])}
    m["entities"] = ents
    m["fetched_all"] = sum(e.get("fetched", 0) for e in ents.values())
    m["pages_bench"] = sum(ents.get(e, {}).get("pages", 0) for e in BENCH)
    m["not_done"] = sorted(f"{k}={v['state']}" for k, v in ents.items() if v.get("state") != "done")
    m["counts"] = {e: sql_count(db, f"SELECT count(*) FROM {t} WHERE org_id = '{org}'") for e, t in TRIB_TABLES.items()}
    m["records"] = sum(m["counts"].values())
    return m


def run_dlt(a, sim, db, label, plan):
    cmd = [a.dlt_python, a.dlt_script, "--plan", plan, "--base-url", sim.url, "--database-url", db]
    before = sim.admin("stats")
    stdout, m = timed(label, cmd)
    after = sim.admin("stats")
    m["requests"] = after["requests"] - before["requests"]
    m["over_limit"] = after["over_limit"] - before["over_limit"]
    m["counts"] = {e: sql_count(db, f"SELECT count(*) FROM pco.{t}") for e, t in DLT_TABLES.items()}
    m["records"] = sum(m["counts"].values())
    out = [l for l in stdout.splitlines() if l.startswith("{")]
    m["fetched_all"] = json.loads(out[-1])["records_all"] if out else m["records"]
    m["pages_bench"] = m["requests"] if plan == "bench4" else None
    m["state"] = "done" if m["exit"] == 0 else "failed"
    return m


def check_counts(label, m, truth):
    want = {e: truth.get(e, 0) for e in BENCH}
    if m["counts"] != want:
        fail(f"{label}: loaded {m['counts']}, simulator holds {want}")
        m["verified"] = "MISMATCH"
    else:
        m["verified"] = "= simulator"


def minimal_plans(counts, per_page=100):
    """Minimal requests with side-loading: (for the 4 benchmark entities, for the engine's plan)."""
    pages = lambda n: max(1, math.ceil(n / per_page))
    bench = pages(counts.get("Person", 0))  # people?include=addresses,emails,phone_numbers
    full = 0
    for entity, n in counts.items():
        if entity in ("Address", "Email", "PhoneNumber", "Organization"):
            continue  # side-loaded with people
        if entity in NESTED_ONLY:
            full += counts.get(NESTED_ONLY[entity], 0)  # one page per parent
        else:
            full += pages(n)
    return bench, full


def fmt(x, nd=1):
    return "—" if x is None else f"{x:,.{nd}f}"


def ratio(a, b):
    return None if not a or not b else a / b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=50_000)
    ap.add_argument("--rl-people", type=int, default=1000)
    ap.add_argument("--rl-period", type=int, default=20, help="rate-limit window in seconds (PCO: 20)")
    ap.add_argument("--scale", default="10000,100000", help="people counts for the scaling row")
    ap.add_argument("--mode", default="full")
    ap.add_argument("--tributary", required=True)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--dlt-python", default="")
    ap.add_argument("--dlt-script", default=os.path.join(os.path.dirname(__file__), "dlt", "pco_dlt.py"))
    ap.add_argument("--dlt-install-seconds", default="")
    ap.add_argument("--out", required=True)
    ap.add_argument("--invocation", default="bench/run.sh")
    ap.add_argument("--workdir", default=tempfile.gettempdir())
    ap.add_argument("--only", default="tsqlite,tpg,dlt4,dlteng,rl,scale",
                    help="rows to run: tsqlite, tpg, dlt4, dlteng, rl, scale")
    a = ap.parse_args()
    only = set(a.only.split(","))

    run_id = f"{os.getpid()}"
    load_start = os.getloadavg()
    rows = {}
    sims = []
    pg_dbs = []
    try:
        # 1+2. Throughput, rate limit off: same simulator, same data, three loads.
        sim = Sim(a.sim, a.people, ["--no-rate-limit"])
        sims.append(sim)
        truth = sim.admin("counts")
        log(f"simulator {sim.url}: {a.people} people, ground truth {dict((e, truth.get(e)) for e in BENCH)}")
        sqlite_path = os.path.join(a.workdir, f"bench-{run_id}.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(sqlite_path + suffix):
                os.unlink(sqlite_path + suffix)
        t_sqlite = t_pg = d_pg = d_eng = None
        if "tsqlite" in only:
            t_sqlite = run_tributary(a, sim, sqlite_path, "tributary → SQLite")
            check_counts("tributary → SQLite", t_sqlite, truth)
        if "tpg" in only:
            name = f"bench_trib_{run_id}"
            pg_dbs.append(name)
            t_pg = run_tributary(a, sim, fresh_pg(name), "tributary → PostgreSQL")
            check_counts("tributary → PostgreSQL", t_pg, truth)
        if a.dlt_python:
            if "dlt4" in only:
                name = f"bench_dlt_{run_id}"
                pg_dbs.append(name)
                d_pg = run_dlt(a, sim, fresh_pg(name), "dlt → PostgreSQL, the 4 people lists", "bench4")
                check_counts("dlt → PostgreSQL (4 lists)", d_pg, truth)
            if "dlteng" in only:
                name = f"bench_dlteng_{run_id}"
                pg_dbs.append(name)
                d_eng = run_dlt(a, sim, fresh_pg(name), "dlt → PostgreSQL, the engine's request plan", "engine")
                check_counts("dlt → PostgreSQL (engine plan)", d_eng, truth)
            if d_eng and t_pg and (d_eng["fetched_all"] != t_pg["fetched_all"] or d_eng["requests"] != t_pg["requests"]):
                NOTES.append(f"The like-for-like dlt run did not match Tributary's work: dlt fetched "
                             f"{d_eng['fetched_all']:,} records in {d_eng['requests']:,} requests, Tributary "
                             f"{t_pg['fetched_all']:,} in {t_pg['requests']:,} — update ENGINE in bench/dlt/pco_dlt.py "
                             f"to the engine's current request plan.")
                log("note: " + NOTES[-1])
        bench_min, full_min = minimal_plans(truth)
        sim.stop()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(sqlite_path + suffix):
                os.unlink(sqlite_path + suffix)

        # 3. Rate limit on (PCO's 100 requests per window).
        rl = None
        if "rl" in only:
            rl_sim = Sim(a.sim, a.rl_people, ["--rate-limit", "100", "--rate-period", str(a.rl_period)])
            sims.append(rl_sim)
            rl_truth = rl_sim.admin("counts")
            rl_db = os.path.join(a.workdir, f"bench-rl-{run_id}.db")
            rl = run_tributary(a, rl_sim, rl_db, f"tributary → SQLite, rate limit 100/{a.rl_period}s", rate_limited=True)
            check_counts("rate-limited tributary", rl, rl_truth)
            rl_sim.stop()
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(rl_db + suffix):
                    os.unlink(rl_db + suffix)
            rl["floor"] = math.ceil(rl["requests"] / 100) * a.rl_period
            rl["bench_min"], rl["full_min"] = minimal_plans(rl_truth)

        # 4. Scaling: Tributary's peak RSS (SQLite) by organisation size.
        scale = []
        for n in [int(x) for x in a.scale.split(",") if x.strip()] if "scale" in only else []:
            if n == a.people and t_sqlite:
                scale.append((n, t_sqlite))
                continue
            s = Sim(a.sim, n, ["--no-rate-limit"])
            sims.append(s)
            tr = s.admin("counts")
            db = os.path.join(a.workdir, f"bench-scale-{n}-{run_id}.db")
            m = run_tributary(a, s, db, f"tributary → SQLite, {n} people")
            check_counts(f"scaling {n}", m, tr)
            s.stop()
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.unlink(db + suffix)
            scale.append((n, m))
    finally:
        for s in sims:
            s.stop()
        for name in pg_dbs:
            drop_pg(name)

    # ---- the report -------------------------------------------------------------------------
    def line(name, m, scope):
        if m is None:
            return f"| {name} | not run | | | | | | | | |"
        rate = m["records"] / m["wall"] if m["wall"] else None
        return (f"| {name} | {scope} | {m['records']:,} | {m['fetched_all']:,} | {m['requests']:,} | "
                f"{fmt(m['wall'], 2)} | {fmt(m['cpu'], 2)} | {fmt(m['rss_mib'])} | {fmt(rate, 0)} | "
                f"{m['verified']}; {m['state']} |")

    head = ("| run | entities synced | records in the 4 tables | records fetched (all) | HTTP requests | "
            "wall s | CPU s (user+sys) | peak RSS MiB | records/s (4 tables ÷ wall) | check |\n"
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    anyt = t_sqlite or t_pg
    n_ent = len(anyt["entities"]) if anyt else "?"
    t_scope = f"all {n_ent} of the engine's plan"
    out = [f"### 1–2. Throughput, rate limit off — {a.people:,} people", "", head,
           line("Tributary → SQLite", t_sqlite, t_scope),
           line("Tributary → PostgreSQL", t_pg, t_scope),
           line("dlt rest_api → PostgreSQL", d_eng, "the engine's request plan (same lists, same records)"),
           line("dlt rest_api → PostgreSQL (4 lists)", d_pg, "people, addresses, emails, phone_numbers"), ""]
    thr = lambda m, k: m[k] / m["wall"]

    def ratios(title, t, tname, d, key, what):
        return [f"**{title}**", "",
                f"| measure | {tname} | dlt → PostgreSQL | Tributary/dlt | target |", "| --- | ---: | ---: | ---: | --- |",
                f"| wall s | {fmt(t['wall'], 2)} | {fmt(d['wall'], 2)} | {fmt(ratio(t['wall'], d['wall']), 3)} | ≤ 0.1 |",
                f"| throughput, {what} records/s | {fmt(thr(t, key), 0)} | {fmt(thr(d, key), 0)} | {fmt(ratio(thr(t, key), thr(d, key)), 2)} | ≥ 10 |",
                f"| CPU s | {fmt(t['cpu'], 2)} | {fmt(d['cpu'], 2)} | {fmt(ratio(t['cpu'], d['cpu']), 3)} | |",
                f"| peak RSS MiB | {fmt(t['rss_mib'])} | {fmt(d['rss_mib'])} | {fmt(ratio(t['rss_mib'], d['rss_mib']), 3)} | ≤ 0.25 |",
                f"| HTTP requests | {t['requests']:,} | {d['requests']:,} | {fmt(ratio(t['requests'], d['requests']), 2)} | |",
                ""]
    for t, tname in ((t_pg, "Tributary → PostgreSQL"), (t_sqlite, "Tributary → SQLite")):
        if t and d_eng:
            out += ratios(f"{tname} / dlt — like for like: same requests, same records (one run)",
                          t, tname, d_eng, "fetched_all", "all")
        if t and d_pg:
            out += ratios(f"{tname} (whole sync) / dlt (the 4 people lists only) — biased against Tributary",
                          t, tname, d_pg, "records", "4-table")
    if not a.dlt_python:
        out += ["dlt peer: not run (`--no-dlt`).", ""]
    if anyt:
        out += [f"Minimal request plan, rate limit aside: {bench_min:,} requests for the 4 entities "
                f"(`/people/v2/people?per_page=100&include=addresses,emails,phone_numbers`), "
                f"{full_min:,} for the engine's whole entity set (top-level lists at 100/page, the 3 "
                f"people children side-loaded, nested-only lists one page per parent). Tributary used "
                f"{anyt['pages_bench']:,} pages for the 4 entities and {anyt['requests']:,} requests in all.", ""]
    for n in NOTES:
        out += [f"**Note:** {n}", ""]
    if anyt and anyt["not_done"]:
        out += [f"Tributary entities not `done`: {', '.join(anyt['not_done'])}.", ""]

    if rl:
      out += [f"### 3. Rate limit on — {a.rl_people:,} people, simulator at 100 requests / {a.rl_period} s", "",
            "| run | requests | floor s = ceil(requests/100) × period | wall s | wall ÷ floor | 429s (over_limit) | "
            "requests ÷ minimal plan (engine's entities) | requests ÷ minimal plan (4 entities) | check |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
            f"| Tributary → SQLite | {rl['requests']:,} | {rl['floor']:,} | {fmt(rl['wall'], 1)} | "
            f"{fmt(ratio(rl['wall'], rl['floor']), 3)} | {rl['over_limit']} | "
            f"{fmt(ratio(rl['requests'], rl['full_min']), 2)} ({rl['requests']:,}/{rl['full_min']:,}) | "
            f"{fmt(ratio(rl['pages_bench'], rl['bench_min']), 2)} ({rl['pages_bench']:,} pages/{rl['bench_min']:,}) | "
            f"{rl['verified']}; {rl['state']} |", ""]

    if scale:
      out += ["### 4. Scaling — Tributary peak RSS (SQLite, rate limit off)", "",
            "| people | records fetched (all) | requests | wall s | peak RSS MiB | RSS ÷ RSS at smallest |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    base = scale[0][1]["rss_mib"] if scale else None
    for n, m in scale:
        out.append(f"| {n:,} | {m['fetched_all']:,} | {m['requests']:,} | {fmt(m['wall'], 2)} | "
                   f"{fmt(m['rss_mib'])} | {fmt(ratio(m['rss_mib'], base), 2)} |")
    out.append("")
    results = "\n".join(out)
    print(results)

    env_lines = [
        f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; mode `{a.mode}`; "
        f"git {subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()}"
        f" (+ uncommitted work of others in the tree)",
        f"- machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"{platform.system()} {platform.release()}, PostgreSQL on 127.0.0.1:5432; load average "
        f"{load_start[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (the machine is shared: "
        f"compare ratios measured in one run, not absolute figures across runs)",
    ]
    if a.dlt_python:
        v = subprocess.run([a.dlt_python, "-c", "import dlt,sys; print(dlt.__version__, sys.version.split()[0])"],
                           capture_output=True, text=True).stdout.split()
        env_lines.append(f"- dlt {v[0] if v else '?'} on Python {v[1] if len(v) > 1 else '?'}"
                         + (f"; `pip install dlt[postgres,duckdb]` took {a.dlt_install_seconds} s" if a.dlt_install_seconds else ""))
    cmds = "\n".join(f"# {label}\n{cmd}" for label, cmd in COMMANDS)
    doc = [f"## Results ({a.mode}: {a.people:,} people)", "", *env_lines, "", results,
           "### Exact commands (as run by the driver; simulator URL and database names vary)", "",
           f"Harness: `{a.invocation}`. Every command below ran under `/usr/bin/time -f '%e %U %S %M'`.", "",
           "```sh", cmds, "```", ""]
    if FAILURES:
        doc += ["### Failures", "", *[f"- {f}" for f in FAILURES], ""]
    text = "\n".join(doc)
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    old = open(a.out).read() if os.path.exists(a.out) else ""
    if start in old and end in old:
        text = old[:old.index(start) + len(start)] + "\n" + text + "\n" + old[old.index(end):]
    with open(a.out, "w") as f:
        f.write(text)
    log(f"wrote {a.out}")
    if FAILURES:
        log(f"{len(FAILURES)} failure(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
