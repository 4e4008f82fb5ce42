"""The ticket list, the ticket page and a readonly page (FAQ) on the cluster of scripts/cluster.py:
1 Odoo node vs 2 nodes, with and without the read replica, all through HAProxy, in one run
(``make bench`` calls it after its sizes; alone: ``python bench/cluster.py --config .local/odoo-bench.conf``).

Each configuration serves the same database; for each page, ``--clients`` sessions ask it for
``--seconds``: requests/s, p50/p95 (ms), errors. The ratios 2 nodes / 1 node and replica / no
replica come from the same run. The database is the largest benchmark database of ``make bench``
(``--db``, copied into the cluster's primary with pg_dump | pg_restore) or, without one, the demo
database. Writes bench/RESULTS_CLUSTER.md and bench/out/cluster.json.

On a single machine both nodes, both PostgreSQL servers and HAProxy share the same cores: a
second node or a replica adds processes, not CPU. What this measures here is the cost of the
deployment (proxy hop, replica routing) and that nothing breaks; capacity on real machines is
in docs/scaling.md.
"""

import argparse
import configparser
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "scripts"))

from cluster import Cluster  # noqa: E402

CONFIGS = [(1, False), (2, False), (1, True), (2, True)]  # (nodes, replica)


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
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.time() + seconds

    def worker():
        own = requests.Session()
        own.cookies.update(session.cookies)
        while time.time() < deadline:
            t0 = time.perf_counter()
            try:
                ok = own.get(base + path, timeout=60, allow_redirects=False).status_code == 200
            except requests.RequestException:
                ok = False
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)
                errors[0] += not ok

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.time() - t0
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(latencies, 50),
        "p95_ms": pct(latencies, 95),
        "errors": errors[0],
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


def use(cluster, nodes, replica):
    """Nodes up as ``nodes`` with or without the replica; HAProxy sees the others DOWN."""
    for i in range(2):
        cluster.stop_node(i)
    for i in range(nodes):
        cluster.start_node(i, replica=replica)
    for i in range(nodes):
        cluster.wait_http(f"http://127.0.0.1:{cluster.node_ports[i]}/web/health")
    deadline = time.time() + 30
    want = {f"node{i + 1}": "UP" if i < nodes else "DOWN" for i in range(2)}
    while time.time() < deadline:
        status = cluster.haproxy_servers()
        if all(status.get(name, "").startswith(state) for name, state in want.items()):
            return
        time.sleep(0.5)
    raise RuntimeError(f"HAProxy did not see {want}: {cluster.haproxy_servers()}")


def report(results, args, pages):
    lines = [
        "# Cluster benchmark (bench/cluster.py)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M')}, database `{results['db']}` ({results['tickets']} tickets), "
        f"{args.clients} clients for {args.seconds} s per page and configuration, all through HAProxy; "
        f"machine: {results['cpus']} CPUs shared by both nodes and both PostgreSQL servers.",
        "",
        "| page | 1 node | 2 nodes | 1 node + replica | 2 nodes + replica | 2 nodes / 1 | replica / none (2 nodes) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, _path in pages:
        cells, rps = [], {}
        for nodes, replica in CONFIGS:
            r = results["runs"][f"{nodes}-{int(replica)}"][label]
            rps[(nodes, replica)] = r["rps"]
            cells.append(f"{r['rps']:.1f} req/s, p50 {r['p50_ms']:.0f} / p95 {r['p95_ms']:.0f} ms, {r['errors']} err")
        scale = rps[(2, False)] / rps[(1, False)] if rps[(1, False)] else float("nan")
        rep = rps[(2, True)] / rps[(2, False)] if rps[(2, False)] else float("nan")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {scale:.2f} | {rep:.2f} |")
    lines += [
        "",
        "Statements served by the standby during the replica runs (pg_stat_statements): "
        f"{results['standby_calls']:,}; by the primary: {results['primary_calls']:,}.",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="Odoo config of the server holding --db (make bench's)")
    parser.add_argument("--db", help="database to copy into the cluster (default: the demo database)")
    parser.add_argument("--port", type=int, default=8490)
    parser.add_argument("--pg-port", type=int, default=55464)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="leave the cluster running")
    parser.add_argument("--out", default=str(HERE / "RESULTS_CLUSTER.md"))
    args = parser.parse_args()

    dbname = f"cluster_{args.db}" if args.db else "terasoft_demo"
    cluster = Cluster(args.port, args.pg_port, db=dbname, state=ROOT / ".local" / "cluster-bench")
    if args.db:
        user, password = "bench.portal@example.com", "bench"  # seed.py's BENCH_LOGIN, BENCH_PASSWORD
    else:
        user, password = "giulia.bianchi@example.com", "demo"
    try:
        cluster.data_dir.mkdir(parents=True, exist_ok=True)
        cluster.start_primary()
        cluster.start_standby()
        cluster.write_config()
        if args.db:
            copy_database(cluster, args.config, args.db)
        cluster.ensure_db()
        cluster.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", db=cluster.db)
        cluster.start()  # both nodes with the replica, HAProxy
        pages = pages_of(cluster)
        tickets = cluster.psql("SELECT count(*) FROM terasoft_ticket", db=cluster.db)
        results = {"db": dbname, "tickets": int(tickets), "cpus": __import__("os").cpu_count(), "runs": {}}
        calls = "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements"
        standby_before = int(cluster.psql(calls, standby=True, db=cluster.db))
        primary_before = int(cluster.psql(calls, db=cluster.db))
        for nodes, replica in CONFIGS:
            log(f"{nodes} node(s), {'with' if replica else 'without'} the replica...")
            use(cluster, nodes, replica)
            session = login(cluster.url, user, password)
            runs = results["runs"][f"{nodes}-{int(replica)}"] = {}
            for label, path in pages:
                load(cluster.url, session, path, 2, 2)  # warm-up: caches of each worker
                runs[label] = load(cluster.url, session, path, args.clients, args.seconds)
                log(f"  {label}: {runs[label]['rps']:.1f} req/s, p95 {runs[label]['p95_ms']:.0f} ms")
        results["standby_calls"] = int(cluster.psql(calls, standby=True, db=cluster.db)) - standby_before
        results["primary_calls"] = int(cluster.psql(calls, db=cluster.db)) - primary_before
        text = report(results, args, pages)
        Path(args.out).write_text(text)
        (HERE / "out").mkdir(exist_ok=True)
        (HERE / "out" / "cluster.json").write_text(json.dumps(results, indent=1))
        print(text, flush=True)
    finally:
        if not args.keep:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
