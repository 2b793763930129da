#!/usr/bin/env python3
"""The dlt peer of `tributary sync`: loads Planning Center people with their addresses, emails and
phone numbers from a PCO base URL (the simulator) into PostgreSQL with dlt's `rest_api` source.

Request plan `--plan bench4` (the only plan): the four top-level lists
  /people/v2/people, /people/v2/addresses, /people/v2/emails, /people/v2/phone_numbers
with per_page=100 and `order=created_at`, paged through PCO's `links.next` (dlt's `json_link` paginator, or
`--paginator offset` for dlt's offset paginator on `offset`/`per_page` with `meta.total_count`),
HTTP Basic auth, `write_disposition: merge` on the primary key `id`.

Prints one JSON line: {"tables": {...row counts...}, "records": N, "seconds": S, ...}.
"""
import argparse
import json
import os
import sys
import tempfile
import time

# name: (path, order). The plan that replayed the engine's old request list (`--plan engine`) was
# removed when the engine started side-loading people's children: see BENCHMARKS.md.
BENCH4 = {
    "people": ("people/v2/people", "created_at"),
    "addresses": ("people/v2/addresses", "created_at"),
    "emails": ("people/v2/emails", "created_at"),
    "phone_numbers": ("people/v2/phone_numbers", "created_at"),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--database-url", required=True, help="postgresql://user@host:port/db")
    ap.add_argument("--app-id", default=os.environ.get("PCO_APP_ID", "sim-app-id"))
    ap.add_argument("--secret", default=os.environ.get("PCO_SECRET", "sim-secret"))
    ap.add_argument("--per-page", type=int, default=100)
    ap.add_argument("--paginator", choices=["json_link", "offset"], default="json_link")
    ap.add_argument("--plan", choices=["bench4"], default="bench4",
                    help="bench4: the four people lists (people, addresses, emails, phone_numbers)")
    ap.add_argument("--dataset", default="pco")
    ap.add_argument("--pipelines-dir", default=None, help="dlt working dir (default: a fresh temp dir)")
    args = ap.parse_args()

    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    import dlt
    from dlt.sources.rest_api import rest_api_source

    resources = BENCH4
    if args.paginator == "json_link":
        paginator = {"type": "json_link", "next_url_path": "links.next"}
    else:
        paginator = {
            "type": "offset",
            "limit": args.per_page,
            "offset_param": "offset",
            "limit_param": "per_page",
            "total_path": "meta.total_count",
        }
    config = {
        "client": {
            "base_url": args.base_url.rstrip("/") + "/",
            "auth": {"type": "http_basic", "username": args.app_id, "password": args.secret},
            "paginator": paginator,
        },
        "resource_defaults": {
            "primary_key": "id",
            "write_disposition": "merge",
            "endpoint": {
                "data_selector": "data",
                "params": {"per_page": args.per_page},
            },
        },
        "resources": [
            {"name": name,
             "endpoint": {"path": path, "params": {"order": order} if order else {}}}
            for name, (path, order) in resources.items()
        ],
    }
    database_url = args.database_url
    # dlt insists on a password; with trust authentication any placeholder is accepted.
    from urllib.parse import urlsplit, urlunsplit
    u = urlsplit(database_url)
    if u.password is None and u.username:
        database_url = urlunsplit(u._replace(netloc=f"{u.username}:trust@{u.hostname}:{u.port or 5432}"))
    pipelines_dir = args.pipelines_dir or tempfile.mkdtemp(prefix="dlt-pco-")
    pipeline = dlt.pipeline(
        pipeline_name="pco_bench",
        pipelines_dir=pipelines_dir,
        destination=dlt.destinations.postgres(credentials=database_url),
        dataset_name=args.dataset,
        progress="log" if os.environ.get("DLT_PROGRESS") else None,
    )
    started = time.monotonic()
    info = pipeline.run(rest_api_source(config))
    seconds = time.monotonic() - started
    info.raise_on_failed_jobs()

    counts = {}
    with pipeline.sql_client() as client:
        for name in resources:
            if not client.has_dataset() or name not in pipeline.default_schema.tables:
                counts[name] = 0  # nothing was ever yielded for it
                continue
            rows = client.execute_sql(f"SELECT count(*) FROM {client.make_qualified_table_name(name)}")
            counts[name] = int(rows[0][0])
    print(json.dumps({
        "tool": "dlt",
        "dlt_version": dlt.__version__,
        "paginator": args.paginator,
        "plan": args.plan,
        "tables": counts,
        "records": sum(counts[n] for n in BENCH4),
        "records_all": sum(counts.values()),
        "seconds": round(seconds, 3),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
