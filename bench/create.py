#!/usr/bin/env python3
"""Portal ticket creation, ours against the peer, in one run: the "create ticket" row of
bench.py alone, without seeding or the other pages (minutes instead of an hour).

    .venv/bin/python bench/create.py --config .local/odoo-bench.conf \
        --odoo-src ~/.cache/terasoft_portal/odoo-19.0 --ours wm_100k --peer wm_peer_100k

The POSTs create tickets: give it copies of the benchmark databases. Prints one JSON line per
database (median/p95 ms, median SQL queries, HTTP statuses) and the ratio ours/peer.
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import measure  # noqa: E402
from bench import OUT, PY, create_form  # noqa: E402
from seed import BENCH_LOGIN, BENCH_PASSWORD  # noqa: E402


def measure_create(args, addon, db):
    OUT.mkdir(parents=True, exist_ok=True)
    with measure.OdooServer(str(Path(args.odoo_src) / "odoo-bin"), PY, args.config, db, args.port,
                            args.workers, OUT / f"{db}-create-w{args.workers}.log") as server:
        session = measure.login(server.base, BENCH_LOGIN, BENCH_PASSWORD)
        form, post, data = create_form(addon, args.config, db)
        return measure.sequential_posts(server, session, form, post, data, n=args.requests, warmup=args.warmup)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--odoo-src", required=True)
    parser.add_argument("--ours", required=True, help="a copy of bench_ours_<size>")
    parser.add_argument("--peer", required=True, help="a copy of bench_peer_<size>")
    parser.add_argument("--port", type=int, default=8269)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    results = {}
    for addon, db in (("ours", args.ours), ("peer", args.peer)):
        results[addon] = measure_create(args, addon, db)
        print(json.dumps({addon: results[addon]}), flush=True)
    print(json.dumps({"ratio": results["ours"]["median_ms"] / results["peer"]["median_ms"]}))


if __name__ == "__main__":
    main()
