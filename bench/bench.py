#!/usr/bin/env python3
"""`make bench`: terasoft_portal against OCA helpdesk_mgmt on the same machine, same data,
same run. Seeds (or reuses) databases of 1k/10k/100k tickets, serves each with Odoo
(--workers=2, and once --workers=0), measures as the benchmark portal user, measures our
crons, and writes bench/RESULTS.md (+ bench/out/results.json).

    bash scripts/setup.sh bench                  # what `make bench` runs
    BENCH_SIZES=1000 bash scripts/setup.sh bench # a quick run
"""

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).parent))
import measure  # noqa: E402
from seed import BENCH_LOGIN, BENCH_PASSWORD  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PY = sys.executable


def odoo_cmd(args, config):
    return [PY, str(Path(args.odoo_src) / "odoo-bin"), "-c", config]


def db_connect(config, dbname="postgres"):
    import configparser

    parser = configparser.ConfigParser()
    parser.read(config)
    o = parser["options"]
    kw = dict(dbname=dbname, host=o["db_host"], port=o["db_port"], user=o["db_user"])
    if o.get("db_password"):
        kw["password"] = o["db_password"]
    return psycopg2.connect(**kw)


def db_exists(config, db):
    with db_connect(config) as cn, cn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db])
        return bool(cr.fetchone())


def prepare(args, addon, size):
    """Create and seed the database of ``addon`` with ``size`` tickets unless it exists."""
    db = f"bench_{addon}_{size}" if addon != "bare" else "bench_bare"
    module = {"ours": "terasoft_portal", "peer": "helpdesk_mgmt", "bare": "portal"}[addon]
    seeded = OUT / f"{db}.seeded"
    if db_exists(args.config, db) and seeded.exists():
        if addon == "ours":
            upgrade(args, db)
        return db
    t0 = time.time()
    subprocess.run(
        odoo_cmd(args, args.config) + ["-d", db, "-i", module, "--stop-after-init", "--no-http", "--log-level=warn"],
        check=True,
    )
    subprocess.run(
        [
            PY,
            str(ROOT / "bench" / "seed.py"),
            "--config",
            args.config,
            "--db",
            db,
            "--addon",
            addon,
            "--tickets",
            str(size),
        ],
        check=True,
    )
    seeded.write_text(f"{time.time() - t0:.0f}")
    if addon == "ours":
        (OUT / f"{db}.module").write_text(module_digest())
    print(f"[bench] {db}: installed and seeded in {time.time() - t0:.0f}s", flush=True)
    return db


def module_digest():
    """A digest of the addon's files: a seeded database is upgraded when the code changed."""
    digest = hashlib.sha1()
    addon = ROOT / "terasoft_portal"
    for path in sorted(p for p in addon.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(addon)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def upgrade(args, db):
    """``-u terasoft_portal`` on a database seeded with an older version of the addon."""
    stamp = OUT / f"{db}.module"
    digest = module_digest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    t0 = time.time()
    subprocess.run(
        odoo_cmd(args, args.config)
        + ["-d", db, "-u", "terasoft_portal", "--stop-after-init", "--no-http", "--log-level=warn"],
        check=True,
    )
    stamp.write_text(digest)
    print(f"[bench] {db}: terasoft_portal upgraded in {time.time() - t0:.0f}s", flush=True)


def big_ticket(config, db, table):
    """The open ticket of the benchmark company with 20 messages (see seed.py)."""
    with db_connect(config, db) as cn, cn.cursor() as cr:
        cr.execute(
            """SELECT res_id FROM mail_message WHERE model = %s GROUP BY res_id
                       HAVING count(*) >= 20 ORDER BY res_id DESC LIMIT 1""",
            ["terasoft.ticket" if table == "terasoft_ticket" else "helpdesk.ticket"],
        )
        return cr.fetchone()[0]


def pages(addon, config, db):
    """The pages measured for ``addon``, as (label, path)."""
    if addon == "bare":
        return [("home /my", "/my"), ("login page", "/web/login")]
    if addon == "ours":
        ticket = big_ticket(config, db, "terasoft_ticket")
        return [
            ("home /my", "/my"),
            ("list p1", "/my/tickets"),
            ("list p5", "/my/tickets/page/5"),
            ("list search", "/my/tickets?search=cedolino&search_in=all"),
            ("list state filter", "/my/tickets?filterby=waiting_customer"),
            ("ticket 20 msgs", f"/my/tickets/{ticket}"),
        ]
    ticket = big_ticket(config, db, "helpdesk_ticket")
    with db_connect(config, db) as cn, cn.cursor() as cr:
        cr.execute("SELECT id FROM helpdesk_ticket_stage WHERE NOT closed ORDER BY sequence, id LIMIT 1 OFFSET 1")
        stage = cr.fetchone()[0]
    return [
        ("home /my", "/my"),
        ("list p1", "/my/tickets"),
        ("list p5", "/my/tickets/page/5"),
        ("list search", "/my/tickets?search=cedolino&search_in=all"),
        ("list state filter", f"/my/tickets?filterby={stage}"),
        ("ticket 20 msgs", f"/my/ticket/{ticket}"),
    ]


def peer_chatter_calls(config, db):
    """(label, path, params) of the two JSON-RPC calls of the peer's ticket page chatter."""
    ticket = big_ticket(config, db, "helpdesk_ticket")
    thread = {"thread_model": "helpdesk.ticket", "thread_id": ticket}
    return [
        ("ticket chatter_init", "/portal/chatter_init", thread),
        ("ticket chatter_fetch", "/mail/chatter_fetch", dict(thread, fetch_params={"limit": 30})),
    ]


def peer_chatter(args, server, session, db):
    """The peer's ticket page shows its messages with two JSON-RPC calls its browser makes
    after the page (Odoo's portal chatter); ours renders them in the page. Both calls, as the
    chatter makes them, so that "a ticket page with 20 messages" compares what the user sees."""
    out = {}
    for label, path, params in peer_chatter_calls(args.config, db):
        out[label] = measure.sequential_rpc(server, session, path, params, n=args.requests)
        print(f"[bench] {db} {label}: {out[label]}", flush=True)
    return out


def create_form(addon, config, db):
    """(form path, post path, data factory) of the portal's ticket creation."""
    with db_connect(config, db) as cn, cn.cursor() as cr:
        # a category the seed created (ours also ships "To Classify", not offered in the portal)
        table = "terasoft_ticket_category" if addon == "ours" else "helpdesk_ticket_category"
        cr.execute(f"SELECT id FROM {table} WHERE name::text LIKE '%%Paghe%%' ORDER BY id LIMIT 1")
        category = cr.fetchone()[0]
    if addon == "ours":
        return (
            "/my/tickets/new",
            "/my/tickets/new",
            lambda: {
                "name": "Cedolino di prova dal benchmark",
                "category_id": category,
                "priority": "1",
                "importance": "non_blocking",
                "ticket_type": "clarification",
                "description": "Descrizione del problema con i controlli già eseguiti.",
            },
        )
    return (
        "/new/ticket",
        "/submitted/ticket",
        lambda: {
            "subject": "Cedolino di prova dal benchmark",
            "category": category,
            "description": "Descrizione del problema con i controlli già eseguiti.",
        },
    )


def measure_db(args, addon, db, workers, concurrency=True, create=True):
    port = args.port
    result = {"addon": addon, "db": db, "workers": workers, "pages": {}, "concurrent": []}
    with measure.OdooServer(
        str(Path(args.odoo_src) / "odoo-bin"), PY, args.config, db, port, workers, OUT / f"{db}-w{workers}.log"
    ) as server:
        session = measure.login(server.base, BENCH_LOGIN, BENCH_PASSWORD)
        for label, path in pages(addon, args.config, db):
            result["pages"][label] = measure.sequential(server, session, path, n=args.requests)
            print(f"[bench] {db} w{workers} {label}: {result['pages'][label]}", flush=True)
        if addon == "peer":
            result["pages"].update(peer_chatter(args, server, session, db))
        # the home page's ticket tile counter, the same JSON-RPC for both addons (the bare portal
        # answers {}: the floor of the call); see report.py
        result["pages"]["home counters"] = measure.sequential_rpc(
            server, session, "/my/counters", {"counters": ["ticket_count"]}, n=args.requests
        )
        print(f"[bench] {db} w{workers} home counters: {result['pages']['home counters']}", flush=True)
        if addon != "bare" and create:
            form, post, data = create_form(addon, args.config, db)
            result["pages"]["create ticket"] = measure.sequential_posts(
                server, session, form, post, data, n=args.requests
            )
            print(f"[bench] {db} w{workers} create: {result['pages']['create ticket']}", flush=True)
        if addon != "bare" and concurrency:
            for clients in (8, 32):
                res = measure.concurrent(server, session, "/my/tickets", clients, args.seconds)
                result["concurrent"].append(res)
                print(f"[bench] {db} w{workers} {clients} clients: {res}", flush=True)
            if shutil.which("haproxy"):
                with measure.HAProxy(port + 1, port, max(workers, 1), OUT / "haproxy.cfg") as proxy:
                    for clients in (8, 32):
                        res = measure.concurrent(proxy, session, "/my/tickets", clients, args.seconds)
                        result.setdefault("concurrent_proxy", []).append(res)
                        print(f"[bench] {db} w{workers} {clients} clients via HAProxy: {res}", flush=True)
    return result


def explain(args, db, addon):
    """EXPLAIN ANALYZE of the list page's main queries (the floor of the list page)."""
    with db_connect(args.config, db) as cn, cn.cursor() as cr:
        cr.execute("SELECT partner_id FROM res_users WHERE login = %s", [BENCH_LOGIN])
        partner = cr.fetchone()[0]
        cr.execute("SELECT commercial_partner_id FROM res_partner WHERE id = %s", [partner])
        company = cr.fetchone()[0]
        if addon == "ours":
            queries = {
                "list": (
                    "SELECT id FROM terasoft_ticket WHERE commercial_partner_id = %s AND is_done IS NOT TRUE "
                    "AND company_id IN (1) ORDER BY id DESC LIMIT 20",
                    [company],
                ),
                "count": (
                    "SELECT count(*) FROM terasoft_ticket WHERE commercial_partner_id = %s "
                    "AND is_done IS NOT TRUE AND company_id IN (1)",
                    [company],
                ),
            }
        else:
            queries = {
                "list": (
                    "SELECT id FROM helpdesk_ticket WHERE commercial_partner_id = %s ORDER BY id DESC LIMIT 80",
                    [company],
                ),
                "count": ("SELECT count(*) FROM helpdesk_ticket WHERE commercial_partner_id = %s", [company]),
            }
        out = {}
        for name, (sql, params) in queries.items():
            for _ in range(3):  # warm the cache, keep the last
                cr.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
                plan = cr.fetchone()[0][0]
            out[name] = {"ms": plan["Execution Time"], "node": plan["Plan"]["Node Type"]}
        return out


def crons(args, db):
    proc = subprocess.run(
        [PY, str(ROOT / "bench" / "crons.py"), "--config", args.config, "--db", db], capture_output=True, text=True
    )
    print(proc.stdout[-3000:], proc.stderr[-3000:] if proc.returncode else "", flush=True)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": proc.stderr[-500:]}


def service_reports(args, db):
    """Time to open each service report, and the moves' working-hour cost (bench/reports.py)."""
    proc = subprocess.run(
        [PY, str(ROOT / "bench" / "reports.py"), "--config", args.config, "--db", db], capture_output=True, text=True
    )
    print(proc.stdout[-3000:], proc.stderr[-3000:] if proc.returncode else "", flush=True)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": proc.stderr[-500:]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--odoo-src", required=True)
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "1000,10000,100000"))
    parser.add_argument("--requests", type=int, default=int(os.environ.get("BENCH_REQUESTS", 50)))
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 20)))
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8269)))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.replace(" ", ",").split(",") if s]
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "date": time.strftime("%Y-%m-%d %H:%M"),
        },
        "sizes": {},
        "floor": {},
    }
    bare = prepare(args, "bare", 0)
    results["floor"]["bare"] = measure_db(args, "bare", bare, 2, concurrency=False, create=False)
    for size in sizes:
        entry = results["sizes"][str(size)] = {}
        for addon in ("ours", "peer"):
            db = prepare(args, addon, size)
            entry[addon] = measure_db(args, addon, db, 2)
            entry[addon]["explain"] = explain(args, db, addon)
        if size == max(sizes):
            for addon in ("ours", "peer"):
                entry[f"{addon}_w0"] = measure_db(
                    args, addon, f"bench_{addon}_{size}", 0, concurrency=False, create=False
                )
            entry["crons"] = crons(args, f"bench_ours_{size}")
            entry["reports"] = service_reports(args, f"bench_ours_{size}")
            # both servers at once, requests interleaved round by round: the ratios of record
            # (bench/interleave.py; its own ports, above the ones used here)
            import interleave  # noqa: PLC0415 - it imports this module

            entry["interleaved"] = interleave.run(
                args, f"bench_ours_{size}", f"bench_peer_{size}", args.port + 10, rounds=args.requests
            )
        (OUT / "results.json").write_text(json.dumps(results, indent=1, default=str))
    subprocess.run(
        [PY, str(ROOT / "bench" / "report.py"), str(OUT / "results.json"), str(ROOT / "bench" / "RESULTS.md")],
        check=True,
    )
    # the cluster rows (1 vs 2 nodes, with and without the read replica): bench/cluster.py,
    # its own report bench/RESULTS_CLUSTER.md; BENCH_CLUSTER=0 skips it
    if os.environ.get("BENCH_CLUSTER", "1") != "0":
        cluster = [PY, str(ROOT / "bench" / "cluster.py"), "--config", args.config, "--db", f"bench_ours_{max(sizes)}"]
        subprocess.run(cluster, check=False)


if __name__ == "__main__":
    main()
