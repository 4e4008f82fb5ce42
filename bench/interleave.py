#!/usr/bin/env python3
"""Ours and the peer served at the same time, their requests interleaved round by round.

Two runs of ``make bench`` on the same code once gave a ratio of 0.22x and then 0.73x for the
same page: ours and the peer were measured minutes apart, and on a machine shared with other
jobs minutes are a long time. Here both servers run at once and every measured page or action
is asked of ours and of the peer in the same round (ours first in even rounds, the peer first
in odd ones); each round gives one ratio ours/peer, and the report gives the median of those
ratios with their spread (interquartile range and min-max): a burst of load hits one round, not
one side.

Next to the wall time, the CPU time the Odoo server spent on the request: the user + system
time of the server's processes (the master and its workers, from /proc/<pid>/stat) before and
after the request; summed over the requests of a page and divided by their number (the kernel
counts in ticks of 10 ms: one request's delta is coarse, their mean is not). PostgreSQL's CPU
is not in it.

Throughput: 32 clients on the list page, through HAProxy (``maxconn`` = workers), ours and the
peer in alternate slices; against the CPU ceiling of the same run: cores x 1000 / CPU ms of one
list request on a ``--workers=0`` server (the requests per second the machine could serve if
it did nothing but our list page, PostgreSQL included in the wall time but not in the CPU).

    .venv/bin/python bench/interleave.py --config .local/odoo-bench.conf \\
        --odoo-src ~/.cache/terasoft_portal/odoo-19.0 --ours bench_ours_100000 \\
        --peer bench_peer_100000 --port 8520

Ports: ours ``port`` (websocket port+1), the peer port+2 (port+3), their HAProxys port+4 and
port+5, ours at ``--workers=0`` port+6 (port+7). The creation POSTs create tickets in both
databases (as ``make bench`` does). Writes ``bench/out/interleaved.json``; ``bench/report.py``
turns it into the "Interleaved" section of bench/RESULTS.md.
"""

import argparse
import json
import os
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import measure  # noqa: E402
from seed import BENCH_LOGIN, BENCH_PASSWORD  # noqa: E402

from bench import OUT, PY, create_form, pages, peer_chatter_calls  # noqa: E402

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def process_tree(root):
    """``root`` and its descendants (the prefork master, its workers, the websocket process)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def cpu_ms(pids):
    """User + system CPU time (ms) of ``pids``, their reaped children included."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is the state (field 3 of proc(5)): utime, stime, cutime, cstime are 14-17
        total += sum(int(value) for value in fields[11:15])
    return total * TICK_MS


class Side:
    """One server (ours or the peer) and what it is asked."""

    def __init__(self, name, server, session, config, db):
        self.name, self.server, self.session, self.config, self.db = name, server, session, config, db
        self.pids = process_tree(server.proc.pid)

    def refresh(self):
        self.pids = process_tree(self.server.proc.pid)

    def timed(self, call):
        """(wall ms, server CPU ms, HTTP status) of ``call()``."""
        cpu0 = cpu_ms(self.pids)
        t0 = time.perf_counter()
        resp = call()
        wall = (time.perf_counter() - t0) * 1000
        return wall, cpu_ms(self.pids) - cpu0, resp.status_code


def actions(side, only=None):
    """{label: (prepare, call)}: ``prepare()`` runs untimed (e.g. the form's GET for a CSRF
    token) and returns what ``call(prepared)`` needs; ``call`` is the timed request."""
    base, session = side.server.base, side.session
    out = {}
    for label, path in pages(side.name, side.config, side.db):
        out[label] = (lambda: None, lambda _p, path=path: session.get(base + path, timeout=120))
    rpc = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {"counters": ["ticket_count"]}}
    out["home counters"] = (lambda: None, lambda _p: session.post(base + "/my/counters", json=rpc, timeout=120))
    if side.name == "peer":
        for label, path, params in peer_chatter_calls(side.config, side.db):
            payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}
            out[label] = (lambda: None, lambda _p, path=path, payload=payload: session.post(base + path, json=payload))
    form, post, data = create_form(side.name, side.config, side.db)
    out["create ticket"] = (
        lambda: measure.csrf_of(session.get(base + form, timeout=60).text),
        lambda token: session.post(
            base + post, data=dict(data(), csrf_token=token), timeout=120, allow_redirects=False
        ),
    )
    return {label: act for label, act in out.items() if not only or label in only}


def spread(values):
    values = sorted(values)
    return {
        "median": statistics.median(values),
        "p25": measure.pct(values, 25),
        "p75": measure.pct(values, 75),
        "min": values[0],
        "max": values[-1],
    }


def interleaved_pages(sides, rounds, warmup, only=None):
    """Every page/action of both sides, round by round; per-round ratios ours/peer."""
    ours, peer = sides
    acts = {side.name: actions(side, only) for side in sides}
    out = {}
    labels = list(acts["ours"]) + [label for label in acts["peer"] if label not in acts["ours"]]
    for label in labels:
        runs = {side.name: (side, *acts[side.name][label]) for side in (ours, peer) if label in acts[side.name]}
        samples = {name: {"wall": [], "cpu": [], "status": set()} for name in runs}
        offsets = {}
        for n in range(warmup + rounds):
            if n == warmup:
                offsets = {name: side.server.log_offset() for name, (side, _p, _c) in runs.items()}
                for side, _p, _c in runs.values():
                    side.refresh()
            order = list(runs) if n % 2 == 0 else list(reversed(runs))
            for name in order:
                side, prep, call = runs[name]
                prepared = prep()
                wall, cpu, status = side.timed(lambda call=call, prepared=prepared: call(prepared))
                if n >= warmup:
                    samples[name]["wall"].append(wall)
                    samples[name]["cpu"].append(cpu)
                    samples[name]["status"].add(status)
        time.sleep(0.3)  # let the workers flush their log lines
        entry = {}
        for name, (side, _p, _c) in runs.items():
            method = "POST" if label == "create ticket" else None
            queries = side.server.queries_since(offsets[name], _log_path(side, label), method)
            s = samples[name]
            entry[name] = {
                "median_ms": statistics.median(s["wall"]),
                "p95_ms": measure.pct(s["wall"], 95),
                "cpu_ms": sum(s["cpu"]) / len(s["cpu"]),
                "queries": statistics.median(queries) if queries else None,
                "status": sorted(s["status"]),
            }
        if len(samples) == 2:
            ratios = [o / p for o, p in zip(samples["ours"]["wall"], samples["peer"]["wall"], strict=True)]
            entry["ratio"] = spread(ratios)
            entry["cpu_ratio"] = entry["ours"]["cpu_ms"] / entry["peer"]["cpu_ms"] if entry["peer"]["cpu_ms"] else None
        entry["rounds"] = rounds
        out[label] = entry
        print(f"[interleave] {label}: {json.dumps(entry, default=str)}", flush=True)
    return out


def _log_path(side, label):
    """The path Odoo logs for ``label`` (for the query count)."""
    if label == "create ticket":
        return create_form(side.name, side.config, side.db)[1]
    if label == "home counters":
        return "/my/counters"
    if label.startswith("ticket chatter"):
        return {"ticket chatter_init": "/portal/chatter_init", "ticket chatter_fetch": "/mail/chatter_fetch"}[label]
    return dict(pages(side.name, side.config, side.db))[label].split("?")[0]


def load_slice(base, session, path, clients, seconds):
    """``clients`` threads on ``path`` for ``seconds``: the latencies (ms) and errors."""
    latencies, errors, _elapsed = measure.hammer(base + path, session, clients, seconds)
    return latencies, errors


def interleaved_load(sides, proxies, clients, slices, seconds):
    """``clients`` on the list page, ours and the peer in alternate slices of ``seconds``."""
    acc = {side.name: {"lat": [], "errors": 0, "elapsed": 0.0, "cpu": 0.0} for side in sides}
    for n in range(slices):
        for side, proxy in zip(
            sides if n % 2 == 0 else sides[::-1], proxies if n % 2 == 0 else proxies[::-1], strict=True
        ):
            side.refresh()
            cpu0, t0 = cpu_ms(side.pids), time.time()
            lat, errors = load_slice(proxy.base, side.session, "/my/tickets", clients, seconds)
            a = acc[side.name]
            a["elapsed"] += time.time() - t0
            a["cpu"] += cpu_ms(side.pids) - cpu0
            a["lat"] += lat
            a["errors"] += errors
    out = {}
    for name, a in acc.items():
        out[name] = {
            "clients": clients,
            "rps": len(a["lat"]) / a["elapsed"],
            "p50_ms": measure.pct(a["lat"], 50),
            "p95_ms": measure.pct(a["lat"], 95),
            "p99_ms": measure.pct(a["lat"], 99),
            "errors": a["errors"],
            "requests": len(a["lat"]),
            "cpu_ms": a["cpu"] / len(a["lat"]) if a["lat"] else None,
        }
    out["ratio_rps"] = out["ours"]["rps"] / out["peer"]["rps"] if out["peer"]["rps"] else None
    print(f"[interleave] {clients} clients: {json.dumps(out)}", flush=True)
    return out


def cpu_ceiling(args, odoo_bin, db, port, requests_n):
    """CPU ms of one list request at ``--workers=0`` (sequential), and the ceiling it gives."""
    with measure.OdooServer(
        odoo_bin, PY, args.config, db, port, 0, OUT / f"{db}-interleave-w0.log", extra=("--gevent-port", str(port + 1))
    ) as server:
        session = measure.login(server.base, BENCH_LOGIN, BENCH_PASSWORD)
        side = Side("ours", server, session, args.config, db)
        walls, cpus = [], []
        for n in range(10 + requests_n):
            wall, cpu, _status = side.timed(lambda: session.get(server.base + "/my/tickets", timeout=120))
            if n >= 10:
                walls.append(wall)
                cpus.append(cpu)
    cpu = sum(cpus) / len(cpus)
    cores = os.cpu_count()
    return {
        "cores": cores,
        "cpu_ms": cpu,
        "wall_ms": statistics.median(walls),
        "ceiling_rps": cores * 1000 / cpu if cpu else None,
    }


def run(args, ours_db, peer_db, port, rounds=50, warmup=10, workers=2, seconds=20, slices=4, only=None, load=True):
    """The whole interleaved measurement; returns its results (and writes interleaved.json)."""
    OUT.mkdir(parents=True, exist_ok=True)
    odoo_bin = str(Path(args.odoo_src) / "odoo-bin")
    result = {"rounds": rounds, "workers": workers, "date": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count()}
    with ExitStack() as stack:
        sides = []
        for index, (name, db) in enumerate((("ours", ours_db), ("peer", peer_db))):
            p = port + 2 * index
            server = stack.enter_context(
                measure.OdooServer(
                    odoo_bin,
                    PY,
                    args.config,
                    db,
                    p,
                    workers,
                    OUT / f"{db}-interleave-w{workers}.log",
                    extra=("--gevent-port", str(p + 1)),
                )
            )
            sides.append(Side(name, server, measure.login(server.base, BENCH_LOGIN, BENCH_PASSWORD), args.config, db))
        result["pages"] = interleaved_pages(sides, rounds, warmup, only)
        if not load:
            (OUT / "interleaved.json").write_text(json.dumps(result, indent=1, default=str))
            return result
        proxies = [
            stack.enter_context(
                measure.HAProxy(port + 4 + i, side.server.base.rsplit(":", 1)[1], workers, OUT / f"haproxy-il-{i}.cfg")
            )
            for i, side in enumerate(sides)
        ]
        # clients / slices of `seconds`, alternately ours and the peer: `seconds` x slices / 2 each
        result["load"] = [
            interleaved_load(sides, proxies, clients, slices, seconds / (slices / 2)) for clients in (32,)
        ]
    result["ceiling"] = cpu_ceiling(args, odoo_bin, ours_db, port + 6, rounds)
    load = result["load"][0]["ours"]
    result["ceiling"]["share"] = (
        load["rps"] / result["ceiling"]["ceiling_rps"] if result["ceiling"]["ceiling_rps"] else None
    )
    print(f"[interleave] ceiling: {json.dumps(result['ceiling'])}", flush=True)
    (OUT / "interleaved.json").write_text(json.dumps(result, indent=1, default=str))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--odoo-src", required=True)
    parser.add_argument("--ours", required=True)
    parser.add_argument("--peer", required=True)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8269)))
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=20, help="of load per side, in slices")
    parser.add_argument("--only", help="comma-separated labels of the pages to measure (default: all)")
    parser.add_argument("--no-load", action="store_true", help="pages only: no clients, no ceiling")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    run(
        args,
        args.ours,
        args.peer,
        args.port,
        rounds=args.rounds,
        warmup=args.warmup,
        seconds=args.seconds,
        only=only,
        load=not args.no_load,
    )
    subprocess_report()


def subprocess_report():
    import subprocess

    root = Path(__file__).resolve().parent
    subprocess.run(
        [PY, str(root / "report.py"), "--interleaved", str(OUT / "interleaved.json"), str(root / "RESULTS.md")],
        check=True,
    )


if __name__ == "__main__":
    main()
