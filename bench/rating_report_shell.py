"""Time of the Satisfaction report (terasoft.ticket.rating.report) at 100k tickets and ratings.

Throwaway: run in an Odoo shell on a database with the demo data; everything is rolled back:
    PORT=<port> bash scripts/setup.sh odoo shell -d <db> --no-http < bench/rating_report_shell.py
Copies the demo tickets (SQL) up to 100k, adds one answered rating per copy (happy / so-so /
unhappy in turn, over the last year), then times ``formatted_read_group`` as the pivot and the
graph call it (3 runs each) and counts its queries.
"""

import time

from odoo.tools import SQL

GROUPINGS = (
    ["category_id", "rated_on:month"],
    ["user_id", "rated_on:month"],
    ["rated_on:month", "rating_text"],
    ["commercial_partner_id"],
)
AGGREGATES = ["__count", "happy_count:sum", "unhappy_count:sum", "satisfaction:avg"]


def main(env, count=100_000):
    cr = env.cr
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'terasoft_ticket'"
        " AND column_name NOT IN ('id', 'number') AND is_generated = 'NEVER'"
    )
    columns = [SQL.identifier(name) for (name,) in cr.fetchall()]
    cr.execute("CREATE TEMP TABLE bench_src AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, * FROM terasoft_ticket")
    cr.execute("SELECT count(*) FROM bench_src")
    (sources,) = cr.fetchone()
    cr.execute(
        SQL(
            "INSERT INTO terasoft_ticket (number, %s) SELECT 'BENCH' || g, %s"
            " FROM generate_series(1, %s) g JOIN bench_src s ON s.n = g %% %s",
            SQL(", ").join(columns),
            SQL(", ").join(SQL("s.%s", column) for column in columns),
            count,
            sources,
        )
    )
    cr.execute(
        SQL(
            """INSERT INTO rating_rating (res_model_id, res_model, res_id, partner_id, rating, rating_text, consumed,
                                          rated_on, access_token, create_date, write_date)
               SELECT %s, 'terasoft.ticket', t.id, t.partner_id, r.v,
                      CASE r.v WHEN 5 THEN 'top' WHEN 3 THEN 'ok' ELSE 'ko' END, TRUE,
                      now() - (g %% 365) * interval '1 day', md5(g::text), now(), now()
                 FROM generate_series(1, %s) g
                 JOIN terasoft_ticket t ON t.number = 'BENCH' || g
                CROSS JOIN LATERAL (SELECT (ARRAY[5, 3, 1])[1 + g %% 3] AS v) r""",
            env["ir.model"]._get_id("terasoft.ticket"),
            count,
        )
    )
    cr.execute("ANALYZE rating_rating")
    cr.execute("ANALYZE terasoft_ticket")
    report = env["terasoft.ticket.rating.report"].with_user(env.ref("terasoft_portal.user_responsabile_demo"))
    cr.execute("SELECT count(*) FROM terasoft_ticket_rating_report")
    print("report rows", cr.fetchone()[0])
    for groupby in GROUPINGS:
        times = []
        for _run in range(3):
            env.invalidate_all()
            start, queries = time.perf_counter(), cr.sql_log_count
            report.formatted_read_group([], groupby, AGGREGATES)
            times.append(round((time.perf_counter() - start) * 1000))
        print("group by", groupby, "ms", times, "queries", cr.sql_log_count - queries)
    cr.rollback()


main(env)  # noqa: F821 - the Odoo shell's environment
