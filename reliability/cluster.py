"""Tests on the scale-out cluster of scripts/cluster.py (``make reliability RELIABILITY_ARGS=--parts=cluster``
or ``python reliability/cluster.py``).

A PostgreSQL primary and its streaming hot standby, two Odoo nodes (``--workers=2``, one cron
thread each, ``--db_replica_host`` = the standby) sharing one data_dir, HAProxy in front. Every
request goes through HAProxy, as a customer's browser would. Checks, each printed as one line:

- replica: the readonly routes (FAQ, documents, contacts, company) are answered by the standby
  (pg_stat_statements on each server: their statements are counted on the standby, none on the
  primary) and the ticket list by the primary;
- websocket: ``/websocket`` through HAProxy is upgraded by a node's gevent process;
- ryw: read-your-writes: a ticket created through HAProxy is on its page and in the list at once
  (each request may land on either node);
- kill: a node killed with -9 during a load of creations and reads: HAProxy sends the traffic to
  the other node, every acknowledged ticket (303) is in the database exactly once;
- standby: the standby stopped (fast shutdown) during reads: Odoo falls back to the primary,
  no 5xx; started again, it catches up;
- crons: acknowledgement, auto-close reminder and auto-close of due tickets triggered on both
  nodes at once: one message per ticket and event, each email delivered once (SMTP sink).

By default the run makes its own cluster in .local/cluster-rel (ports --port..+5, PostgreSQL
--pg-port and +1) and removes it afterwards; ``--reuse`` runs on the cluster of ``make cluster``.
"""

import argparse
import base64
import os
import random
import re
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "scripts"))

from cluster import Cluster  # noqa: E402

from reliability import faults  # noqa: E402
from reliability.client import PortalClient  # noqa: E402

PASSWORD = "demo"
USERS = ["giulia.bianchi@example.com", "luca.verdi@example.com", "marco.rossi@example.com"]
READONLY_PAGES = ["/my/faq", "/my/faq?search=cedolino", "/my/documents", "/my/contacts", "/my/company"]


def log(msg):
    print(f"[cluster-test {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def statement_calls(cluster, table, standby):
    """Executions of statements naming ``table`` on the primary or the standby (pg_stat_statements)."""
    out = cluster.psql(
        f"SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE '%{table}%'",
        standby=standby,
        db=cluster.db,
    )
    return int(out or 0)


def category_id(cluster):
    return int(
        cluster.psql(
            "SELECT res_id FROM ir_model_data WHERE module='terasoft_portal' AND name='category_paghe_demo'",
            db=cluster.db,
        )
    )


ERROR_SAMPLES = {}  # status -> the start of one answer with that status, for the report


def create_ticket(client, category, marker):
    response = client.post(
        "/my/tickets/new", {"name": marker, "category_id": str(category), "description": "Cluster " + marker}
    )
    if response.status_code >= 500:
        ERROR_SAMPLES.setdefault(f"POST {response.status_code}", " ".join(response.text[:160].split()))
    if response.status_code != 303:
        return None, response.status_code
    return int(response.headers["Location"].rstrip("/").split("/")[-1].split("?")[0]), 303


# ---------------------------------------------------------------- parts
def part_replica(cluster):
    client = PortalClient(cluster.url).login(USERS[0], PASSWORD)
    tables = {"/my/faq": "terasoft_faq", "/my/documents": "terasoft_document"}
    before = {
        (t, s): statement_calls(cluster, t, s)
        for t in ("terasoft_faq", "terasoft_document", "terasoft_ticket")
        for s in (False, True)
    }
    statuses = Counter()
    for _round in range(5):
        for page in READONLY_PAGES:
            statuses[client.get(page).status_code] += 1
    time.sleep(0.5)
    after = {key: statement_calls(cluster, *key) for key in before}
    delta = {key: after[key] - before[key] for key in before}
    failures = []
    for table in tables.values():
        if delta[(table, True)] <= 0:
            failures.append(f"{table}: no statement on the standby")
        if delta[(table, False)] > 0:
            failures.append(f"{table}: {delta[(table, False)]} statements on the primary")
    if set(statuses) != {200}:
        failures.append(f"statuses {dict(statuses)}")
    # the ticket list is read/write (read-your-writes): served by the primary
    before_list = (
        statement_calls(cluster, "terasoft_ticket", False),
        statement_calls(cluster, "terasoft_ticket", True),
    )
    for _round in range(3):
        client.get("/my/tickets")
    after_list = (statement_calls(cluster, "terasoft_ticket", False), statement_calls(cluster, "terasoft_ticket", True))
    list_primary, list_standby = after_list[0] - before_list[0], after_list[1] - before_list[1]
    if list_primary <= 0 or list_standby > 0:
        failures.append(f"ticket list: {list_primary} statements on the primary, {list_standby} on the standby")
    line = (
        f"replica: {sum(statuses.values())} readonly pages: faq {delta[('terasoft_faq', True)]} statements on the "
        f"standby / {delta[('terasoft_faq', False)]} on the primary, documents "
        f"{delta[('terasoft_document', True)]} / {delta[('terasoft_document', False)]}; ticket list "
        f"{list_primary} on the primary / {list_standby} on the standby"
    )
    return line, failures


def part_read_your_writes(cluster, count=10):
    client = PortalClient(cluster.url).login(USERS[0], PASSWORD)
    category = category_id(cluster)
    failures = []
    for i in range(count):
        marker = f"ryw-{uuid.uuid4().hex[:8]}-{i}"
        ticket_id, status = create_ticket(client, category, marker)
        if not ticket_id:
            failures.append(f"create {marker}: HTTP {status}")
            continue
        page = client.get(f"/my/tickets/{ticket_id}")
        if page.status_code != 200 or marker not in page.text:
            failures.append(f"ticket page {ticket_id}: HTTP {page.status_code}")
        listing = client.get("/my/tickets?sortby=date")
        if marker not in listing.text:
            failures.append(f"list without {marker}")
    return f"ryw: {count} tickets created then opened and listed at once through HAProxy", failures


class Load:
    def __init__(self, cluster, sessions, tag):
        self.cluster, self.sessions, self.tag = cluster, sessions, tag
        self.category = category_id(cluster)
        self.statuses = Counter()
        self.acknowledged = []
        self.errors = []  # (time, what)
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def worker(self, index, client):
        rnd = random.Random(index)
        count = 0
        while not self.stop.is_set():
            count += 1
            marker = f"{self.tag}-{index}-{count}"
            try:
                if rnd.random() < 0.4:
                    ticket_id, status = create_ticket(client, self.category, marker)
                    if ticket_id:
                        with self.lock:
                            self.acknowledged.append(marker)
                else:
                    response = client.get(rnd.choice(["/my/tickets", "/my/faq", "/my/documents"]))
                    status = response.status_code
                    if status >= 500:
                        ERROR_SAMPLES.setdefault(f"GET {status}", " ".join(response.text[:160].split()))
            except Exception as exc:  # noqa: BLE001 - every failure is counted
                status = type(exc).__name__
            with self.lock:
                self.statuses[status] += 1
                if not isinstance(status, int) or status >= 500:
                    self.errors.append((time.monotonic(), status))
            time.sleep(0.05)

    def start(self):
        clients = [
            PortalClient(self.cluster.url, timeout=60).login(USERS[i % len(USERS)], PASSWORD)
            for i in range(self.sessions)
        ]
        for client in clients:
            client.csrf()
        self.threads = [threading.Thread(target=self.worker, args=(i, c), daemon=True) for i, c in enumerate(clients)]
        for thread in self.threads:
            thread.start()

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(120)

    def lost(self):
        names = self.cluster.psql(
            f"SELECT name, count(*) FROM terasoft_ticket WHERE name LIKE '{self.tag}-%' GROUP BY name",
            db=self.cluster.db,
        )
        stored = Counter()
        for row in names.splitlines():
            name, n = row.split("|")
            stored[name] = int(n)
        lost = [m for m in self.acknowledged if stored[m] != 1]
        twice = [m for m, n in stored.items() if n > 1]
        return lost, twice


def part_kill(cluster, sessions=4, before=8, after=15):
    load = Load(cluster, sessions, f"kill-{uuid.uuid4().hex[:6]}")
    load.start()
    time.sleep(before)
    victim = random.randrange(2)
    killed_at = time.monotonic()
    log(f"kill -9 node{victim + 1} (master, workers, cron, gevent)")
    cluster.kill_node(victim)
    detected = None
    deadline = time.monotonic() + after
    while time.monotonic() < deadline:
        if detected is None and cluster.haproxy_servers().get(f"node{victim + 1}") == "DOWN":
            detected = time.monotonic() - killed_at
        time.sleep(0.2)
    load.finish()
    errors_after_detection = [s for t, s in load.errors if detected is not None and t > killed_at + detected + 1]
    lost, twice = load.lost()
    failures = [f"acknowledged ticket lost: {m}" for m in lost] + [f"ticket stored twice: {m}" for m in twice]
    if detected is None:
        failures.append("HAProxy never marked the killed node DOWN")
    no_server = sum(1 for _t, s in load.errors if s == 503)
    if no_server:  # HAProxy's "No server is available": the surviving node was never tried
        failures.append(f"{no_server} x 503 while a node was alive")
    if errors_after_detection:
        failures.append(
            f"{len(errors_after_detection)} errors after HAProxy took the node out: {Counter(errors_after_detection)}"
        )
    log(f"restarting node{victim + 1}")
    cluster.start_node(victim)
    cluster.wait_http(f"http://127.0.0.1:{cluster.node_ports[victim]}/web/health")
    errors = Counter(s for _t, s in load.errors)
    line = (
        f"kill: node{victim + 1} killed -9 under {sessions} sessions: {sum(load.statuses.values())} requests "
        f"{dict(load.statuses)}, HAProxy took it out after {detected or 0:.1f} s, errors in that window "
        f"{dict(errors)}, {len(load.acknowledged)} acknowledged tickets, {len(lost)} lost, {len(twice)} twice"
        + (f"; answers: {ERROR_SAMPLES}" if ERROR_SAMPLES else "")
    )
    return line, failures


def part_standby(cluster, sessions=3, before=4, down=12):
    statuses = Counter()
    stop = threading.Event()
    lock = threading.Lock()

    def reader(index):
        client = PortalClient(cluster.url, timeout=60).login(USERS[index % len(USERS)], PASSWORD)
        while not stop.is_set():
            try:
                status = client.get(READONLY_PAGES[index % len(READONLY_PAGES)]).status_code
            except Exception as exc:  # noqa: BLE001
                status = type(exc).__name__
            with lock:
                statuses[status] += 1
            time.sleep(0.05)

    threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(sessions)]
    for thread in threads:
        thread.start()
    time.sleep(before)
    log("stopping the standby (fast shutdown)")
    cluster.stop_standby("fast")
    time.sleep(down)
    during = Counter(statuses)
    log("starting the standby again")
    cluster.start_standby()
    time.sleep(before)
    stop.set()
    for thread in threads:
        thread.join(60)
    bad = {s: n for s, n in statuses.items() if not isinstance(s, int) or s >= 500}
    failures = [f"{n} x {s} while the standby was down or back" for s, n in bad.items()]
    lag = None
    for _ in range(30):
        lag = cluster.replication_lag_bytes()
        if lag is not None:
            break
        time.sleep(1)
    if lag is None:
        failures.append("the standby does not stream again")
    line = (
        f"standby: stopped during {sessions} readers: {sum(statuses.values())} requests {dict(statuses)} "
        f"({sum(during.values())} until it came back); streaming again, lag {lag} bytes"
    )
    return line, failures


CRON_SETUP = """
from datetime import timedelta
from odoo import fields
tag = {tag!r}
sink_port = {sink_port}
env["ir.mail_server"].search([]).active = False
env["ir.mail_server"].create({{"name": "cluster sink " + tag, "smtp_host": "127.0.0.1", "smtp_port": sink_port,
                              "smtp_encryption": "none", "sequence": 1}})
env["mail.mail"].search([("state", "in", ("outgoing", "exception"))]).unlink()
T = env["terasoft.ticket"]
partner = env.ref("terasoft_portal.user_giulia_bianchi_demo").partner_id
category = env.ref("terasoft_portal.category_paghe_demo")
company = env.company
now = fields.Datetime.now()
ack = T.create([{{"name": f"{{tag}}-ack-{{i}}", "partner_id": partner.id, "category_id": category.id}}
                for i in range({count})])
quiet = T.create([{{"name": f"{{tag}}-close-{{i}}", "partner_id": partner.id, "category_id": category.id}}
                  for i in range({count})])
remind = T.create([{{"name": f"{{tag}}-remind-{{i}}", "partner_id": partner.id, "category_id": category.id}}
                   for i in range({count})])
close_limit = company._ticket_autoclose_limit(now)
remind_limit = company._ticket_autoclose_limit(now, company.ticket_autoclose_days - 1)
remind_date = remind_limit - timedelta(minutes=5)
assert company.ticket_autoclose_days > 1 and close_limit < remind_date, (close_limit, remind_date)
env.cr.execute("UPDATE terasoft_ticket SET state='resolved', ack_pending=false, autoclose_reminder_sent=false, "
               "date_resolved=%s WHERE id IN %s", [now - timedelta(days=90), tuple(quiet.ids)])
env.cr.execute("UPDATE terasoft_ticket SET state='resolved', ack_pending=false, autoclose_reminder_sent=false, "
               "date_resolved=%s WHERE id IN %s", [remind_date, tuple(remind.ids)])
# no other due work in the crons' way: the tickets of the earlier parts (hundreds from the kill
# part's load) would make the acknowledgement outlast the wait on a busy machine
env.cr.execute("UPDATE terasoft_ticket SET ack_pending=false WHERE ack_pending AND name NOT LIKE %s", [tag + "-%"])
env.cr.commit()
crons = env.ref("terasoft_portal.ir_cron_ticket_acknowledge") | env.ref("terasoft_portal.ir_cron_ticket_autoclose")
for cron in crons:
    cron._trigger()  # NOTIFY cron_trigger: the cron thread of each node wakes up and tries to take it
env.cr.commit()
print("CRON_IDS", crons.ids)
"""


def part_crons(cluster, count=20, wait=120):
    sink = faults.SmtpSink()
    sink.start()
    tag = f"cron{uuid.uuid4().hex[:6]}"
    try:
        log(f"cron part: {count} tickets to acknowledge, {count} to close, {count} to remind; both nodes race")
        logs = [cluster.state / f"node{i + 1}.log" for i in range(2)]
        offsets = [path.stat().st_size if path.exists() else 0 for path in logs]
        script = CRON_SETUP.format(tag=tag, sink_port=sink.port, count=count)
        out = cluster.odoo_bin(
            "-d", cluster.db, "--no-http", "--log-level=warn", input=script, capture_output=True, text=True, sub="shell"
        )
        if "CRON_IDS" not in out.stdout:
            return "crons: setup failed", [out.stderr[-2000:]]
        cron_ids = [int(x) for x in re.findall(r"\d+", out.stdout.split("CRON_IDS", 1)[1].splitlines()[0])]
        db = cluster.db
        deadline = time.monotonic() + wait
        expected = {"ack": count, "close": count, "remind": count}
        while time.monotonic() < deadline:
            done = cluster.psql(
                f"""SELECT
                  (SELECT count(*) FROM terasoft_ticket WHERE name LIKE '{tag}-ack-%' AND NOT ack_pending),
                  (SELECT count(*) FROM terasoft_ticket WHERE name LIKE '{tag}-close-%' AND state = 'closed'),
                  (SELECT count(*) FROM terasoft_ticket WHERE name LIKE '{tag}-remind-%' AND autoclose_reminder_sent),
                  (SELECT count(*) FROM mail_mail WHERE state IN ('outgoing'))""",
                db=db,
            ).split("|")
            if [int(x) for x in done[:3]] == list(expected.values()) and int(done[3]) == 0:
                break
            time.sleep(2)
        time.sleep(3)
        # one customer message per ticket and event
        rows = cluster.psql(
            f"""SELECT t.name, s.name->>'en_US', count(*), string_agg(m.message_id, ' ')
                  FROM mail_message m JOIN terasoft_ticket t ON t.id = m.res_id AND m.model = 'terasoft.ticket'
                  JOIN mail_message_subtype s ON s.id = m.subtype_id
                 WHERE t.name LIKE '{tag}-%'
                   AND s.id IN (SELECT res_id FROM ir_model_data WHERE module = 'terasoft_portal'
                                AND name IN ('mt_ticket_new', 'mt_ticket_reminder', 'mt_ticket_closed'))
                 GROUP BY 1, 2""",
            db=db,
        ).splitlines()
        per_ticket = Counter()
        message_ids = []
        failures = []
        for row in rows:
            name, subtype, n, mids = row.split("|")
            kind = name.split("-")[1]
            per_ticket[kind] += 1
            message_ids += mids.split()
            if int(n) != 1:
                failures.append(f"{name}: {n} '{subtype}' messages")
        for kind, n in expected.items():
            if per_ticket[kind] != n:
                failures.append(f"{kind}: {per_ticket[kind]} of {n} tickets have their message")
        customer = "giulia.bianchi@example.com"
        delivered = Counter()
        for (mid, rcpt), copies in sink.deliveries.items():
            if mid in message_ids and customer in rcpt:
                delivered[mid] += copies
        twice = [mid for mid, n in delivered.items() if n > 1]
        missing = [mid for mid in message_ids if not delivered[mid]]
        failures += [f"email {mid} delivered {delivered[mid]} times" for mid in twice]
        if missing:
            failures.append(f"{len(missing)} emails to the customer never reached the sink")
        runs = Counter()  # (job, node) -> runs, from the nodes' "Job '...' (id) starting" lines
        for i, (path, offset) in enumerate(zip(logs, offsets, strict=True)):
            with path.open(errors="replace") as fh:
                fh.seek(offset)
                for text in fh:
                    for job, cron_id in zip(("acknowledgement", "auto-close"), cron_ids, strict=True):
                        if f"({cron_id}) starting" in text:
                            runs[(job, f"node{i + 1}")] += 1
        job_runs = ", ".join(f"{job} on {node} x{n}" for (job, node), n in sorted(runs.items())) or "none logged"
        line = (
            f"crons: {sum(expected.values())} due tickets, crons triggered on both nodes ({job_runs}): messages "
            f"{dict(per_ticket)}, {len(message_ids)} customer emails, {sum(delivered.values())} delivered, "
            f"{len(twice)} twice"
        )
        return line, failures
    finally:
        sink.stop()


def part_websocket(cluster):
    """/websocket through HAProxy reaches a node's gevent process (101 Switching Protocols)."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /websocket?version=19.0 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
        f"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n"
        f"Origin: {cluster.url}\r\n\r\n"
    )
    statuses = Counter()
    for _attempt in range(4):  # roundrobin: both gevent processes
        with socket.create_connection(("127.0.0.1", cluster.port), timeout=10) as sock:
            sock.sendall(request.encode())
            statuses[sock.recv(200).split(b"\r\n", 1)[0].decode()] += 1
    failures = [f"{n} x {line}" for line, n in statuses.items() if " 101 " not in line]
    return f"websocket: 4 upgrades through HAProxy: {dict(statuses)}", failures


PARTS = {
    "replica": part_replica,
    "ryw": part_read_your_writes,
    "websocket": part_websocket,
    "kill": part_kill,
    "standby": part_standby,
    "crons": part_crons,
}


def run(port, pg_port, parts, reuse=False, keep=False):
    """Run ``parts`` on a cluster; returns (lines, failures)."""
    if reuse:
        cluster = Cluster(port, pg_port)
    else:
        cluster = Cluster(port, pg_port, db="cluster_rel", state=HERE.parent / ".local" / "cluster-rel")
    log(f"cluster up on {cluster.url} (state {cluster.state})...")
    cluster.start()
    cluster.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", db=cluster.db)
    lines, all_failures = [], []
    try:
        for part in parts:
            log(f"part {part}...")
            try:
                line, failures = PARTS[part](cluster)
            except Exception as exc:  # noqa: BLE001 - a broken part is a failure, the next ones still run
                line, failures = f"{part}: crashed", [repr(exc)]
            line = f"cluster {line} -> {'PASS' if not failures else 'FAIL'}"
            print(line, flush=True)
            for failure in failures[:15]:
                print(f"    {failure}", flush=True)
            lines += [line] + [f"    {f}" for f in failures[:15]]
            all_failures += failures
    finally:
        if not reuse and not keep:
            cluster.destroy()
    return lines, all_failures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8480, help="HAProxy; the nodes use the next five ports")
    parser.add_argument("--pg-port", type=int, default=55462)
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--reuse", action="store_true", help="run on the cluster of `make cluster` (CLUSTER_PORT)")
    parser.add_argument("--keep", action="store_true", help="leave the test cluster running")
    args = parser.parse_args()
    if args.reuse and args.port == 8480:
        args.port, args.pg_port = 8470, 55460
    _lines, failures = run(args.port, args.pg_port, args.parts.split(","), args.reuse, args.keep)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
