#!/usr/bin/env python3
"""One batch of the auto-close, measured (and optionally profiled) in a transaction that is
rolled back: minutes quicker than ``bench/crons.py`` (which runs every due ticket on a copy of
the database) for comparing two versions of the code on the same database.

    .venv/bin/python bench/autoclose_batch.py --config .local/odoo-bench.conf \\
        --db bench_ours_100000 --tickets 500 [--profile /tmp/autoclose.prof]

Makes ``--tickets`` closed tickets resolved 30 days ago (as crons.py does), closes 5 of them
to warm the caches, then closes the others with ``_apply_move("autoclose")`` as the cron does
for one batch; prints wall and CPU time (of this process: on a shared machine the wall time
also measures the others), tickets/s and the SQL queries.
"""

import argparse
import cProfile
import time

from odoo import SUPERUSER_ID, api, fields
from odoo.modules.registry import Registry
from odoo.tools import config


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--tickets", type=int, default=500)
    parser.add_argument("--profile", help="write a cProfile (CPU time) of the batch to this file")
    args = parser.parse_args()
    config.parse_config(["-c", args.config, "-d", args.db, "--no-http"])
    with Registry(args.db).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        cr.execute(
            """UPDATE terasoft_ticket SET state = 'resolved', is_done = false,
                      date_resolved = now() - interval '30 days', date_last_customer_message = NULL,
                      autoclose_reminder_sent = true
                WHERE id IN (SELECT id FROM terasoft_ticket WHERE state = 'closed' ORDER BY id LIMIT %s)
            RETURNING id""",
            [args.tickets + 5],
        )
        ids = sorted(row[0] for row in cr.fetchall())
        env.invalidate_all()
        Ticket = env["terasoft.ticket"].sudo()
        Ticket.browse(ids[:5])._apply_move("autoclose", date_closed=fields.Datetime.now())
        env.flush_all()
        env.invalidate_all()
        tickets = Ticket.browse(ids[5:])
        profile = cProfile.Profile(time.process_time) if args.profile else None
        queries = cr.sql_log_count
        t0, cpu0 = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        tickets._apply_move("autoclose", date_closed=fields.Datetime.now())
        env.flush_all()
        if profile:
            profile.disable()
            profile.dump_stats(args.profile)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        print(
            f"{len(tickets)} tickets: wall {wall:.2f} s ({len(tickets) / wall:.1f}/s), "
            f"CPU {cpu:.2f} s ({len(tickets) / cpu:.1f}/s), {cr.sql_log_count - queries} queries"
        )
        cr.rollback()


if __name__ == "__main__":
    main()
