#!/usr/bin/env python3
"""Benchmark driver for issue 6 (called by bench/run.sh; standard library only).

Starts the PCO simulator (release build) as its own process and runs, against the same simulator:
`tributary sync --entities person,address,email,phone_number` into SQLite and into PostgreSQL,
the dlt peer (bench/dlt/pco_dlt.py, the same four entities) into PostgreSQL, and Tributary's
whole sync (every mapped entity) into SQLite. Each process is measured from outside with GNU time
(wall, user+sys CPU, peak RSS); the simulator's own CPU time is read from /proc; the record counts
in the databases are checked against the simulator's ground truth. Then the rate-limit and
scaling rows run; the driver prints a results table and writes it (with the exact commands) to a
Markdown file.
"""
import argparse
import datetime
import glob
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
# `tributary sync --entities` for the headline rows (same entities as the dlt peer's 4 lists).
BENCH_SELECTION = "person,address,email,phone_number"
TRIB_TABLES = {"Person": "people", "Address": "addresses", "Email": "emails", "PhoneNumber": "phone_numbers"}
DLT_TABLES = {"Person": "people", "Address": "addresses", "Email": "emails", "PhoneNumber": "phone_numbers"}
# How the minimal plan fetches an entity: side-loaded with people (`include=`, no requests of its
# own), or one page per parent for lists that exist only nested under a parent.
SIDE_LOADED = {"Address", "Email", "PhoneNumber"}
NESTED_ONLY = {"HouseholdMembership": "Household", "GroupMembership": "Group"}
PG = "postgres://postgres@127.0.0.1:5432"
APP_ID, SECRET = "sim-app-id", "sim-secret"
CLK_TCK = os.sysconf("SC_CLK_TCK")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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
        self.people = people
        self.cmd = [binary, "--people", str(people), "--port", "0", *extra]
        log(f"starting simulator: {' '.join(self.cmd)}")
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise RuntimeError(f"simulator did not print its URL (exit {self.proc.poll()}): {self.cmd}")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def admin(self, path):
        try:
            with urllib.request.urlopen(self.url + "/__admin/" + path, timeout=60) as r:
                return json.load(r)
        except OSError as e:
            raise RuntimeError(f"simulator admin request {self.url}/__admin/{path} failed: {e}") from e

    def cpu_seconds(self):
        """user+sys CPU the simulator has used so far (/proc/PID/stat fields 14 and 15)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / CLK_TCK
        except (OSError, IndexError, ValueError):
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class PgCpu:
    """Samples the CPU time of every `postgres` process (server and backends) while a run lasts,
    so a run into PostgreSQL can be charged the server's work. Backends that exit between two
    samples lose at most one interval; other sessions' queries on the same server count too."""

    def __init__(self, interval=0.2):
        self.interval = interval
        self.first, self.last = {}, {}
        self.stop_event = threading.Event()
        self.sample(self.first)
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    @staticmethod
    def sample(into):
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    head, rest = f.read().rsplit(")", 1)
            except OSError:
                continue
            if not head.endswith("(postgres"):
                continue
            fields = rest.split()
            into[pid] = (int(fields[11]) + int(fields[12])) / CLK_TCK

    def loop(self):
        while not self.stop_event.wait(self.interval):
            self.sample(self.last)

    def stop(self):
        self.stop_event.set()
        self.thread.join()
        self.sample(self.last)
        return sum(max(0.0, cpu - self.first.get(pid, 0.0)) for pid, cpu in self.last.items())


def timed(label, cmd, ok_codes=(0,)):
    """Runs cmd under GNU time; returns (stdout, measures)."""
    out = tempfile.NamedTemporaryFile(prefix="bench-time-", delete=False)
    out.close()
    full = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", out.name, *cmd]
    line = " ".join(shlex.quote(c) for c in cmd)
    if all(line != c for _, c in COMMANDS):  # a repeat lists its command once
        COMMANDS.append((label.split(" [")[0], line))
    log(f"{label}: {' '.join(shlex.quote(c) for c in cmd)}")
    p = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with open(out.name) as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    os.unlink(out.name)
    try:
        wall, user, sys_, rss = lines[-1].split()
    except (IndexError, ValueError):
        raise RuntimeError(f"{label}: GNU time printed no measures (exit {p.returncode}): "
                           f"{p.stderr.strip()[-2000:]}")
    m = {"wall": float(wall), "cpu": float(user) + float(sys_), "rss_mib": int(rss) / 1024.0,
         "exit": p.returncode}
    if p.returncode not in ok_codes:
        fail(f"{label} exited {p.returncode}: {p.stderr.strip()[-2000:]}")
    log(f"{label}: wall {m['wall']:.2f} s, CPU {m['cpu']:.2f} s, peak RSS {m['rss_mib']:.1f} MiB, exit {p.returncode}")
    return p.stdout, m


def sql_count(db, query):
    if db.startswith("postgres"):
        r = subprocess.run(["psql", "-X", "-tA", db, "-c", query], capture_output=True, text=True)
    else:
        r = subprocess.run(["sqlite3", db, query], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"count failed on {db} ({query}): {r.stderr.strip()}")
    return int(r.stdout.strip() or 0)


def median_run(ms):
    """The median of a row's runs by wall time (the lower middle of an even count), or None."""
    if not ms:
        return None
    return sorted(ms, key=lambda m: m["wall"])[(len(ms) - 1) // 2]


def fresh_pg(name):
    admin = PG + "/postgres"
    for q in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        r = subprocess.run(["psql", "-X", "-q", admin, "-c", q], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"PostgreSQL: `{q}` failed: {r.stderr.strip()}")
    return f"{PG}/{name}"


def drop_pg(name):
    subprocess.run(["psql", "-X", "-q", PG + "/postgres", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
                   capture_output=True)


def remove_sqlite(path):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)


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


def measure_against(sim, label, cmd, ok_codes=(0,), pg=False):
    """Runs cmd against sim; adds the simulator's requests, 429s and CPU during the run (and with
    pg, the PostgreSQL server's CPU)."""
    before, cpu0 = sim.admin("stats"), sim.cpu_seconds()
    pg_cpu = PgCpu() if pg else None
    stdout, m = timed(label, cmd, ok_codes)
    m["db_cpu"] = pg_cpu.stop() if pg_cpu else None
    after, cpu1 = sim.admin("stats"), sim.cpu_seconds()
    m["requests"] = after["requests"] - before["requests"]
    m["over_limit"] = after["over_limit"] - before["over_limit"]
    m["sim_cpu"] = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
    return stdout, m


def run_tributary(a, sim, db, label, entities=None, rate_limited=False, binary=None):
    org = "bench"
    cmd = [binary or a.tributary, "--json", "sync", "--org", org, "--base-url", sim.url, "--app-id", APP_ID,
           "--secret", SECRET, "--database-url", db]
    if entities:
        cmd += ["--entities", entities]
    if not rate_limited:
        cmd.append("--no-rate-limit")
    stdout, m = measure_against(sim, label, cmd, ok_codes=(0, 3), pg=db.startswith("postgres"))
    s = summary_of(stdout)
    if s is None:
        fail(f"{label}: no JSON summary on stdout (exit {m['exit']})")
    m["state"] = s["state"] if s else "no summary"
    ents = {e["entity"]: e for e in (s or {}).get("entities", [])}
    m["entities"] = ents
    m["fetched_all"] = sum(e.get("fetched", 0) for e in ents.values())
    m["not_done"] = sorted(f"{k}={v['state']}" for k, v in ents.items() if v.get("state") != "done")
    m["counts"] = {e: sql_count(db, f"SELECT count(*) FROM {t} WHERE org_id = '{org}'") for e, t in TRIB_TABLES.items()}
    m["records"] = sum(m["counts"].values())
    return m


def run_dlt(a, sim, db, label):
    cmd = [a.dlt_python, a.dlt_script, "--plan", "bench4", "--base-url", sim.url, "--database-url", db]
    stdout, m = measure_against(sim, label, cmd, pg=True)
    m["counts"] = {e: sql_count(db, f"SELECT count(*) FROM pco.{t}") for e, t in DLT_TABLES.items()}
    m["records"] = sum(m["counts"].values())
    m["fetched_all"] = m["records"]
    m["state"] = "done" if m["exit"] == 0 else "failed"
    return m


def check_counts(label, m, truth):
    want = {e: truth.get(e, 0) for e in BENCH}
    if m["counts"] != want:
        fail(f"{label}: loaded {m['counts']}, simulator holds {want}")
        m["verified"] = "MISMATCH"
    else:
        m["verified"] = "= simulator"


def minimal_plan(counts, entities, per_page=100):
    """Fewest requests that fetch `entities` with side-loading: people pages carry addresses,
    emails and phone numbers (`include=`), top-level lists at per_page, nested-only lists one page
    per parent. (Single-resource entities such as Organization are not counted.)"""
    pages = lambda n: max(1, math.ceil(n / per_page))
    total = 0
    for entity in entities:
        if entity in SIDE_LOADED or entity == "Organization":
            continue
        if entity in NESTED_ONLY:
            total += counts.get(NESTED_ONLY[entity], 0)
        else:
            total += pages(counts.get(entity, 0))
    return total


# pco-sim's defaults (`tests/pco-sim/src/main.rs`): a request above offset 30,000 is admitted only
# while its window has counted fewer than 75.
SIM_DEEP_OFFSET, SIM_DEEP_LIMIT = 30_000, 75


def least_wall(counts, entities, requests, period, limit=100, per_page=100):
    """The earliest the last of `requests` can be sent under the simulator's fixed windows
    (`limit` per `period` from the first request; deep pages, above SIM_DEEP_OFFSET, only while
    the window has counted fewer than SIM_DEEP_LIMIT), each list read in page order:
    (windows needed - 1) x period. The issue's floor, ceil(requests / limit) x period, also waits
    out the last window, which the first window's full allowance makes unnecessary, and does not
    know the deep pages' lower limit."""
    shallow_pages = SIM_DEEP_OFFSET // per_page + 1  # offsets 0 .. SIM_DEEP_OFFSET
    deep = sum(max(0, math.ceil(counts.get(e, 0) / per_page) - shallow_pages)
               for e in entities if e not in SIDE_LOADED and e not in NESTED_ONLY)
    windows, n = 1, 0
    for cap in [limit] * max(0, requests - deep) + [SIM_DEEP_LIMIT] * deep:
        if n + 1 > cap:
            windows, n = windows + 1, 0
        n += 1
    return (windows - 1) * period


def fmt(x, nd=1):
    return "—" if x is None else f"{x:,.{nd}f}"


def ratio(a, b):
    return None if not a or not b else a / b


def generator_rows(repo):
    """Item 5: build times of the generated adapter (debug profile, the developer's loop) and
    the lines generated. Uses cargo in CARGO_TARGET_DIR; dependencies are built first, untimed."""
    env = dict(os.environ)
    target = env.get("CARGO_TARGET_DIR") or os.path.join(repo, "target")

    def cargo(*args):
        return ["cargo", *args]

    def untimed(*args):
        log(f"generator: cargo {' '.join(args)} (untimed)")
        p = subprocess.run(cargo(*args), cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"cargo {' '.join(args)} failed: {p.stderr.strip()[-2000:]}")

    def touch(rel):
        os.utime(os.path.join(repo, rel))
        COMMANDS.append((f"generator: touch {rel}", f"touch {rel}"))

    rows = []
    untimed("build", "--quiet", "-p", "tributary-engine")
    untimed("clean", "--quiet", "-p", "tributary-pco")
    _, m = timed("generator: tributary-pco from clean", cargo("build", "--quiet", "-p", "tributary-pco"))
    rows.append(("`tributary-pco` from clean (`cargo clean -p tributary-pco`; its dependencies built)",
                 "cargo build -p tributary-pco", m, None))
    untimed("build", "--quiet", "-p", "tributary-engine")
    touch("specs/pco/manifest.yaml")
    _, m = timed("generator: tributary-pco after a manifest edit", cargo("build", "--quiet", "-p", "tributary-pco"))
    rows.append(("after touching `specs/pco/manifest.yaml`", "cargo build -p tributary-pco", m, 15))
    untimed("build", "--quiet", "-p", "tributary-engine")
    # A real edit, not a touch: the generated code changes (a doc comment), so the adapter and
    # everything that depends on it are compiled again. The file is restored afterwards.
    spec = os.path.join(repo, "specs/pco/openapi/people.yaml")
    original = open(spec).read()
    needle = "description: A Campus is a location belonging to an Organization"
    if needle not in original:
        raise RuntimeError(f"generator: {spec} no longer holds the line the benchmark edits: {needle}")
    try:
        with open(spec, "w") as f:
            f.write(original.replace(needle, needle + " (edited by the benchmark)", 1))
        COMMANDS.append(("generator: edit specs/pco/openapi/people.yaml",
                         f"# append ' (edited by the benchmark)' to '{needle}'"))
        _, m = timed("generator: tributary-engine after an OpenAPI edit",
                     cargo("build", "--quiet", "-p", "tributary-engine"))
    finally:
        with open(spec, "w") as f:
            f.write(original)
    rows.append(("after editing the Campus description in `specs/pco/openapi/people.yaml` "
                 "(a generated doc comment changes), the engine and its binary too",
                 "cargo build -p tributary-engine", m, 15))
    untimed("build", "--quiet", "-p", "tributary-engine")
    outs = glob.glob(os.path.join(target, "debug", "build", "tributary-pco-*", "out", "pco.rs"))
    newest = max(outs, key=os.path.getmtime) if outs else None
    lines = sum(1 for _ in open(newest)) if newest else None
    if lines is None:
        fail("generator: no generated pco.rs under " + target)
    return rows, lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=50_000)
    ap.add_argument("--rl-people", type=int, default=50_000, help="rate-limit row, the 4 entities")
    ap.add_argument("--rl-all-people", type=int, default=500, help="rate-limit row, the whole sync")
    ap.add_argument("--rl-period", type=int, default=20, help="rate-limit window in seconds (PCO: 20)")
    ap.add_argument("--scale", default="10000,100000", help="people counts for the scaling row")
    ap.add_argument("--mode", default="full")
    ap.add_argument("--tributary", required=True)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--before-tributary", default="",
                    help="an older tributary binary: its whole sync runs on the headline simulator (row `before`)")
    ap.add_argument("--before-label", default="before")
    ap.add_argument("--dlt-python", default="")
    ap.add_argument("--dlt-script", default=os.path.join(os.path.dirname(__file__), "dlt", "pco_dlt.py"))
    ap.add_argument("--dlt-install-seconds", default="")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each headline row (t4sqlite, t4pg, dlt4), interleaved; the median by wall is reported")
    ap.add_argument("--out", required=True)
    ap.add_argument("--invocation", default="bench/run.sh")
    ap.add_argument("--workdir", default=tempfile.gettempdir())
    ap.add_argument("--only", default="t4sqlite,t4pg,dlt4,tall,before,rl4,rlall,scale,gen",
                    help="rows to run: t4sqlite, t4pg, dlt4, tall, before (needs --before-tributary), "
                         "rl4, rlall, scale, gen")
    a = ap.parse_args()
    only = set(a.only.split(","))
    unknown = only - {"t4sqlite", "t4pg", "dlt4", "tall", "before", "rl4", "rlall", "scale", "gen"}
    if unknown:
        ap.error(f"--only: unknown rows {', '.join(sorted(unknown))}")

    run_id = f"{os.getpid()}"
    load_start = os.getloadavg()
    sims = []
    pg_dbs = []
    sqlite_of = lambda tag: os.path.join(a.workdir, f"bench-{tag}-{run_id}.db")
    t4_sqlite = t4_pg = d4 = t_all = t_before = None
    rl_rows = []
    scale = []
    gen_rows, gen_lines = [], None
    try:
        # 1+2. Throughput, rate limit off: same simulator, same data.
        sim = Sim(a.sim, a.people, ["--no-rate-limit"])
        sims.append(sim)
        truth = sim.admin("counts")
        log(f"simulator {sim.url}: {a.people} people, ground truth {dict((e, truth.get(e)) for e in BENCH)}")
        # The headline rows, interleaved (SQLite, PostgreSQL, dlt, then again) so that a burst
        # of load on the shared machine falls on one repetition, not on one tool; each row then
        # reports its median run by wall time.
        runs = {"t4sqlite": [], "t4pg": [], "dlt4": []}
        for rep in range(max(1, a.repeat)):
            tag = f" [{rep + 1}/{a.repeat}]" if a.repeat > 1 else ""
            if "t4sqlite" in only:
                db = sqlite_of("t4")
                remove_sqlite(db)
                m = run_tributary(a, sim, db, "tributary (4 entities) → SQLite" + tag, BENCH_SELECTION)
                check_counts("tributary (4 entities) → SQLite" + tag, m, truth)
                remove_sqlite(db)
                runs["t4sqlite"].append(m)
            if "t4pg" in only:
                name = f"bench_trib_{run_id}"
                pg_dbs.append(name)
                m = run_tributary(a, sim, fresh_pg(name), "tributary (4 entities) → PostgreSQL" + tag,
                                  BENCH_SELECTION)
                check_counts("tributary (4 entities) → PostgreSQL" + tag, m, truth)
                drop_pg(name)
                runs["t4pg"].append(m)
            if a.dlt_python and "dlt4" in only:
                name = f"bench_dlt_{run_id}"
                pg_dbs.append(name)
                m = run_dlt(a, sim, fresh_pg(name), "dlt (4 lists) → PostgreSQL" + tag)
                check_counts("dlt (4 lists) → PostgreSQL" + tag, m, truth)
                drop_pg(name)
                runs["dlt4"].append(m)
        t4_sqlite, t4_pg, d4 = (median_run(runs[k]) for k in ("t4sqlite", "t4pg", "dlt4"))
        if "tall" in only:
            db = sqlite_of("all")
            remove_sqlite(db)
            t_all = run_tributary(a, sim, db, "tributary whole sync → SQLite")
            check_counts("tributary whole sync → SQLite", t_all, truth)
            remove_sqlite(db)
        if a.before_tributary and "before" in only:
            db = sqlite_of("before")
            remove_sqlite(db)
            t_before = run_tributary(a, sim, db, f"tributary {a.before_label} whole sync → SQLite",
                                     binary=a.before_tributary)
            check_counts(f"tributary {a.before_label} whole sync → SQLite", t_before, truth)
            remove_sqlite(db)
        all_entities = sorted(t_all["entities"]) if t_all else None
        sim.stop()

        # 3. Rate limit on (PCO's 100 requests per window): the 4 entities, and the whole sync.
        for key, people, entities, name in (
                ("rl4", a.rl_people, BENCH_SELECTION, "Tributary, 4 entities → SQLite"),
                ("rlall", a.rl_all_people, None, "Tributary, whole sync → SQLite")):
            if key not in only:
                continue
            rl_sim = Sim(a.sim, people, ["--rate-limit", "100", "--rate-period", str(a.rl_period)])
            sims.append(rl_sim)
            rl_truth = rl_sim.admin("counts")
            db = sqlite_of(key)
            remove_sqlite(db)
            m = run_tributary(a, rl_sim, db, f"{name}, {people} people, rate limit 100/{a.rl_period}s",
                              entities, rate_limited=True)
            check_counts(f"rate-limited {name}", m, rl_truth)
            rl_sim.stop()
            remove_sqlite(db)
            m["name"], m["people"] = name, people
            m["floor"] = math.ceil(m["requests"] / 100) * a.rl_period
            m["min_plan"] = minimal_plan(rl_truth, sorted(m["entities"]) if m["entities"] else BENCH)
            m["least"] = least_wall(rl_truth, sorted(m["entities"]) if m["entities"] else BENCH,
                                    m["requests"], a.rl_period)
            rl_rows.append(m)

        # 4. Scaling: Tributary's peak RSS (the 4 entities → SQLite) by organisation size.
        for n in [int(x) for x in a.scale.split(",") if x.strip()] if "scale" in only else []:
            if n == a.people and t4_sqlite:
                scale.append((n, t4_sqlite))
                continue
            s = Sim(a.sim, n, ["--no-rate-limit"])
            sims.append(s)
            tr = s.admin("counts")
            db = sqlite_of(f"scale-{n}")
            remove_sqlite(db)
            m = run_tributary(a, s, db, f"tributary (4 entities) → SQLite, {n} people", BENCH_SELECTION)
            check_counts(f"scaling {n}", m, tr)
            s.stop()
            remove_sqlite(db)
            scale.append((n, m))
        # 5. Generator: build times after a spec edit, lines generated.
        if "gen" in only:
            gen_rows, gen_lines = generator_rows(REPO)
    finally:
        for s in sims:
            s.stop()
        for name in pg_dbs:
            drop_pg(name)

    # ---- the report -------------------------------------------------------------------------
    def line(name, m, scope):
        if m is None:
            return f"| {name} | not run | | | | | | | | | | |"
        rate = m["records"] / m["wall"] if m["wall"] else None
        return (f"| {name} | {scope} | {m['records']:,} | {m['fetched_all']:,} | {m['requests']:,} | "
                f"{fmt(m['wall'], 2)} | {fmt(m['cpu'], 2)} | {fmt(m['rss_mib'])} | {fmt(rate, 0)} | "
                f"{fmt(m.get('sim_cpu'), 2)} | {fmt(m.get('db_cpu'), 2) if m.get('db_cpu') is not None else 'in process'} | "
                f"{m['verified']}; {m['state']} |")

    head = ("| run | entities synced | records in the 4 tables | records fetched (all) | HTTP requests | "
            "wall s | CPU s (user+sys) | peak RSS MiB | records/s (4 tables ÷ wall) | simulator CPU s | "
            "PostgreSQL server CPU s | check |\n"
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    n_all = len(t_all["entities"]) if t_all else "?"
    out = [f"### 1–2. Throughput, rate limit off — {a.people:,} people", "", head,
           line("Tributary → SQLite", t4_sqlite, f"`--entities {BENCH_SELECTION}`"),
           line("Tributary → PostgreSQL", t4_pg, f"`--entities {BENCH_SELECTION}`"),
           line("dlt rest_api → PostgreSQL", d4, "people, addresses, emails, phone_numbers (4 lists)"),
           line("Tributary whole sync → SQLite (information)", t_all, f"every mapped entity ({n_all})")]
    if t_before:
        out.append(line(f"Tributary {a.before_label} whole sync → SQLite", t_before,
                        f"every entity of that build ({len(t_before['entities'])})"))
    out.append("")

    runs_of = (f"medians of {a.repeat} interleaved runs, one harness run" if a.repeat > 1 else "one run")

    def ratios(tname, t, d):
        rt, rd = t["records"] / t["wall"], d["records"] / d["wall"]
        return [f"**{tname} / dlt → PostgreSQL — same entities, same records ({runs_of})**", "",
                f"| measure | {tname} | dlt → PostgreSQL | Tributary/dlt | target |", "| --- | ---: | ---: | ---: | --- |",
                f"| wall s | {fmt(t['wall'], 2)} | {fmt(d['wall'], 2)} | {fmt(ratio(t['wall'], d['wall']), 3)} | |",
                f"| throughput, records/s (= dlt wall ÷ Tributary wall) | {fmt(rt, 0)} | {fmt(rd, 0)} | {fmt(ratio(rt, rd), 2)} | ≥ 10 |",
                f"| CPU s | {fmt(t['cpu'], 2)} | {fmt(d['cpu'], 2)} | {fmt(ratio(t['cpu'], d['cpu']), 3)} | |",
                f"| peak RSS MiB | {fmt(t['rss_mib'])} | {fmt(d['rss_mib'])} | {fmt(ratio(t['rss_mib'], d['rss_mib']), 3)} | ≤ 0.25 |",
                f"| HTTP requests | {t['requests']:,} | {d['requests']:,} | {fmt(ratio(t['requests'], d['requests']), 3)} | |",
                ""]
    for t, tname in ((t4_sqlite, "Tributary → SQLite"), (t4_pg, "Tributary → PostgreSQL")):
        if t and d4:
            out += ratios(tname, t, d4)
    if a.repeat > 1 and any(runs.values()):
        walls = "; ".join(f"{n} {', '.join(fmt(m['wall'], 2) for m in runs[k])} s"
                          for k, n in (("t4sqlite", "Tributary → SQLite"), ("t4pg", "Tributary → PostgreSQL"),
                                       ("dlt4", "dlt → PostgreSQL")) if runs[k])
        per = "; ".join(f"{n} {', '.join(fmt(ratio(d['wall'], t['wall']), 2) for t, d in zip(runs[k], runs['dlt4']))}"
                        for k, n in (("t4sqlite", "SQLite"), ("t4pg", "PostgreSQL")) if runs[k] and runs["dlt4"])
        out += [f"**Repeats:** Tributary → SQLite, Tributary → PostgreSQL and dlt each ran {a.repeat} times, "
                f"interleaved, against the same simulator; each of their rows above is its median run by wall "
                f"time. Walls, in order: {walls}."
                + (f" Throughput ratio per repetition (dlt wall ÷ Tributary wall of the same repetition): {per}."
                   if per else ""), ""]
    if not a.dlt_python:
        out += ["dlt peer: not run (`--no-dlt`).", ""]
    bench_min = minimal_plan(truth, BENCH)
    t4 = t4_sqlite or t4_pg
    if t4:
        out += [f"Minimal request plan for the 4 entities: {bench_min:,} requests "
                f"(`/people/v2/people?per_page=100&include=addresses,emails,phone_numbers`); Tributary sent "
                f"{t4['requests']:,} ({fmt(ratio(t4['requests'], bench_min), 3)}×).", ""]
    if t_all:
        full_min = minimal_plan(truth, all_entities)
        out += [f"Tributary's whole sync fetched {t_all['fetched_all']:,} records of {n_all} entities "
                f"({', '.join(all_entities)}) in {t_all['requests']:,} requests; the minimal plan for those "
                f"entities is {full_min:,} (top-level lists at 100/page, people's addresses, emails and phone "
                f"numbers side-loaded, nested-only lists one page per parent): "
                f"{fmt(ratio(t_all['requests'], full_min), 3)}×.", ""]
    if t_before and t_all:
        rows = [("HTTP requests", t_before["requests"], t_all["requests"], 0),
                ("wall s", t_before["wall"], t_all["wall"], 2),
                ("CPU s", t_before["cpu"], t_all["cpu"], 2),
                ("peak RSS MiB", t_before["rss_mib"], t_all["rss_mib"], 1),
                ("simulator CPU s", t_before.get("sim_cpu"), t_all.get("sim_cpu"), 2)]
        out += [f"**Whole sync → SQLite, {a.before_label} vs this build (one run, same simulator)**", "",
                f"| measure | {a.before_label} | this build | this build ÷ {a.before_label} |",
                "| --- | ---: | ---: | ---: |"]
        out += [f"| {k} | {fmt(b, nd)} | {fmt(n, nd)} | {fmt(ratio(n, b), 3)} |" for k, b, n, nd in rows]
        out.append("")
    for n in NOTES:
        out += [f"**Note:** {n}", ""]
    for t, name in ((t4_sqlite, "4 entities → SQLite"), (t4_pg, "4 entities → PostgreSQL"), (t_all, "whole sync")):
        if t and t["not_done"]:
            out += [f"Tributary ({name}) entities not `done`: {', '.join(t['not_done'])}.", ""]

    if rl_rows:
        out += [f"### 3. Rate limit on — simulator at 100 requests / {a.rl_period} s", "",
                "| run | people | requests | floor s = ceil(requests/100) × period | wall s | wall ÷ floor | "
                "least s (simulator's windows) | wall ÷ least | "
                "429s (over_limit) | requests ÷ minimal plan | check |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for m in rl_rows:
            out.append(f"| {m['name']} | {m['people']:,} | {m['requests']:,} | {m['floor']:,} | {fmt(m['wall'], 1)} | "
                       f"{fmt(ratio(m['wall'], m['floor']), 3)} | {m['least']:,} | "
                       f"{fmt(ratio(m['wall'], m['least']), 3) if m['least'] else '—'} | {m['over_limit']} | "
                       f"{fmt(ratio(m['requests'], m['min_plan']), 3)} ({m['requests']:,}/{m['min_plan']:,}) | "
                       f"{m['verified']}; {m['state']} |")
        out.append("")

    if scale:
        base = scale[0][1]["rss_mib"]
        out += [f"### 4. Scaling — Tributary peak RSS (`--entities {BENCH_SELECTION}` → SQLite, rate limit off)", "",
                "| people | records | requests | wall s | CPU s | simulator CPU s | peak RSS MiB | RSS ÷ RSS at smallest |",
                "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for n, m in scale:
            out.append(f"| {n:,} | {m['records']:,} | {m['requests']:,} | {fmt(m['wall'], 2)} | {fmt(m['cpu'], 2)} | "
                       f"{fmt(m.get('sim_cpu'), 2)} | {fmt(m['rss_mib'])} | {fmt(ratio(m['rss_mib'], base), 2)} |")
        out.append("")
    if gen_rows:
        out += ["### 5. Generator — `specs/pco` → `tributary-pco` (debug profile, warm dependencies)", "",
                "| build | command | wall s | CPU s | target |", "| --- | --- | ---: | ---: | --- |"]
        for name, cmd, m, bar in gen_rows:
            met = "" if bar is None else f"≤ {bar} s: {'met' if m['wall'] <= bar else 'MISSED'}"
            out.append(f"| {name} | `{cmd}` | {fmt(m['wall'], 1)} | {fmt(m['cpu'], 1)} | {met} |")
        out += ["", f"Generated: {f'{gen_lines:,}' if gen_lines else '?'} lines of Rust (`pco.rs` in the build's `OUT_DIR`; "
                    f"`cargo bench -p tributary-codegen --bench generate` times the generator alone).", ""]
    results = "\n".join(out)
    print(results)

    head_rev = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True,
                              cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    env_lines = [
        f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; mode `{a.mode}`; "
        f"tree at git {head_rev}; binaries `{a.tributary}`, `{a.sim}`",
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
