#!/usr/bin/env python3
"""Odoo's own test suites with terasoft_portal installed (`make test-odoo`).

Runs the at_install and post_install tests of portal, mail, auth_signup,
auth_totp_portal, http_routing, resource, rating and test_mail on a throwaway database
where all of them (and terasoft_portal, unless --bare) are installed, then
compares the failures with tests/odoo_known_failures.txt (the tests that fail on
the same Odoo tree without our addon). Exit status 1 on any other failure.

Why two steps: in a plain `odoo-bin -i ... --test-enable` run, the at_install
tests of a module run right after that module is installed, before the modules
that depend on it (ours) are loaded, so they see nothing of ours. Here the
modules are installed first (no tests), then Odoo is started on the installed
database with the tests enabled and every at_install test is run together with
the post_install ones, once the registry holds all modules: the `_odoo` mode of
this script wraps `odoo.tests.loader.make_suite` in this test process only (the
addon patches nothing).

The same script with --bare gives the baseline: the known-failures file is the
list of its failures, each with the reason.
"""

import argparse
import configparser
import os
import re
import shutil
import subprocess
import sys
import time

MODULES = ["portal", "mail", "auth_signup", "auth_totp_portal", "http_routing", "resource", "rating", "test_mail"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KNOWN = os.path.join(ROOT, "tests", "odoo_known_failures.txt")

# 2026-12-06 22:00:00,123 1234 ERROR db odoo.addons.portal.tests.test_x: FAIL: Class.test_y
LINE_RE = re.compile(r"^\S+ \S+ \d+ ERROR \S+ odoo\.addons\.(\w+)[\w.]*: (FAIL|ERROR): (.+)$")
SUMMARY_RE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")


def odoo_mode(argv):
    """Run odoo-bin with every at_install test moved to the post_install phase."""
    import odoo.cli  # noqa: PLC0415
    from odoo.tests import loader  # noqa: PLC0415

    make_suite = loader.make_suite

    def make_suite_all_loaded(module_names, position="at_install"):
        if position == "at_install":
            # Not while the modules load: the registry does not hold all of them yet.
            return loader.OdooSuite([])
        return loader.OdooSuite(
            list(make_suite(module_names, "at_install")) + list(make_suite(module_names, "post_install"))
        )

    loader.make_suite = make_suite_all_loaded
    sys.argv = ["odoo-bin", *argv]
    odoo.cli.main()


def test_id(module, description):
    """`/module:Class.method`, the --test-tags spec that re-runs the test."""
    description = description.strip()
    m = re.match(r"Subtest (\w+)\.(\w+)", description)
    if m:
        return f"/{module}:{m[1]}.{m[2]}"
    m = re.match(r"(\w+) \(([\w.]+)\.(\w+)\)", description)  # setUpClass (odoo.addons.x.tests.y.Class)
    if m:
        return f"/{module}:{m[3]}.{m[1]}"
    m = re.match(r"(\w+)\.(\w+)", description)
    if m:
        return f"/{module}:{m[1]}.{m[2]}"
    return f"/{module}:{description}"


def parse_log(path):
    failed, summary = {}, None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = LINE_RE.match(line.rstrip("\n"))
            if m:
                failed.setdefault(test_id(m[1], m[3]), m[2])
                continue
            m = SUMMARY_RE.search(line)
            if m:
                summary = tuple(int(x) for x in m.groups())
    return failed, summary


def read_known(path):
    known = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                tid, _, reason = line.partition("#")
                if tid.strip():
                    known[tid.strip()] = reason.strip()
    return known


def pg_connect(conf):
    import psycopg2  # noqa: PLC0415

    c = configparser.ConfigParser()
    c.read(conf)
    o = c["options"]
    kw = {"dbname": "postgres", "host": o["db_host"], "port": o["db_port"], "user": o["db_user"]}
    if o.get("db_password"):
        kw["password"] = o["db_password"]
    cn = psycopg2.connect(**kw)
    cn.autocommit = True
    return cn, o


def drop_db(conf, db):
    cn, o = pg_connect(conf)
    cn.cursor().execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    cn.close()
    shutil.rmtree(os.path.join(o["data_dir"], "filestore", db), ignore_errors=True)


def run(cmd, log):
    with open(log, "ab") as out:
        return subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "_odoo":
        return odoo_mode(sys.argv[2:])
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", help="Odoo configuration file (database, addons path, http port)")
    p.add_argument("--odoo-src")
    p.add_argument("--bare", action="store_true", help="without terasoft_portal: the baseline")
    p.add_argument("--log", help="Odoo's log file (default .local/test-odoo[-bare].log)")
    p.add_argument("--known", default=KNOWN, help="known failures of the bare tree (default %(default)s)")
    p.add_argument("--db", help="database name (default: a throwaway one, dropped at the end)")
    p.add_argument("--keep-db", action="store_true")
    p.add_argument("--check-log", metavar="LOG", help="run nothing: compare the failures of an existing log")
    p.add_argument("--modules", default=",".join(MODULES), help="modules whose tests run (default %(default)s)")
    p.add_argument("--tags", help="--test-tags of Odoo instead of the modules' (e.g. one test to re-run)")
    p.add_argument(
        "--install",
        default="terasoft_portal",
        help="our addons installed with them, e.g. terasoft_portal,OPT_IN_ADDON (default %(default)s; not with --bare)",
    )
    args = p.parse_args()

    if args.check_log:
        return report(args, args.check_log)
    if not (args.config and args.odoo_src):
        p.error("--config and --odoo-src are required")
    modules = args.modules.split(",")
    db = args.db or f"terasoft_testodoo{'_bare' if args.bare else ''}_{os.getpid()}"
    log = args.log or os.path.join(ROOT, ".local", f"test-odoo{'-bare' if args.bare else ''}.log")
    os.makedirs(os.path.dirname(os.path.abspath(log)), exist_ok=True)
    open(log, "w").close()
    install = modules + ([] if args.bare else args.install.split(","))
    odoo_bin = [sys.executable, os.path.join(args.odoo_src, "odoo-bin"), "-c", args.config, "-d", db]
    tags = args.tags or ",".join(f"/{m}" for m in modules)
    t0 = time.time()
    try:
        print(f"[test-odoo] installing {','.join(install)} with demo data in {db} (log: {log})", flush=True)
        rc = run(
            [*odoo_bin, "-i", ",".join(install), "--with-demo", "--stop-after-init", "--no-http", "--log-level=warn"],
            log,
        )
        if rc:
            print(f"[test-odoo] installation failed (exit {rc}): see {log}", flush=True)
            return 1
        t1 = time.time()
        print(f"[test-odoo] installed in {t1 - t0:.0f}s; running the tests of {tags} (all modules loaded)", flush=True)
        run(
            [
                sys.executable,
                os.path.abspath(__file__),
                "_odoo",
                *odoo_bin[2:],
                "--test-enable",
                "--test-tags",
                tags,
                "--stop-after-init",
                "--log-level=info",
                "--max-cron-threads=0",
            ],
            log,
        )
        print(f"[test-odoo] tests done in {time.time() - t1:.0f}s", flush=True)
    finally:
        if not args.keep_db:
            drop_db(args.config, db)

    return report(args, log)


def report(args, log):
    """Compare the failures of Odoo's log with the known failures: 0 when nothing new failed."""
    failed, summary = parse_log(log)
    if not summary:
        print(f"[test-odoo] no test summary in {log}: Odoo did not finish the tests", flush=True)
        return 1
    n_failed, n_errors, n_tests = summary
    print(
        f"[test-odoo] {'bare tree' if args.bare else 'with ' + args.install}: "
        f"{n_tests} tests, {n_failed} failed, {n_errors} error(s)",
        flush=True,
    )
    known = read_known(args.known)
    new = sorted(t for t in failed if t not in known)
    for tid in sorted(failed):
        mark = "known" if tid in known else "NEW"
        print(f"  {failed[tid]:5} {mark:5} {tid}" + (f"  # {known[tid]}" if tid in known else ""))
    for tid in sorted(set(known) - set(failed)) if not getattr(args, "tags", None) else ():
        print(f"  passes now (remove it from {os.path.relpath(args.known, ROOT)}): {tid}")
    if args.bare:
        return 0
    if new or (n_failed + n_errors and not failed):
        print(f"[test-odoo] FAILED: {len(new)} failing test(s) not in {os.path.relpath(args.known, ROOT)}", flush=True)
        return 1
    print("[test-odoo] OK: Odoo's suites pass as on the bare tree", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
