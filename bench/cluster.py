"""The ticket list, the ticket page and a readonly page (FAQ) on the cluster of scripts/cluster.py:
1 Odoo node vs 2 nodes, with and without the read replica, all through HAProxy, in one run
(``make bench`` calls it after its sizes; alone: ``python bench/cluster.py --config .local/odoo-bench.conf``).

Four Odoo nodes run at once on the cluster's primary and standby: a and b without the replica,
c and d with it (``--db_replica_host``); four HAProxy frontends serve the four configurations
(a; a+b; c; c+d). Configurations are interleaved: each round measures every page on every
configuration in a shuffled order, so that the load of the machine hits them alike; the report
gives the median requests/s and, for the ratios 2 nodes / 1 node and replica / no replica, the
median of the per-round ratios with their spread (min-max). The database is the largest
benchmark database of ``make bench`` (``--db``, copied into the cluster's primary with
pg_dump | pg_restore) or, without one, the demo database. Writes bench/RESULTS_CLUSTER.md and
bench/out/cluster.json.

On a single machine the nodes, both PostgreSQL servers and HAProxy share the same cores: a
second node or a replica adds processes, not CPU. What this measures here is the cost of the
deployment (proxy hop, replica routing) and that nothing breaks; capacity on separate machines
is in docs/scaling.md.
"""

import argparse
import configparser
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "scripts"))

from cluster import Cluster  # noqa: E402

sys.path.insert(0, str(HERE))
import measure  # noqa: E402

NODES = [False, False, True, True]  # replica? for nodes a, b, c, d
CONFIGS = {  # label -> node indexes behind its HAProxy frontend
    "1 node": [0],
    "2 nodes": [0, 1],
    "1 node + replica": [2],
    "2 nodes + replica": [2, 3],
}
RATIOS = {"2 nodes / 1": ("2 nodes", "1 node"), "replica / none (2 nodes)": ("2 nodes + replica", "2 nodes")}

HAPROXY_CFG = """global
    maxconn 512
defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 300s
    timeout queue 60s
    option http-server-close
{sections}
listen stats
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /
"""
SECTION = """frontend f{k}
    bind 127.0.0.1:{port}
    default_backend b{k}
backend b{k}
    balance roundrobin
    option httpchk
    http-check send meth GET uri /web/health ver HTTP/1.1 hdr Host 127.0.0.1
    default-server inter 1s fall 2 rise 2 maxconn 2
{servers}
"""


def log(msg):
    print(f"[bench-cluster {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def login(base, user, password):
    import re

    session = requests.Session()
    page = session.get(base + "/web/login", timeout=30).text
    token = re.search(r'name="csrf_token"\s+value="([^"]+)"', page).group(1)
    response = session.post(
        base + "/web/login",
        data={"login": user, "password": password, "csrf_token": token, "redirect": "/my"},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code not in (302, 303) or "/web/login" in response.headers.get("Location", ""):
        raise RuntimeError(f"login of {user} failed")
    return session


def load(base, session, path, clients, seconds):
    """``clients`` threads asking ``path`` for ``seconds``: rps, p50/p95 (ms), errors."""
    latencies, errors, elapsed = measure.hammer(
        base + path, session, clients, seconds, ok=lambda response: response.status_code == 200, allow_redirects=False
    )
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(latencies, 50),
        "p95_ms": pct(latencies, 95),
        "errors": errors,
        "requests": len(latencies),
    }


def copy_database(cluster, config, source):
    """pg_dump ``source`` from the server of ``config`` into the cluster's primary (once)."""
    if cluster.psql(f"SELECT 1 FROM pg_database WHERE datname = '{cluster.db}'"):
        return
    options = configparser.ConfigParser()
    options.read(config)
    o = options["options"]
    log(f"copying {source} into the cluster's primary (pg_dump | pg_restore)...")
    cluster.psql(f'CREATE DATABASE "{cluster.db}"')
    dump = subprocess.Popen(
        [cluster.bin / "pg_dump", "-h", o["db_host"], "-p", o["db_port"], "-U", o["db_user"], "-Fc", source],
        stdout=subprocess.PIPE,
    )
    subprocess.run(
        [cluster.bin / "pg_restore", "-h", cluster.primary_dir, "-p", str(cluster.pg_port), "-U", "odoo"]
        + ["--no-owner", "-d", cluster.db],
        stdin=dump.stdout,
        check=True,
    )
    dump.wait()
    filestore = Path(o.get("data_dir", "")) / "filestore" / source
    if filestore.is_dir():
        shutil.copytree(filestore, cluster.data_dir / "filestore" / cluster.db, dirs_exist_ok=True)


def pages_of(cluster):
    ticket = cluster.psql(
        """SELECT res_id FROM mail_message WHERE model = 'terasoft.ticket' GROUP BY res_id
           ORDER BY count(*) DESC, res_id DESC LIMIT 1""",
        db=cluster.db,
    )
    return [("ticket list", "/my/tickets"), ("ticket page", f"/my/tickets/{ticket}"), ("FAQ (readonly)", "/my/faq")]


def start_haproxy(cluster, frontends):
    """One HAProxy with a frontend per configuration (ports ``frontends``); returns its process."""
    sections = []
    for k, (label, nodes) in enumerate(CONFIGS.items()):
        servers = "\n".join(f"    server n{i} 127.0.0.1:{cluster.node_ports[i]} check" for i in nodes)
        sections.append(SECTION.format(k=k, port=frontends[label], servers=servers))
    cfg = cluster.state / "haproxy-bench.cfg"
    cfg.write_text(HAPROXY_CFG.format(sections="\n".join(sections), stats_port=frontends["stats"]))
    proc = subprocess.Popen(["haproxy", "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for label in CONFIGS:
        if not cluster.wait_http(f"http://127.0.0.1:{frontends[label]}/web/login", 60):
            raise RuntimeError(f"HAProxy frontend {label} did not answer")
    time.sleep(3)  # health checks: every server UP
    return proc


def median(values):
    return statistics.median(values) if values else float("nan")


def report(results, args, pages):
    lines = [
        "# Cluster benchmark (bench/cluster.py)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M')}, database `{results['db']}` ({results['tickets']} tickets), "
        f"{args.clients} clients, {args.rounds} interleaved rounds of {args.seconds} s per page and "
        f"configuration, all through HAProxy (maxconn 2 = workers per node); machine: {results['cpus']} CPUs "
        f"shared by the four nodes and both PostgreSQL servers, load average {results['load']}.",
        "",
        "Median req/s (p95 ms of the round at the median):",
        "",
        "| page | " + " | ".join(CONFIGS) + " | " + " | ".join(RATIOS) + " |",
        "|---|" + "---|" * (len(CONFIGS) + len(RATIOS)),
    ]
    for label, _path in pages:
        cells = []
        for config in CONFIGS:
            runs = sorted(results["runs"][config][label], key=lambda r: r["rps"])
            mid = runs[len(runs) // 2]
            errors = sum(r["errors"] for r in runs)
            cells.append(f"{mid['rps']:.1f} ({mid['p95_ms']:.0f} ms){f', {errors} err' if errors else ''}")
        for top, bottom in RATIOS.values():
            ratios = [
                a["rps"] / b["rps"]
                for a, b in zip(results["runs"][top][label], results["runs"][bottom][label], strict=True)
                if b["rps"]
            ]
            cells.append(f"{median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Ratios: median of the per-round ratios (min-max). Statements served by the standby during the "
        f"run (pg_stat_statements): {results['standby_calls']:,}; by the primary: {results['primary_calls']:,}.",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="Odoo config of the server holding --db (make bench's)")
    parser.add_argument("--db", help="database to copy into the cluster (default: the demo database)")
    parser.add_argument("--port", type=int, default=8486, help="base port: nodes, gevent, stats, frontends after it")
    parser.add_argument("--pg-port", type=int, default=55464)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="leave the cluster's PostgreSQL servers running")
    parser.add_argument("--login", help="portal login (default: the benchmark user with --db, else a demo user)")
    parser.add_argument("--password")
    parser.add_argument("--out", default=str(HERE / "RESULTS_CLUSTER.md"))
    args = parser.parse_args()

    dbname = f"cluster_{args.db}" if args.db else "terasoft_demo"
    cluster = Cluster(args.port, args.pg_port, db=dbname, state=ROOT / ".local" / "cluster-bench", nodes=4)
    top = cluster.stats_port
    frontends = {label: top + 1 + k for k, label in enumerate(CONFIGS)} | {"stats": top}
    if args.db:
        user, password = "bench.portal@example.com", "bench"  # seed.py's BENCH_LOGIN, BENCH_PASSWORD
    else:
        user, password = "giulia.bianchi@example.com", "demo"
    user, password = args.login or user, args.password or password
    proxy = None
    try:
        cluster.data_dir.mkdir(parents=True, exist_ok=True)
        cluster.start_primary()
        cluster.start_standby()
        cluster.write_config()
        if args.db:
            copy_database(cluster, args.config, args.db)
        cluster.ensure_db()
        cluster.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", db=cluster.db)
        for i, replica in enumerate(NODES):
            cluster.start_node(i, replica=replica)
        for i in range(len(NODES)):
            if not cluster.wait_http(f"http://127.0.0.1:{cluster.node_ports[i]}/web/health"):
                raise RuntimeError(f"node {i + 1} did not start: see {cluster.state}")
        proxy = start_haproxy(cluster, frontends)
        pages = pages_of(cluster)
        tickets = cluster.psql("SELECT count(*) FROM terasoft_ticket", db=cluster.db)
        # one login: the nodes share the sessions (data_dir) and the database
        session = login(f"http://127.0.0.1:{frontends['1 node']}", user, password)
        results = {"db": dbname, "tickets": int(tickets), "cpus": os.cpu_count(), "runs": {}}
        results["runs"] = {config: {label: [] for label, _path in pages} for config in CONFIGS}
        calls = "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements"
        standby_before = int(cluster.psql(calls, standby=True, db=cluster.db))
        primary_before = int(cluster.psql(calls, db=cluster.db))
        for config in CONFIGS:  # warm-up: the caches of every worker
            for _label, path in pages:
                load(f"http://127.0.0.1:{frontends[config]}", session, path, 4, 2)
        rnd = random.Random(14)
        for round_no in range(args.rounds):
            for label, path in pages:
                order = list(CONFIGS)
                rnd.shuffle(order)
                for config in order:
                    result = load(f"http://127.0.0.1:{frontends[config]}", session, path, args.clients, args.seconds)
                    results["runs"][config][label].append(result)
            log(f"round {round_no + 1}/{args.rounds} done")
        results["standby_calls"] = int(cluster.psql(calls, standby=True, db=cluster.db)) - standby_before
        results["primary_calls"] = int(cluster.psql(calls, db=cluster.db)) - primary_before
        results["load"] = " / ".join(f"{x:.1f}" for x in os.getloadavg())
        text = report(results, args, pages)
        Path(args.out).write_text(text)
        (HERE / "out").mkdir(exist_ok=True)
        (HERE / "out" / "cluster.json").write_text(json.dumps(results, indent=1))
        print(text, flush=True)
    finally:
        if proxy:
            proxy.terminate()
            proxy.wait(10)
        for i in range(len(NODES)):
            cluster.stop_node(i)
        if not args.keep:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
