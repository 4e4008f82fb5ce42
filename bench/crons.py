#!/usr/bin/env python3
"""Measure terasoft_portal's crons on a copy of a seeded benchmark database.

The crons commit after each batch (`ir.cron._commit_progress`), so they run on a throwaway
copy (`CREATE DATABASE ... TEMPLATE`), dropped afterwards. Due work is prepared with SQL:
20,000 tickets resolved long ago (auto-close), every `new` ticket past its SLA deadline
(breach scan), every discarded ticket past the retention (purge). For each cron: wall time,
SQL queries (the cursor's count), and peak Python memory (tracemalloc). Prints one JSON line.
"""
import argparse
import json
import time
import tracemalloc

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config

from bench import db_connect


def run(env, method):
    cr = env.cr
    tracemalloc.start()
    before = cr.sql_log_count
    t0 = time.perf_counter()
    getattr(env["terasoft.ticket"], method)()
    seconds = time.perf_counter() - t0
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"seconds": seconds, "queries": cr.sql_log_count - before, "peak_mb": peak / 2**20}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--due", type=int, default=20000)
    args = parser.parse_args()
    copy = f"{args.db}_crons"
    cn = db_connect(args.config)
    cn.autocommit = True
    with cn.cursor() as cr:
        cr.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        cr.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{args.db}"')
    config.parse_config(["-c", args.config, "-d", copy, "--no-http"])
    results = {}
    try:
        with Registry(copy).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cr.execute("""UPDATE terasoft_ticket SET state = 'resolved', is_done = false,
                              date_resolved = now() - interval '30 days', date_last_customer_message = NULL,
                              autoclose_reminder_sent = true
                          WHERE id IN (SELECT id FROM terasoft_ticket WHERE state = 'closed' ORDER BY id LIMIT %s)""",
                       [args.due])
            due = cr.rowcount
            cr.execute("""UPDATE terasoft_ticket SET sla_deadline = now() - interval '1 day', sla_status = 'on_time',
                              date_taken = NULL, sla_breach_reported = false WHERE state = 'new'""")
            breached = cr.rowcount
            cr.execute("""UPDATE terasoft_ticket SET date_discarded = now() - interval '400 days'
                          WHERE state = 'discarded'""")
            discarded = cr.rowcount
            cr.commit()
            env.invalidate_all()
            results["autoclose"] = dict(run(env, "_cron_autoclose"), tickets=due)
            results["sla breach scan"] = dict(run(env, "_cron_sla_scan"), tickets=breached)
            results["discarded purge"] = dict(run(env, "_cron_purge_discarded"), tickets=discarded)
            cr.execute("SELECT count(*) FROM terasoft_ticket WHERE state = 'resolved' AND date_resolved < now() - interval '29 days'")
            results["autoclose"]["left_unclosed"] = cr.fetchone()[0]
    finally:
        Registry.delete(copy)
        with cn.cursor() as cr:
            cr.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    print(json.dumps(results))


if __name__ == "__main__":
    main()
