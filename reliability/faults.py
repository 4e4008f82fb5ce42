"""Faults the suite injects: a local SMTP sink it can stop, kill -9 of a worker, PostgreSQL restart."""

import os
import re
import signal
import socket
import socketserver
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

PORT_RANGE = None  # (low, high): set by run.py --ports, so that parallel runs do not collide
_ports_given = set()


def free_port():
    """A free local TCP port: any (the OS picks) or, with PORT_RANGE, the first free one in it."""
    if PORT_RANGE is None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]
    for port in range(PORT_RANGE[0], PORT_RANGE[1] + 1):
        if port in _ports_given:
            continue
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is free
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _ports_given.add(port)
        return port
    raise RuntimeError(f"no free port left in {PORT_RANGE[0]}-{PORT_RANGE[1]}")


class SmtpSink:
    """A minimal SMTP server on 127.0.0.1 that counts every (Message-Id, recipient) it accepts
    (Odoo sends one copy per recipient with the same Message-Id: that is not a duplicate).

    ``stop()`` closes the listening socket (connections are then refused: the server is
    unreachable); ``start()`` listens again on the same port.
    """

    def __init__(self, port=None):
        self.port = port or free_port()
        self.message_ids = Counter()  # Message-Id -> 0: which mails were seen
        self.deliveries = Counter()  # (Message-Id, recipient) -> copies received
        self.received = 0
        self._server = None
        self._lock = threading.Lock()

    def start(self):
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 30

            def reply(self, line):
                self.wfile.write((line + "\r\n").encode())

            def handle(self):
                self.reply("220 sink ESMTP")
                rcpts = []
                while True:
                    line = self.rfile.readline(65536)
                    if not line:
                        return
                    verb = line.decode("latin-1").strip().split(" ")[0].upper()
                    if verb == "EHLO":
                        self.wfile.write(b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                    elif verb == "RCPT":
                        rcpts.append(line.decode("latin-1").strip()[8:].strip().lower())
                        self.reply("250 ok")
                    elif verb in ("HELO", "MAIL", "RSET", "NOOP"):
                        if verb in ("MAIL", "RSET"):
                            rcpts = []
                        self.reply("250 ok")
                    elif verb == "DATA":
                        self.reply("354 go on")
                        data = []
                        while True:
                            chunk = self.rfile.readline(1 << 20)
                            if not chunk or chunk in (b".\r\n", b".\n"):
                                break
                            data.append(chunk)
                        headers = b"".join(data).split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
                        match = re.search(r"^Message-Id:\s*(\S+)", headers, re.I | re.M)
                        with sink._lock:
                            sink.received += 1
                            mid = match.group(1) if match else "<none>"
                            sink.message_ids[mid] += 0  # known Message-Id
                            for rcpt in rcpts:
                                sink.deliveries[(mid, rcpt)] += 1
                        rcpts = []
                        self.reply("250 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def worker_pids(master_pid):
    """HTTP worker pids of an Odoo prefork master: its children, minus the gevent process."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            argv = (entry / "cmdline").read_bytes().decode().split("\0")
        except (OSError, ValueError, IndexError):
            continue
        # the websocket process runs `python odoo-bin gevent ...`; workers are forks of the
        # master and share its arguments (which may include --gevent-port=...)
        if ppid == master_pid and "gevent" not in argv[1:3]:
            pids.append(int(entry.name))
    return sorted(pids)


def kill_worker(master_pid):
    """kill -9 one HTTP worker of ``master_pid``; returns the pid killed (or None)."""
    pids = worker_pids(master_pid)
    if not pids:
        return None
    os.kill(pids[0], signal.SIGKILL)
    return pids[0]


def private_pg_datadir(db_host):
    """The data folder of the project's private cluster, or ``(None, reason)`` when the
    configured server is not one this suite may restart."""
    if not db_host or not db_host.startswith("/"):
        return None, f"db_host={db_host or 'TCP default'} is not a private cluster's socket folder"
    if not Path(db_host, "PG_VERSION").exists():
        return None, f"{db_host} is a socket folder, not a cluster's data folder"
    return db_host, ""


def pg_restart(datadir):
    """Restart the cluster in ``datadir`` (fast mode) as its owner; returns seconds taken."""
    bindir = next((str(d) for d in sorted(Path("/usr/lib/postgresql").glob("*/bin")) if (d / "pg_ctl").exists()), "")
    pg_ctl = os.path.join(bindir, "pg_ctl") if bindir else "pg_ctl"
    cmd = [pg_ctl, "-D", datadir, "-w", "-m", "fast", "restart", "-l", os.path.join(datadir, "server.log")]
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    start = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    return time.monotonic() - start
