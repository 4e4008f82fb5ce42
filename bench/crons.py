#!/usr/bin/env python3
"""Measure terasoft_portal's crons on a copy of a seeded benchmark database.

The crons commit after each batch (`ir.cron._commit_progress`), so they run on a throwaway
copy (`CREATE DATABASE ... TEMPLATE`), dropped afterwards. Due work is prepared with SQL:
``--due`` tickets resolved long ago (auto-close; the seeded resolved tickets are due too),
every `new` ticket past its SLA deadline (breach scan), every discarded ticket past the
retention (purge). For each cron: wall time and this process's CPU time, SQL queries (the
cursor's count), tickets handled and tickets/s, and the process's resident memory: sampled every 0.2 s by a thread
reading /proc/self/status (no tracemalloc: it slows Python 2-3x), reported after the first
batch, at the end and at its peak (VmHWM, reset before each cron), so that a memory growing
with the number of tickets shows as end >> first batch. Prints one JSON line.
"""

import argparse
import json
import threading
import time

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config

from odoo.addons.base.models.ir_cron import IrCron

from bench import db_connect


def status_mb(key):
    """``VmRSS``/``VmHWM`` of this process in MB (from /proc/self/status)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


class RssSampler(threading.Thread):
    """Peak VmRSS seen since ``reset()``, sampled every ``period`` seconds."""

    def __init__(self, period=0.2):
        super().__init__(daemon=True)
        self.period, self.peak, self.stop = period, 0.0, threading.Event()

    def reset(self):
        self.peak = status_mb("VmRSS")
        try:  # "5" resets the high-water mark VmHWM (Linux >= 4.0)
            with open("/proc/self/clear_refs", "w") as clear:
                clear.write("5")
        except OSError:
            pass

    def run(self):
        while not self.stop.wait(self.period):
            self.peak = max(self.peak, status_mb("VmRSS"))


def run(env, method, sampler):
    """Run the cron ``method``; count its batches (commits) and note the RSS after the first."""
    cr = env.cr
    batches = []
    commit_progress = IrCron._commit_progress

    def counting_commit_progress(self, *args, **kwargs):
        result = commit_progress(self, *args, **kwargs)
        batches.append(status_mb("VmRSS"))
        return result

    sampler.reset()
    before = cr.sql_log_count
    t0, cpu0 = time.perf_counter(), time.process_time()
    IrCron._commit_progress = counting_commit_progress
    try:
        getattr(env["terasoft.ticket"], method)()
    finally:
        IrCron._commit_progress = commit_progress
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - cpu0
    rss_end = status_mb("VmRSS")
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,  # of this process: on a shared machine, less noisy than the wall time
        "queries": cr.sql_log_count - before,
        "batches": len(batches),
        "rss_first_batch_mb": batches[0] if batches else rss_end,
        "rss_end_mb": rss_end,
        "rss_peak_mb": max(sampler.peak, status_mb("VmHWM")),
    }


def count(cr, where):
    cr.execute(f"SELECT count(*) FROM terasoft_ticket WHERE {where}")
    return cr.fetchone()[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--due", type=int, default=20000)
    parser.add_argument("--only", help="comma-separated subset: autoclose,sla,purge")
    args = parser.parse_args()
    only = set((args.only or "autoclose,sla,purge").split(","))
    copy = f"{args.db}_crons"
    cn = db_connect(args.config)
    cn.autocommit = True
    with cn.cursor() as cr:
        cr.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        cr.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{args.db}"')
    config.parse_config(["-c", args.config, "-d", copy, "--no-http"])
    sampler = RssSampler()
    sampler.start()
    results = {}
    try:
        with Registry(copy).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cr.execute(
                """UPDATE terasoft_ticket SET state = 'resolved', is_done = false,
                              date_resolved = now() - interval '30 days', date_last_customer_message = NULL,
                              autoclose_reminder_sent = true
                          WHERE id IN (SELECT id FROM terasoft_ticket WHERE state = 'closed' ORDER BY id LIMIT %s)""",
                [args.due],
            )
            cr.execute("""UPDATE terasoft_ticket SET sla_deadline = now() - interval '1 day', sla_status = 'on_time',
                              date_taken = NULL, sla_breach_reported = false WHERE state = 'new'""")
            breached = cr.rowcount
            cr.execute("""UPDATE terasoft_ticket SET date_discarded = now() - interval '400 days'
                          WHERE state = 'discarded'""")
            discarded = cr.rowcount
            cr.commit()
            env.invalidate_all()
            if "autoclose" in only:
                resolved = count(cr, "state = 'resolved'")
                res = run(env, "_cron_autoclose", sampler)
                res["tickets"] = resolved - count(cr, "state = 'resolved'")  # closed by the cron
                res["left_unclosed"] = count(cr, "state = 'resolved' AND date_resolved < now() - interval '29 days'")
                results["autoclose"] = res
            if "sla" in only:
                results["sla breach scan"] = dict(run(env, "_cron_sla_scan", sampler), tickets=breached)
            if "purge" in only:
                results["discarded purge"] = dict(run(env, "_cron_purge_discarded", sampler), tickets=discarded)
            for res in results.values():
                res["tickets_per_s"] = res["tickets"] / res["seconds"] if res["seconds"] else None
    finally:
        sampler.stop.set()
        Registry.delete(copy)
        with cn.cursor() as cr:
            cr.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    print(json.dumps(results))


if __name__ == "__main__":
    main()
