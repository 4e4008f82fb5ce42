#!/usr/bin/env python3
"""Portal ticket creation, ours against the peer: the "create ticket" row of bench.py alone,
without seeding or the other pages (minutes instead of an hour).

    .venv/bin/python bench/create.py --config .local/odoo-bench.conf \
        --odoo-src ~/.cache/terasoft_portal/odoo-19.0 --ours wm_100k --peer wm_peer_100k

Both servers run at once and the submissions alternate (ours, the peer's, ours, ...), so that
the load of a shared machine weighs on both alike. The POSTs create tickets: give it copies of
the benchmark databases. Prints one JSON line per database (median/p95 ms, median SQL queries
of the POSTs, HTTP statuses) and the ratio ours/peer.
"""

import argparse
import json
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import measure  # noqa: E402
from seed import BENCH_LOGIN, BENCH_PASSWORD  # noqa: E402

from bench import OUT, PY, create_form  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--odoo-src", required=True)
    parser.add_argument("--ours", required=True, help="a copy of bench_ours_<size>")
    parser.add_argument("--peer", required=True, help="a copy of bench_peer_<size>")
    parser.add_argument("--port", type=int, default=8269, help="ours: port, port+1; the peer: port+2, port+3")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    odoo_bin = str(Path(args.odoo_src) / "odoo-bin")
    runs = {}
    with ExitStack() as stack:
        for index, (addon, db) in enumerate((("ours", args.ours), ("peer", args.peer))):
            port = args.port + 2 * index
            server = stack.enter_context(
                measure.OdooServer(
                    odoo_bin,
                    PY,
                    args.config,
                    db,
                    port,
                    args.workers,
                    OUT / f"{db}-create-w{args.workers}.log",
                    extra=("--gevent-port", str(port + 1)),
                )
            )
            session = measure.login(server.base, BENCH_LOGIN, BENCH_PASSWORD)
            form, post, data = create_form(addon, args.config, db)
            runs[addon] = {
                "server": server,
                "session": session,
                "form": form,
                "post": post,
                "data": data,
                "times": [],
                "statuses": set(),
            }

        def submit(run):
            session, base = run["session"], run["server"].base
            token = measure.csrf_of(session.get(base + run["form"], timeout=60).text)
            t0 = time.perf_counter()
            resp = session.post(
                base + run["post"], data=dict(run["data"](), csrf_token=token), timeout=120, allow_redirects=False
            )
            return (time.perf_counter() - t0) * 1000, resp.status_code

        for _ in range(args.warmup):
            for run in runs.values():
                submit(run)
        for run in runs.values():
            run["offset"] = run["server"].log_offset()
        for _ in range(args.requests):
            for run in runs.values():
                ms, status = submit(run)
                run["times"].append(ms)
                run["statuses"].add(status)
        time.sleep(0.5)  # let the workers flush their log lines
        results = {}
        for addon, run in runs.items():
            queries = run["server"].queries_since(run["offset"], run["post"], "POST")
            results[addon] = {
                "median_ms": statistics.median(run["times"]),
                "p95_ms": measure.pct(run["times"], 95),
                "queries": statistics.median(queries) if queries else None,
                "status": sorted(run["statuses"]),
            }
            print(json.dumps({addon: results[addon]}), flush=True)
    print(json.dumps({"ratio": results["ours"]["median_ms"] / results["peer"]["median_ms"]}))


if __name__ == "__main__":
    main()
