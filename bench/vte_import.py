"""Benchmark of the VTE import (terasoft_vte_import): not a timed test.

Generates a VTE database of the real size into the private MariaDB (20,000 tickets, ~60,000
comments, ~10,000 attachments on disk), imports it into a throwaway Odoo database with the
``vte_import`` command (as an admin would, committing per batch), and reports time, peak RSS of
the importing process and rows/s. Then runs the import a second time (nothing to do).

    .venv/bin/python bench/vte_import.py --config .local/odoo.conf [--tickets 20000] [--keep]

(``bash scripts/setup.sh odoo --help`` once first writes .local/odoo.conf and starts PostgreSQL.)
"""

import argparse
import configparser
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "terasoft_vte_import", "tools"))
sys.path.insert(0, os.path.join(ROOT, "terasoft_vte_import", "tests"))

import mariadb  # noqa: E402 - found through the sys.path entries above
import vte_fixture  # noqa: E402


def odoo_bin(config):
    parser = configparser.ConfigParser()
    parser.read(config)
    paths = parser["options"]["addons_path"].split(",")
    src = next(p for p in paths if os.path.isfile(os.path.join(os.path.dirname(p), "odoo-bin")))
    return os.path.join(os.path.dirname(src), "odoo-bin"), parser["options"]["addons_path"]


def run_measured(cmd):
    started = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    output = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    return time.time() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), output


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=os.path.join(ROOT, ".local", "odoo.conf"))
    parser.add_argument("--database", default="vte_bench")
    parser.add_argument("--tickets", type=int, default=20000)
    parser.add_argument("--comments", type=int, default=3, help="comments per ticket")
    parser.add_argument("--attachment-every", type=int, default=2, help="one attachment every N tickets")
    parser.add_argument("--keep", action="store_true", help="keep the Odoo database afterwards")
    args = parser.parse_args()
    odoo, addons_path = odoo_bin(args.config)
    python = sys.executable

    server = mariadb.PrivateMariaDB(ROOT)
    server.start()
    vte_db = "vte_bench"
    server.recreate_database(vte_db)
    tmp = tempfile.mkdtemp(prefix="vte_bench_")
    storage = os.path.join(tmp, "storage")
    conn = server.connect(vte_db)
    started = time.time()
    vte_fixture.create_schema(conn, "vtiger_")
    vte_fixture.populate(
        conn,
        "vtiger_",
        storage,
        tickets=args.tickets,
        comments_per_ticket=args.comments,
        attachment_every=args.attachment_every,
    )
    with conn.cursor() as cr:
        counts = {}
        for table in ("troubletickets", "ticketcomments", "attachments", "contactdetails", "account"):
            cr.execute(f"SELECT COUNT(*) FROM vtiger_{table}")
            counts[table] = cr.fetchone()[0]
    conn.close()
    print(f"VTE fixture generated in {time.time() - started:.0f}s: {counts}")

    subprocess.run(
        [
            python,
            odoo,
            "-c",
            args.config,
            "-d",
            args.database,
            "-i",
            "terasoft_vte_import",
            "--with-demo",
            "--stop-after-init",
            "--no-http",
            "--log-level=warn",
        ],
        check=True,
    )
    url = f"mysql://root@localhost/{vte_db}?unix_socket={server.socket}"
    report_path = os.path.join(tmp, "report.json")
    cmd = [
        python,
        odoo,
        f"--addons-path={addons_path}",
        "vte_import",
        "-c",
        args.config,
        "-d",
        args.database,
        "--log-level=warn",
        f"--vte-db={url}",
        f"--vte-storage={storage}",
        f"--vte-report={report_path}",
    ]
    results = []
    for label in ("first import", "second run (nothing changed)"):
        seconds, rss, code, output = run_measured(cmd)
        if code:
            print(output)
            raise SystemExit(f"{label}: vte_import exited with {code}")
        with open(report_path) as f:
            report = json.load(f)
        rows = sum(c["read"] for c in report["counts"].values())
        written = sum(c["created"] + c["updated"] for c in report["counts"].values())
        results.append((label, seconds, rss, rows, written, report["counts"]))
    print()
    print(f"{'run':<30} {'time (s)':>9} {'peak RSS (MB)':>14} {'rows read':>10} {'written':>9} {'rows/s':>8}")
    for label, seconds, rss, rows, written, _counts in results:
        print(f"{label:<30} {seconds:>9.0f} {rss:>14.0f} {rows:>10} {written:>9} {rows / seconds:>8.0f}")
    first = results[0][5]
    print("first import: " + ", ".join(f"{k} {v['created']}" for k, v in first.items() if v["created"]))
    print(f"tickets/s (first import): {first['ticket']['created'] / results[0][1]:.1f}")
    shutil.rmtree(tmp, ignore_errors=True)
    if not args.keep:
        subprocess.run(
            [python, odoo, "db", "-c", args.config, "drop", args.database],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


if __name__ == "__main__":
    main()
