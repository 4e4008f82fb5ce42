#!/usr/bin/env python3
"""Time to open each service report (Assistenza > Reporting) on a copy of a seeded benchmark
database, and what the working-hour bookkeeping adds to the moves.

The seed (seed.py) writes tickets without their state log: on a throwaway copy (``CREATE
DATABASE ... TEMPLATE``, dropped afterwards) this script first gives every ticket the log rows
of its dates (taken in charge, resolved, closed or discarded; one closed ticket in 30 answered
by the customer after the resolution and resolved again), then computes the working hours of
the logs and of the tickets with the ORM, as an upgrade of the module does (timed:
"backfill"). Then, as a support manager, for each report the ``formatted_read_group`` calls
the pivot makes when it opens (total, rows, columns, rows × columns) and the graph's call,
with the action's domain and default filter: median wall time of ``--runs`` runs after one
warm-up, and the queries of one opening. Last, a batch move of 500 tickets (take in charge,
auto-close) with the time spent in the working-hour computations. Prints one JSON line.

    python bench/reports.py --config .local/odoo-bench.conf --db bench_ours_100000
"""

import argparse
import json
import statistics
import time
from datetime import date

from dateutil.relativedelta import relativedelta

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config

from bench import db_connect

SEED_LOGS = """
INSERT INTO terasoft_ticket_state_log (ticket_id, commercial_partner_id, from_state, to_state, move, date, user_id,
                                       duration_hours)
SELECT t.id, t.commercial_partner_id, e.from_state, e.to_state, e.move, e.date, %(uid)s,
       round(EXTRACT(EPOCH FROM e.date - e.previous)::numeric / 3600, 2)
  FROM terasoft_ticket t
 CROSS JOIN LATERAL (VALUES
       ('new', 'waiting_support', 'take_in_charge', t.date_taken, t.create_date, true),
       ('waiting_support', 'resolved', 'resolve', t.date_resolved - interval '3 hours', t.date_taken,
        t.id %% 30 = 0 AND t.state = 'closed'),
       ('resolved', 'waiting_support', 'customer_reply', t.date_resolved - interval '2 hours',
        t.date_resolved - interval '3 hours', t.id %% 30 = 0 AND t.state = 'closed'),
       ('waiting_support', 'resolved', 'resolve', t.date_resolved,
        CASE WHEN t.id %% 30 = 0 AND t.state = 'closed' THEN t.date_resolved - interval '2 hours' ELSE t.date_taken END,
        true),
       ('resolved', 'closed', 'autoclose', t.date_closed, t.date_resolved, t.state = 'closed'),
       ('waiting_support', 'discarded', 'discard', t.date_closed, t.date_taken, t.state = 'discarded')
 ) AS e(from_state, to_state, move, date, previous, wanted)
 WHERE e.wanted AND e.date IS NOT NULL AND e.previous IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM terasoft_ticket_state_log l WHERE l.ticket_id = t.id)
"""


def last_month():
    first = date.today().replace(day=1)
    return str(first - relativedelta(months=1)), str(first)


def reports():
    """(label, model, domain, pivot rows, pivot columns, measures, graph groupby) as the actions open."""
    start, end = last_month()
    three_months = str(date.today().replace(day=1) - relativedelta(months=3))
    ticket = "terasoft.ticket.report.ticket"
    return [
        (
            "first response (last month)",
            ticket,
            [("date_taken", "!=", False), ("date_taken", ">=", start), ("date_taken", "<", end)],
            ["category_id"],
            [],
            ["first_response_hours:avg", "nbr:sum"],
            ["user_id"],
        ),
        (
            "resolution time (last month)",
            ticket,
            [("state", "in", ("resolved", "closed")), ("date_resolution", ">=", start), ("date_resolution", "<", end)],
            ["category_id"],
            [],
            ["resolution_hours:avg", "nbr:sum"],
            ["user_id"],
        ),
        (
            "opened/closed per week (3 months)",
            "terasoft.ticket.report.flow",
            [("date", ">=", three_months), ("kind", "in", ("opened", "closed"))],
            ["date:week"],
            ["kind"],
            ["nbr:sum"],
            ["date:week", "kind"],
        ),
        ("backlog", ticket, [("is_done", "=", False)], ["state"], ["age_bucket"], ["nbr:sum"], ["state", "age_bucket"]),
        (
            "reopen rate (last month)",
            ticket,
            [("reopen_rate", "!=", False), ("date_resolution", ">=", start), ("date_resolution", "<", end)],
            ["category_id"],
            [],
            ["reopen_rate:avg", "nbr:sum"],
            ["date_open:month"],
        ),
        (
            "time in status (last month)",
            "terasoft.ticket.report.state",
            [("date", ">=", start), ("date", "<", end)],
            ["state"],
            [],
            ["working_hours:avg", "elapsed_hours:avg", "nbr:sum"],
            ["state"],
        ),
        (
            "ticket analysis (all, by month)",
            ticket,
            [],
            ["category_id"],
            ["date_open:month"],
            ["nbr:sum", "first_response_hours:avg", "resolution_hours:avg", "reopen_rate:avg"],
            ["date_open:month"],
        ),
    ]


def open_report(env, model, domain, rows, cols, measures, graph):
    """The pivot's calls (total, rows, columns, rows × columns) and the graph's."""
    report = env[model]
    calls = [[], rows] + ([cols, rows + cols] if cols else [])
    for groupby in calls:
        report.formatted_read_group(domain, groupby, measures)
    report.formatted_read_group(domain, graph, measures[:1])


def measure_reports(env, runs):
    cr = env.cr
    out = {}
    for label, model, domain, rows, cols, measures, graph in reports():
        open_report(env, model, domain, rows, cols, measures, graph)  # warm-up
        times = []
        for _ in range(runs):
            env.invalidate_all()
            before, t0 = cr.sql_log_count, time.perf_counter()
            open_report(env, model, domain, rows, cols, measures, graph)
            times.append((time.perf_counter() - t0) * 1000)
            queries = cr.sql_log_count - before
        out[label] = {
            "ms_median": round(statistics.median(times), 1),
            "ms_max": round(max(times), 1),
            "queries": queries,
        }
        print(f"[reports] {label}: {out[label]}", flush=True)
    return out


def timed_computes(env):
    """Wrap the working-hour computations to sum their time; returns (totals, restore)."""
    Log = type(env["terasoft.ticket.state.log"])
    Ticket = type(env["terasoft.ticket"])
    totals = {"seconds": 0.0}
    originals = [
        (Log, "_compute_working_hours", Log._compute_working_hours),
        (Ticket, "_compute_service_hours", Ticket._compute_service_hours),
        (Ticket, "_compute_reopen_count", Ticket._compute_reopen_count),
    ]

    def wrap(func):
        def wrapper(self):
            t0 = time.perf_counter()
            try:
                return func(self)
            finally:
                totals["seconds"] += time.perf_counter() - t0

        return wrapper

    for cls, name, func in originals:
        setattr(cls, name, wrap(func))

    def restore():
        for cls, name, func in originals:
            setattr(cls, name, func)

    return totals, restore


def measure_moves(env, size=500):
    """A batch move of ``size`` tickets: total time and the share of the working-hour computations."""
    cr = env.cr
    out = {}
    Ticket = env["terasoft.ticket"].with_context(install_mode=True)  # no notification emails: the move only
    for label, domain, move in (
        ("take in charge", [("state", "=", "new")], lambda t: t.action_take_in_charge()),
        (
            "auto-close",
            [("state", "=", "resolved")],
            lambda t: t._apply_move("autoclose", date_closed=t.env.cr.now()),
        ),
    ):
        tickets = Ticket.search(domain, limit=size, order="id")
        env.invalidate_all()
        totals, restore = timed_computes(env)
        before, t0 = cr.sql_log_count, time.perf_counter()
        try:
            move(tickets)
            env.flush_all()
        finally:
            restore()
        seconds = time.perf_counter() - t0
        out[label] = {
            "tickets": len(tickets),
            "seconds": round(seconds, 3),
            "working_hours_seconds": round(totals["seconds"], 3),
            "queries": cr.sql_log_count - before,
        }
        print(f"[reports] move {label}: {out[label]}", flush=True)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the copy (named <db>_reports)")
    args = parser.parse_args()
    copy = f"{args.db}_reports"
    cn = db_connect(args.config)
    cn.autocommit = True
    with cn.cursor() as cr:
        cr.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        cr.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{args.db}"')
    config.parse_config(["-c", args.config, "-d", copy, "--no-http"])
    result = {}
    try:
        with Registry(copy).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cr.execute(
                "SELECT count(*) FROM terasoft_ticket t WHERE t.state != 'new' AND NOT EXISTS "
                "(SELECT 1 FROM terasoft_ticket_state_log l WHERE l.ticket_id = t.id)"
            )
            if cr.fetchone()[0]:  # tickets seeded without their history
                t0 = time.perf_counter()
                cr.execute(SEED_LOGS, {"uid": SUPERUSER_ID})
                result["log_rows"] = cr.rowcount
                Log, Ticket = env["terasoft.ticket.state.log"], env["terasoft.ticket"]
                cr.execute("SELECT id FROM terasoft_ticket_state_log")
                env.add_to_compute(Log._fields["working_hours"], Log.browse(r[0] for r in cr.fetchall()))
                cr.execute("SELECT id FROM terasoft_ticket")
                tickets = Ticket.browse(r[0] for r in cr.fetchall())
                for name in ("first_response_hours", "resolution_hours", "reopen_count"):
                    env.add_to_compute(Ticket._fields[name], tickets)
                env.flush_all()
                result["backfill_seconds"] = round(time.perf_counter() - t0, 1)
                result["tickets"] = len(tickets)
                print(f"[reports] {result}", flush=True)
                cr.commit()
                cr.execute("ANALYZE terasoft_ticket, terasoft_ticket_state_log")
            manager = (
                env["res.users"]
                .with_context(no_reset_password=True)
                .create(
                    {
                        "name": "Bench Support Manager",
                        "login": "bench.manager@example.com",
                        "group_ids": [(6, 0, [env.ref("terasoft_portal.group_terasoft_portal_manager").id])],
                    }
                )
            )
            result["reports"] = measure_reports(env(user=manager), args.runs)
            result["moves"] = measure_moves(env)
            cr.rollback()
    finally:
        Registry.delete(copy)
        if not args.keep:
            with cn.cursor() as cr:
                cr.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
