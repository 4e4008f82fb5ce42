#!/usr/bin/env python3
"""HTTP measurements of one Odoo database: sequential latencies, SQL queries per request
(read from Odoo's own request log), and concurrent clients. Used by bench/bench.py."""

import re
import statistics
import subprocess
import threading
import time
from pathlib import Path

import requests

# Odoo logs every request as: "GET /my HTTP/1.1" 200 - <queries> <sql time> <other time>
LOG_LINE = re.compile(r'"(GET|POST) (\S+) HTTP/[\d.]+" (\d{3}) - (\d+) ([\d.]+) ([\d.]+)')


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class OdooServer:
    """An Odoo server on ``port`` serving one database, logging requests to ``logfile``."""

    def __init__(self, odoo_bin, python, config, db, port, workers, logfile, extra=()):
        # the websocket (gevent) process listens on 8072 unless told: two servers on one machine
        # would fight over it, the loser restarting in a loop and eating CPU
        self.cmd = [
            python,
            odoo_bin,
            "-c",
            config,
            "-d",
            db,
            f"--db-filter=^{db}$",
            "--http-port",
            str(port),
            "--gevent-port",
            str(port + 100),
            "--workers",
            str(workers),
            "--max-cron-threads",
            "0",
            "--logfile",
            str(logfile),
            "--log-level",
            "info",
            "--limit-time-real",
            "600",
            "--limit-time-cpu",
            "600",
            "--limit-memory-soft",
            str(4 << 30),
            "--limit-memory-hard",
            str(6 << 30),
            *extra,
        ]
        self.base = f"http://127.0.0.1:{port}"
        self.logfile = Path(logfile)
        self.proc = None

    def __enter__(self):
        self.logfile.write_text("")
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if requests.get(self.base + "/web/login", timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"Odoo exited: see {self.logfile}")
            time.sleep(0.5)
        raise RuntimeError(f"Odoo did not answer in 120 s: see {self.logfile}")

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def log_offset(self):
        return self.logfile.stat().st_size

    def queries_since(self, offset, path_prefix, method=None):
        """Query counts of the requests logged since ``offset`` whose path starts with ``path_prefix``
        (and whose method is ``method``, when given)."""
        with self.logfile.open() as log:
            log.seek(offset)
            return [
                int(m.group(4))
                for m in LOG_LINE.finditer(log.read())
                if m.group(2).startswith(path_prefix) and method in (None, m.group(1))
            ]


def csrf_of(html):
    match = re.search(r'name="csrf_token"\s+(?:t-att-)?value="([^"]+)"', html) or re.search(
        r'csrf_token:\s*"([^"]+)"', html
    )
    return match and match.group(1)


def login(base, user, password):
    session = requests.Session()
    page = session.get(base + "/web/login", timeout=30)
    resp = session.post(
        base + "/web/login",
        data={"login": user, "password": password, "csrf_token": csrf_of(page.text), "redirect": "/my"},
        timeout=30,
    )
    if "/web/login" in resp.url:
        raise RuntimeError(f"login of {user} failed on {base}")
    return session


def sequential(server, session, path, n=50, warmup=10):
    """Median/p95 latency (ms) of ``n`` GETs after ``warmup`` (enough for both workers to have
    compiled their templates), and the median SQL query count."""
    return _sequential(server, path, lambda: session.get(server.base + path, timeout=120), n, warmup)


def sequential_rpc(server, session, path, params, n=50, warmup=10):
    """Like ``sequential`` for a JSON-RPC route (e.g. the portal home's ``/my/counters``)."""
    payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}

    def call():
        resp = session.post(server.base + path, json=payload, timeout=120)
        if resp.status_code == 200 and "error" in resp.json():  # JSON-RPC errors come with a 200
            resp.status_code = 500
        return resp

    return _sequential(server, path, call, n, warmup)


def _sequential(server, path, request, n, warmup):
    for _ in range(warmup):
        request()
    offset = server.log_offset()
    times, statuses = [], set()
    for _ in range(n):
        t0 = time.perf_counter()
        resp = request()
        times.append((time.perf_counter() - t0) * 1000)
        statuses.add(resp.status_code)
    time.sleep(0.3)  # let the workers flush their log lines
    queries = server.queries_since(offset, path.split("?")[0])
    return {
        "median_ms": statistics.median(times),
        "p95_ms": pct(times, 95),
        "queries": statistics.median(queries) if queries else None,
        "status": sorted(statuses),
    }


def sequential_posts(server, session, form_path, post_path, make_data, n=50, warmup=3, files=None):
    """Median/p95 (ms) of ``n`` form submissions (GET the form for a CSRF token, then POST)."""

    def one():
        token = csrf_of(session.get(server.base + form_path, timeout=60).text)
        t0 = time.perf_counter()
        resp = session.post(
            server.base + post_path,
            data=dict(make_data(), csrf_token=token),
            files=files() if files else None,
            timeout=120,
            allow_redirects=False,
        )
        return (time.perf_counter() - t0) * 1000, resp.status_code

    for _ in range(warmup):
        one()
    offset = server.log_offset()
    results = [one() for _ in range(n)]
    time.sleep(0.3)
    queries = server.queries_since(offset, post_path, "POST")  # ours GETs the form on the same path
    times = [t for t, _s in results]
    return {
        "median_ms": statistics.median(times),
        "p95_ms": pct(times, 95),
        "queries": statistics.median(queries) if queries else None,
        "status": sorted({s for _t, s in results}),
    }


def hammer(url, session, clients, seconds, ok=lambda response: response.status_code < 500, **get_args):
    """``clients`` threads asking ``url`` with ``session``'s cookies for ``seconds``: the
    latencies (ms), the number of errors (no answer, or an answer not ``ok``) and the elapsed
    seconds. Shared by the load measures of measure.py, interleave.py and cluster.py."""
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.time() + seconds

    def worker():
        own = requests.Session()
        own.cookies.update(session.cookies)
        while time.time() < deadline:
            t0 = time.perf_counter()
            try:
                good = ok(own.get(url, timeout=60, **get_args))
            except requests.RequestException:
                good = False
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)
                errors[0] += not good

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0], time.time() - t0


def concurrent(server, session, path, clients, seconds=20):
    """``clients`` threads hammering ``path`` for ``seconds``: requests/s, p50/p95 (ms), errors."""
    latencies, errors, elapsed = hammer(server.base + path, session, clients, seconds)
    return {
        "clients": clients,
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(latencies, 50),
        "p95_ms": pct(latencies, 95),
        "p99_ms": pct(latencies, 99),
        "errors": errors,
        "requests": len(latencies),
    }


HAPROXY_CFG = """global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout queue 60s
    # one request per Odoo connection: a prefork worker serves one connection at a time and
    # would otherwise stay tied to an idle keep-alive client
    option http-server-close
frontend portal
    bind 127.0.0.1:{port}
    default_backend odoo
backend odoo
    # A request whose worker died under it (kill -9, Odoo's time or memory limits: the
    # connection closes with no answer) is sent again, to another server when there are
    # several: a GET changes nothing, and a POST carrying the portal forms' idempotency_key
    # is answered with its first result if it was saved before the worker died (replay-safe
    # forms, terasoft.idempotency.key). Other POSTs (login, RPC, old clients) are never sent
    # twice. Not on response-timeout: a slow request is still running, not lost.
    # HAProxy copies a request for retrying only when it fits in one buffer (tune.bufsize,
    # 16 kB): a form with a large file gets the 502 and the browser's (or client's) retry,
    # with the same key, instead.
    option http-buffer-request
    acl replay_safe req.body -m sub idempotency_key= 'name="idempotency_key"'
    retry-on conn-failure empty-response
    retries 3
    option redispatch
    http-request disable-l7-retry unless METH_GET || METH_HEAD || replay_safe
    # never more requests in Odoo than workers: the rest wait in HAProxy's queue, not in
    # Odoo's listen backlog (8 x workers), where dropped SYNs cost seconds
    server odoo 127.0.0.1:{odoo_port} maxconn {maxconn}
"""


class HAProxy:
    """HAProxy on ``port`` in front of an Odoo server, as real deployments run Odoo."""

    def __init__(self, port, odoo_port, maxconn, cfg_path):
        self.cfg_path = Path(cfg_path)
        self.cfg_path.write_text(HAPROXY_CFG.format(port=port, odoo_port=odoo_port, maxconn=maxconn))
        self.base = f"http://127.0.0.1:{port}"
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(
            ["haproxy", "-db", "-f", str(self.cfg_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                requests.get(self.base + "/web/login", timeout=5)
                return self
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError("HAProxy did not start")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(10)
