"""A local scale-out deployment of Odoo 19 for tests, benchmarks and curious admins (``make cluster``).

    PostgreSQL primary ──(streaming, slot terasoft_standby)──> hot standby (pg_basebackup)
          ^  read/write cursors                                    ^  readonly routes
          |                                                        |  (--db_replica_host/port)
    Odoo node 1 (--workers=2, crons)      Odoo node 2 (--workers=2, crons)
          \\___________ shared data_dir: sessions + filestore ___________/
                                   ^
               HAProxy: roundrobin, health checks on /web/health,
               /websocket to the nodes' gevent ports

Two private PostgreSQL clusters, each with its own data directory and unix socket (no TCP),
wal_level=replica and pg_stat_statements (the tests count the statements each one served).
Commands: ``start`` (idempotent: what runs is kept), ``stop``, ``status``; ``start`` prints the
URL. Ports: ``--port`` (HAProxy) then the next five (node HTTP and gevent ports, HAProxy stats);
PostgreSQL: ``--pg-port`` (primary) and the next one (standby). Everything lives in
``.local/cluster`` (PostgreSQL data in /var/tmp when run as root, like scripts/setup.sh does).
The helpers (``Cluster``) are used by reliability/cluster.py and bench/cluster.py.
"""

import argparse
import configparser
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IS_ROOT = os.geteuid() == 0
SLOT = "terasoft_standby"
# The addons of a deployment (README, "Addons of this repository"): terasoft_db_outage serves a
# request again when its database connection died before COMMIT, which is also what a request
# in flight on the standby meets when the standby stops (Odoo 19 alone answers 500, see
# docs/scaling.md); terasoft_http_banner as `make run` loads it.
MODULES = "terasoft_portal,terasoft_db_outage"
SERVER_WIDE_MODULES = "base,rpc,web,terasoft_http_banner,terasoft_db_outage"
REPLICATION_USER = "replicator"

HAPROXY_CFG = """\
global
    maxconn 512
    stats socket {state}/haproxy.sock mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 300s
    timeout tunnel 1h
    timeout queue 60s
    option forwardfor
    option http-server-close
    # a connection refused (the node is dead) is tried again on the other node: the request
    # never reached Odoo. A request whose node died under it is sent again too when that is
    # safe, as in bench/measure.py: a GET (reading changes nothing) or a portal form carrying
    # its idempotency_key (answered with its first result if it was saved before the node
    # died, terasoft.idempotency.key); never another POST. Only requests that fit in one
    # buffer (16 kB) can be sent again.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response

frontend portal
    bind 127.0.0.1:{port}
    acl is_websocket path_beg /websocket
    use_backend odoo_websocket if is_websocket
    default_backend odoo_http

backend odoo_http
    balance roundrobin
    # HTTP/1.1 with a Host: Odoo answers 500 to a request without one (HAProxy's default check)
    option httpchk
    http-check send meth GET uri /web/health ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    option http-buffer-request
    acl replay_safe req.body -m sub idempotency_key= 'name="idempotency_key"'
    http-request disable-l7-retry unless METH_GET || METH_HEAD || replay_safe
    # a node whose workers are all busy answers its health check late: not a dead node
    timeout check 5s
    # a node that refuses a connection is dead (kill -9, crash): out at once, not after two
    # checks; otherwise, the other node being full (maxconn), HAProxy keeps choosing the dead
    # one for the retries and answers 503 "No server is available"
    default-server inter 1s fall 2 rise 2 maxconn {maxconn} observe layer4 error-limit 1 on-error mark-down
{http_servers}

backend odoo_websocket
    balance roundrobin
    option httpchk
    http-check send meth GET uri /web/health ver HTTP/1.1 hdr Host 127.0.0.1
    default-server inter 2s fall 2 rise 2
{ws_servers}

listen stats
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /
"""


def log(msg):
    print(f"[cluster {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pg_bindir():
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / "pg_ctl").exists():
            return d
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    raise SystemExit("PostgreSQL server binaries not found (Debian package 'postgresql').")


def addon_digest():
    """A digest of terasoft_portal's files: the cluster's database is upgraded when it changes."""
    digest = hashlib.sha1()
    addon = ROOT / "terasoft_portal"
    for path in sorted(p for p in addon.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(addon)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def odoo_src():
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "terasoft_portal" / "odoo-19.0"
    return Path(os.environ.get("ODOO_SRC", cache))


class Cluster:
    def __init__(self, port=8470, pg_port=55460, db="terasoft_demo", state=None, python=None, nodes=2):
        self.port = port
        self.nodes = nodes  # HAProxy and start()/stop() use the first two; bench/cluster.py runs four
        self.node_ports = [port + 1 + i for i in range(nodes)]
        self.gevent_ports = [port + 1 + nodes + i for i in range(nodes)]
        self.stats_port = port + 1 + 2 * nodes
        self.pg_port = pg_port
        self.standby_port = pg_port + 1
        self.db = db
        self.state = Path(state or ROOT / ".local" / "cluster")
        self.state.mkdir(parents=True, exist_ok=True)
        tag = hashlib.sha1(str(self.state).encode()).hexdigest()[:10]
        pg_root = Path(f"/var/tmp/terasoft_portal-cluster-{tag}") if IS_ROOT else self.state / "pg"
        self.primary_dir = pg_root / "primary"
        self.standby_dir = pg_root / "standby"
        self.data_dir = self.state / "data"  # the shared data_dir: sessions + filestore ("NFS")
        self.conf = self.state / "odoo.conf"
        self.conf_no_replica = self.state / "odoo-no-replica.conf"
        self.python = python or str(ROOT / ".venv" / "bin" / "python")
        self.bin = pg_bindir()
        self.url = f"http://127.0.0.1:{port}"

    # ------------------------------------------------------------ PostgreSQL
    def _as_pg(self, cmd, **kw):
        if IS_ROOT:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run([str(c) for c in cmd], check=True, **kw)

    def _pg_running(self, datadir):
        if not (datadir / "PG_VERSION").exists():
            return False
        return (
            subprocess.run(
                ["runuser", "-u", "postgres", "--"] * IS_ROOT
                + [str(self.bin / "pg_ctl"), "-D", str(datadir), "status"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ).returncode
            == 0
        )

    def _pg_start(self, datadir, port):
        if self._pg_running(datadir):
            return
        opts = (
            f"-p {port} -k {datadir} -c listen_addresses='' -c max_connections=100 "
            "-c shared_buffers=128MB -c wal_level=replica -c max_wal_senders=4 -c max_replication_slots=4 "
            "-c hot_standby=on -c hot_standby_feedback=on -c shared_preload_libraries=pg_stat_statements "
            "-c pg_stat_statements.track=all"
        )
        self._as_pg(
            [self.bin / "pg_ctl", "-D", datadir, "-w", "-l", datadir / "server.log", "start", "-o", opts],
            stdout=subprocess.DEVNULL,
        )

    def psql(self, sql, standby=False, db="postgres"):
        """Run ``sql`` with psql on the primary (or the standby); returns its unaligned output."""
        host, port = (self.standby_dir, self.standby_port) if standby else (self.primary_dir, self.pg_port)
        out = subprocess.run(
            [self.bin / "psql", "-h", host, "-p", str(port), "-U", "odoo", "-d", db, "-XAtqc", sql],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def start_primary(self):
        d = self.primary_dir
        if not (d / "PG_VERSION").exists():
            log(f"initdb: primary in {d}")
            d.mkdir(parents=True, exist_ok=True)
            if IS_ROOT:
                shutil.chown(d.parent, "postgres", "postgres")
                shutil.chown(d, "postgres", "postgres")
            d.chmod(0o700)
            self._as_pg(
                [self.bin / "initdb", "-D", d, "-A", "trust", "-U", "odoo", "-E", "UTF8", "--locale=C.UTF-8"],
                stdout=subprocess.DEVNULL,
            )
        self._pg_start(d, self.pg_port)
        if not self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{REPLICATION_USER}'"):
            self.psql(f"CREATE ROLE {REPLICATION_USER} WITH REPLICATION LOGIN")
        if not self.psql(f"SELECT 1 FROM pg_replication_slots WHERE slot_name = '{SLOT}'"):
            self.psql(f"SELECT pg_create_physical_replication_slot('{SLOT}')")

    def start_standby(self):
        d = self.standby_dir
        if not (d / "PG_VERSION").exists():
            log(f"pg_basebackup: standby in {d} (slot {SLOT})")
            # -R writes primary_conninfo + primary_slot_name and standby.signal
            self._as_pg(
                [
                    self.bin / "pg_basebackup",
                    "-h",
                    self.primary_dir,
                    "-p",
                    self.pg_port,
                    "-U",
                    REPLICATION_USER,
                    "-D",
                    d,
                    "-R",
                    "-S",
                    SLOT,
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                ]
            )
            for leftover in ("postmaster.pid", "server.log"):
                (d / leftover).unlink(missing_ok=True)
        self._pg_start(d, self.standby_port)

    def stop_standby(self, mode="fast"):
        if self._pg_running(self.standby_dir):
            self._as_pg(
                [self.bin / "pg_ctl", "-D", self.standby_dir, "-m", mode, "-w", "stop"], stdout=subprocess.DEVNULL
            )

    def replication_lag_bytes(self):
        """Bytes of WAL the standby has not replayed yet (None when it is not streaming)."""
        out = self.psql(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication "
            "WHERE state = 'streaming' LIMIT 1"
        )
        return int(float(out)) if out else None

    # ------------------------------------------------------------ Odoo
    def write_config(self):
        src = odoo_src()
        conf = configparser.ConfigParser()
        conf["options"] = {
            "addons_path": f"{src}/addons,{src}/odoo/addons,{ROOT}",
            "data_dir": str(self.data_dir),
            "db_host": str(self.primary_dir),
            "db_port": str(self.pg_port),
            "db_user": "odoo",
            "db_password": "",
            "db_replica_host": str(self.standby_dir),
            "db_replica_port": str(self.standby_port),
            "db_maxconn": "16",
            "http_interface": "127.0.0.1",
            "list_db": "False",
            "proxy_mode": "True",
            "workers": "2",
            "max_cron_threads": "1",
            "limit_time_real": "300",
            "limit_time_cpu": "120",
            "log_level": os.environ.get("ODOO_LOG_LEVEL", "warn"),
            # "Job ... starting" of every cron run: which node ran it (reliability/cluster.py)
            "log_handler": "odoo.addons.base.models.ir_cron:INFO",
        }
        with self.conf.open("w") as fh:
            conf.write(fh)
        # the same without the replica (bench/cluster.py compares both)
        del conf["options"]["db_replica_host"], conf["options"]["db_replica_port"]
        with self.conf_no_replica.open("w") as fh:
            conf.write(fh)

    def odoo_bin(self, *args, sub=None, **kw):
        """odoo-bin [sub-command] -c <the nodes' config> args (``sub``: shell, ...)."""
        cmd = [self.python, str(odoo_src() / "odoo-bin"), *([sub] if sub else []), "-c", str(self.conf), *args]
        return subprocess.run(cmd, **kw)

    def ensure_db(self):
        """Create the database with MODULES and their demo data, or install the ones missing."""
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.db}'")
        args = ["--stop-after-init", "--no-http", "--workers=0", "--max-cron-threads=0"]
        stamp, digest = self.state / f"db-{self.db}.stamp", addon_digest()
        if not exists:
            log(f"creating database {self.db} with {MODULES} and the demo data (a minute or two)...")
            args += ["-i", MODULES, "--with-demo", "--load-language=it_IT"]
        else:
            wanted = MODULES.split(",")
            names = ",".join(f"'{m}'" for m in wanted)
            installed = self.psql(
                f"SELECT name FROM ir_module_module WHERE state = 'installed' AND name IN ({names})", db=self.db
            ).split()
            missing = [m for m in wanted if m not in installed]
            changed = not stamp.exists() or stamp.read_text() != digest
            if not missing and not changed:
                return
            if missing:
                log(f"installing {', '.join(missing)} in {self.db}...")
                args += ["-i", ",".join(missing)]
            if changed:
                log(f"upgrading terasoft_portal in {self.db} (the code changed; restart running nodes)...")
                args += ["-u", "terasoft_portal"]
        self.odoo_bin("-d", self.db, *args, check=True, stdout=subprocess.DEVNULL)
        self.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", db=self.db)
        stamp.write_text(digest)

    def node_pidfile(self, i):
        return self.state / f"node{i}.pid"

    def node_pid(self, i):
        try:
            pid = int(self.node_pidfile(i).read_text())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def start_node(self, i, extra=(), replica=True):
        """Start node ``i`` (0 or 1); ``replica=False``: without --db_replica_host (all on the primary)."""
        if self.node_pid(i):
            return
        log(f"Odoo node {i + 1}: http {self.node_ports[i]}, gevent {self.gevent_ports[i]}")
        proc = subprocess.Popen(
            [
                self.python,
                str(odoo_src() / "odoo-bin"),
                "-c",
                str(self.conf if replica else self.conf_no_replica),
                "-d",
                self.db,
                f"--db-filter=^{self.db}$",
                f"--http-port={self.node_ports[i]}",
                f"--gevent-port={self.gevent_ports[i]}",
                f"--logfile={self.state / f'node{i + 1}.log'}",
                f"--load={SERVER_WIDE_MODULES}",
                *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.node_pidfile(i).write_text(str(proc.pid))

    def stop_node(self, i, sig=signal.SIGTERM):
        pid = self.node_pid(i)
        if not pid:
            return
        os.kill(pid, sig)
        for _ in range(150):
            try:
                os.kill(pid, 0)
            except OSError:
                break
            time.sleep(0.1)
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        if sig == signal.SIGKILL:  # its workers and gevent process die with their parent (Odoo checks)
            self._kill_children(pid)
        self.node_pidfile(i).unlink(missing_ok=True)

    def kill_node(self, i):
        """kill -9 the node's master and every process of its session (workers, cron, gevent)."""
        pid = self.node_pid(i)
        if not pid:
            return
        try:
            os.killpg(pid, signal.SIGKILL)  # started with start_new_session: pgid == pid
        except OSError:
            pass
        self.stop_node(i, signal.SIGKILL)

    @staticmethod
    def _kill_children(pid):
        out = subprocess.run(["pgrep", "-s", str(pid)], capture_output=True, text=True).stdout.split()
        for child in out:
            try:
                os.kill(int(child), signal.SIGKILL)
            except OSError:
                pass

    def wait_http(self, url, limit=120):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.5)
        return False

    # ------------------------------------------------------------ HAProxy
    def write_haproxy(self, maxconn=2):  # = workers per node: the rest waits in HAProxy's queue
        http = "\n".join(f"    server node{i + 1} 127.0.0.1:{p} check" for i, p in enumerate(self.node_ports[:2]))
        ws = "\n".join(
            f"    server ws{i + 1} 127.0.0.1:{g} check port {p}"
            for i, (g, p) in enumerate(zip(self.gevent_ports[:2], self.node_ports[:2], strict=True))
        )
        (self.state / "haproxy.cfg").write_text(
            HAPROXY_CFG.format(
                state=self.state,
                port=self.port,
                maxconn=maxconn,
                http_servers=http,
                ws_servers=ws,
                stats_port=self.stats_port,
            )
        )

    def haproxy_pid(self):
        try:
            pid = int((self.state / "haproxy.pid").read_text())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def start_haproxy(self):
        if self.haproxy_pid():
            return
        if not shutil.which("haproxy"):
            raise SystemExit("HAProxy not found (Debian package 'haproxy'; scripts/setup.sh installs it as root).")
        self.write_haproxy()
        subprocess.run(
            [
                "haproxy",
                "-D",
                "-f",
                str(self.state / "haproxy.cfg"),
                "-p",
                str(self.state / "haproxy.pid"),
            ],
            check=True,
        )

    def stop_haproxy(self):
        pid = self.haproxy_pid()
        if pid:
            os.kill(pid, signal.SIGTERM)
        (self.state / "haproxy.pid").unlink(missing_ok=True)

    def haproxy_servers(self):
        """{server name: status} of the http backend, from HAProxy's stats CSV."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.stats_port}/;csv", timeout=5) as response:
            rows = response.read().decode().splitlines()
        header = rows[0].lstrip("# ").split(",")
        result = {}
        for row in rows[1:]:
            values = dict(zip(header, row.split(","), strict=False))
            if values.get("pxname") == "odoo_http" and values.get("svname", "").startswith("node"):
                result[values["svname"]] = values.get("status")
        return result

    # ------------------------------------------------------------ whole
    def start(self, node_extra=()):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.start_primary()
        self.start_standby()
        self.write_config()
        self.ensure_db()
        for i in range(2):
            self.start_node(i, node_extra)
        for i in range(2):
            if not self.wait_http(f"http://127.0.0.1:{self.node_ports[i]}/web/health"):
                raise SystemExit(f"Odoo node {i + 1} did not answer: see {self.state / f'node{i + 1}.log'}")
        self.start_haproxy()
        if not self.wait_http(f"{self.url}/web/login", 60):
            raise SystemExit("HAProxy did not answer")
        return self.url

    def stop(self):
        self.stop_haproxy()
        for i in range(self.nodes):
            self.stop_node(i)
        self.stop_standby()
        if self._pg_running(self.primary_dir):
            self._as_pg(
                [self.bin / "pg_ctl", "-D", self.primary_dir, "-m", "fast", "-w", "stop"], stdout=subprocess.DEVNULL
            )

    def destroy(self):
        """Stop, then remove both PostgreSQL clusters and the shared data_dir."""
        self.stop()
        shutil.rmtree(self.primary_dir.parent, ignore_errors=True)
        shutil.rmtree(self.state, ignore_errors=True)

    def status(self):
        def up(running):
            return "up  " if running else "down"

        lines = [
            f"primary  {up(self._pg_running(self.primary_dir))}  {self.primary_dir} port {self.pg_port}",
            f"standby  {up(self._pg_running(self.standby_dir))}  {self.standby_dir} port {self.standby_port}",
        ]
        lines += [f"node{i + 1}    {'up' if self.node_pid(i) else 'down'}  http {self.node_ports[i]}" for i in range(2)]
        lines.append(f"haproxy  {'up' if self.haproxy_pid() else 'down'}  {self.url} (stats :{self.stats_port})")
        if self._pg_running(self.primary_dir):
            lines.append(f"replication: {self.psql('SELECT state, sync_state FROM pg_stat_replication') or 'none'}")
        return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "status", "destroy"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("CLUSTER_PORT", 8470)))
    parser.add_argument("--pg-port", type=int, default=int(os.environ.get("CLUSTER_PG_PORT", 55460)))
    parser.add_argument("--db", default=os.environ.get("CLUSTER_DB", "terasoft_demo"))
    args = parser.parse_args()
    cluster = Cluster(args.port, args.pg_port, args.db)
    if args.command == "start":
        url = cluster.start()
        print(cluster.status())
        print(f"\n  terasoft_portal cluster on {url}  (database {args.db}; demo logins as for make run)")
        print("  stop it with: make cluster-stop\n")
    elif args.command == "stop":
        cluster.stop()
        log("cluster stopped")
    elif args.command == "destroy":
        cluster.destroy()
        log("cluster removed")
    else:
        print(cluster.status())
    return 0


if __name__ == "__main__":
    sys.exit(main())
