"""A private MariaDB server for the import's tests, the benchmark and ``make import-vte
VTE_DUMP=...``: Debian's ``mariadb-server`` binaries, its own data folder under /var/tmp, its
own unix socket, no TCP listener. As root the server runs as the ``mysql`` system user (like
the private PostgreSQL cluster runs as ``postgres``). Never touches the system's MariaDB.

Command line (used by scripts/setup.sh)::

    python -m odoo.addons.terasoft_vte_import.tools.mariadb start NAME   # prints the socket path
    python -m odoo.addons.terasoft_vte_import.tools.mariadb stop NAME
"""

import hashlib
import os
import shutil
import subprocess
import sys
import time

ROOT_DIR = "/var/tmp"
INSTALL_HINT = (
    "MariaDB is needed by the VTE import (its tests, `make import-vte VTE_DUMP=...`): install "
    "Debian's 'mariadb-server' package (as root: apt-get install mariadb-server); the project "
    "installs it itself when it runs as root."
)


class MariaDBUnavailable(RuntimeError):
    pass


def _binary(*names):
    for name in names:
        for folder in ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"):
            path = os.path.join(folder, name)
            if os.access(path, os.X_OK):
                return path
        found = shutil.which(name)
        if found:
            return found
    return None


def ensure_installed():
    """The path of mariadbd, installing Debian's mariadb-server first when missing and root."""
    server = _binary("mariadbd", "mysqld")
    if server and _binary("mariadb-install-db", "mysql_install_db"):
        return server
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise MariaDBUnavailable(INSTALL_HINT)
    for _attempt in range(60):  # another apt run holds the lock: wait for it, do not fight it
        if (
            subprocess.run(["pgrep", "-x", "apt-get"], capture_output=True, check=False).returncode != 0
            and subprocess.run(["pgrep", "-x", "dpkg"], capture_output=True, check=False).returncode != 0
        ):
            break
        time.sleep(5)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "mariadb-server"]):
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise MariaDBUnavailable(f"{INSTALL_HINT}\n`{' '.join(cmd)}` failed:\n{result.stderr[-2000:]}")
    server = _binary("mariadbd", "mysqld")
    if not server:
        raise MariaDBUnavailable(INSTALL_HINT)
    return server


class PrivateMariaDB:
    """One private server per ``name`` (e.g. the clone's path): ``start()`` is idempotent."""

    def __init__(self, name):
        digest = hashlib.sha1(name.encode()).hexdigest()[:10]
        self.datadir = os.path.join(ROOT_DIR, f"terasoft_vte-mariadb-{digest}")
        self.socket = os.path.join(self.datadir, "mysqld.sock")
        self.pidfile = os.path.join(self.datadir, "mysqld.pid")
        self.log = os.path.join(self.datadir, "server.log")

    def _run_as(self):
        return ["runuser", "-u", "mysql", "--"] if os.geteuid() == 0 else []

    def running(self):
        try:
            with open(self.pidfile) as f:
                pid = int(f.read().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return False
        return os.path.exists(self.socket)

    def start(self):
        if self.running():
            return self.socket
        server = ensure_installed()
        data = os.path.join(self.datadir, "data")
        os.makedirs(self.datadir, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.datadir, "mysql", "mysql")
        os.chmod(self.datadir, 0o755)  # the socket must be reachable by the importer's user
        if not os.path.isdir(os.path.join(data, "mysql")):
            install_db = _binary("mariadb-install-db", "mysql_install_db")
            user = ["--user=mysql"] if os.geteuid() == 0 else []
            result = subprocess.run(
                [
                    install_db,
                    "--no-defaults",
                    f"--datadir={data}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    *user,
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise MariaDBUnavailable(f"mariadb-install-db failed:\n{result.stdout[-1500:]}{result.stderr[-1500:]}")
        user = ["--user=mysql"] if os.geteuid() == 0 else []
        cmd = [
            server,
            "--no-defaults",
            f"--datadir={data}",
            f"--socket={self.socket}",
            f"--pid-file={self.pidfile}",
            "--skip-networking",
            f"--log-error={self.log}",
            "--innodb-buffer-pool-size=128M",
            "--innodb-flush-log-at-trx-commit=2",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            "--max-allowed-packet=256M",
            *user,
        ]
        subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        for _i in range(300):
            if self.running():
                try:
                    self.connect().close()
                    return self.socket
                # pylint: disable-next=except-pass  # the server is still starting: try again
                except Exception:  # noqa: BLE001 - still starting
                    pass
            time.sleep(0.1)
        tail = ""
        if os.path.exists(self.log):
            with open(self.log) as log:
                tail = log.read()[-2000:]
        raise MariaDBUnavailable(f"the private MariaDB did not start (log {self.log}):\n{tail}")

    def stop(self):
        if not self.running():
            return
        with open(self.pidfile) as f:
            pid = int(f.read().strip())
        os.kill(pid, 15)
        for _i in range(200):
            try:
                os.kill(pid, 0)
            except OSError:
                return
            time.sleep(0.1)

    def connect(self, database=None, **kwargs):
        import pymysql

        return pymysql.connect(
            unix_socket=self.socket, user="root", database=database, charset="utf8mb4", autocommit=True, **kwargs
        )

    def source(self, database):
        """The importer's ``source`` argument for ``database`` on this server."""
        return {"unix_socket": self.socket, "user": "root", "database": database}

    def recreate_database(self, database):
        conn = self.connect()
        with conn.cursor() as cr:
            # pylint: disable-next=sql-injection  # a database name (identifier, not a value) of the test server
            cr.execute(f"DROP DATABASE IF EXISTS `{database}`")
            # pylint: disable-next=sql-injection  # a database name (identifier, not a value) of the test server
            cr.execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
        conn.close()

    def load_dump(self, database, dump_path):
        """Load a mysqldump file into a fresh ``database`` with the mariadb client."""
        self.recreate_database(database)
        client = _binary("mariadb", "mysql")
        with open(dump_path, "rb") as dump:
            result = subprocess.run(
                [client, f"--socket={self.socket}", "-uroot", database], stdin=dump, capture_output=True, check=False
            )
        if result.returncode != 0:
            raise RuntimeError(f"loading {dump_path} failed: {result.stderr.decode(errors='replace')[-2000:]}")


def main(argv):
    action, name = argv[1], argv[2]
    server = PrivateMariaDB(name)
    try:
        if action == "start":
            # pylint: disable-next=print-used  # command-line tool: its output
            print(server.start())
        elif action == "stop":
            server.stop()
        elif action == "load":
            server.start()
            server.load_dump(argv[3], argv[4])
        else:
            raise SystemExit(f"usage: {argv[0]} start|stop|load NAME [DATABASE DUMP]")
    except MariaDBUnavailable as error:
        # pylint: disable-next=print-used  # command-line tool: its output
        print(f"ERROR: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
