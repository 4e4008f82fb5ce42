"""Service reports of the Assistenza app: read-only SQL views (pivot and graph) over the tickets
and their state log. Every measure is a stored column (see terasoft_ticket_stats.py), so a
report is one aggregate query whatever the number of tickets; nothing loops over tickets in
Python.

- ``terasoft.ticket.report.ticket``: one row per ticket: first-response and resolution time in
  working hours, reopen rate, backlog by state and age;
- ``terasoft.ticket.report.flow``: one row per event (opened, taken in charge, resolved,
  closed, discarded, reopened): tickets opened and closed per week;
- ``terasoft.ticket.report.state``: one row per stay in a state: time in each state.
"""

from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.tools import SQL, drop_view_if_exists

from .terasoft_ticket import TICKET_STATES

AGE_BUCKETS = [
    ("0_1", "Less than 1 day"),
    ("1_3", "1-3 days"),
    ("3_7", "3-7 days"),
    ("7_30", "1-4 weeks"),
    ("30", "Over 30 days"),
]
FLOW_KINDS = [
    ("opened", "Opened"),
    ("taken", "Taken in Charge"),
    ("resolved", "Resolved"),
    ("closed", "Closed"),
    ("discarded", "Discarded"),
    ("reopened", "Reopened"),
]
TICKET_TYPES = [("clarification", "Clarification"), ("defect", "Defect"), ("request", "Request")]
PRIORITIES = [("0", "Not urgent"), ("1", "Medium"), ("2", "Urgent")]


class TerasoftTicketReportMixin(models.AbstractModel):
    """The dimensions every report shares (columns of the ticket) and the view's creation."""

    _name = "terasoft.ticket.report.mixin"
    _description = "Service Report Dimensions"
    _auto = False

    ticket_id = fields.Many2one("terasoft.ticket", readonly=True)
    category_id = fields.Many2one("terasoft.ticket.category", readonly=True)
    user_id = fields.Many2one("res.users", "Assigned to", readonly=True)
    commercial_partner_id = fields.Many2one("res.partner", "Customer", readonly=True)
    company_id = fields.Many2one("res.company", "Support Company", readonly=True)
    product_id = fields.Many2one("terasoft.product", readonly=True)
    ticket_type = fields.Selection(TICKET_TYPES, "Type", readonly=True)
    priority = fields.Selection(PRIORITIES, readonly=True)
    nbr = fields.Integer("Count", readonly=True)

    @api.model
    def _dimensions_sql(self, alias="t"):
        """The shared columns, from the ticket table aliased ``alias``."""
        return SQL(
            "%(t)s.id AS ticket_id, %(t)s.category_id, %(t)s.user_id, %(t)s.commercial_partner_id, "
            "%(t)s.company_id, %(t)s.product_id, %(t)s.ticket_type, %(t)s.priority, 1 AS nbr",
            t=SQL.identifier(alias),
        )

    def _query(self):
        raise NotImplementedError

    def init(self):
        if self._abstract:
            return
        drop_view_if_exists(self.env.cr, self._table)  # a new column may come anywhere in the view
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))


class TerasoftTicketReportTicket(models.Model):
    _name = "terasoft.ticket.report.ticket"
    _inherit = ["terasoft.ticket.report.mixin"]
    _description = "Ticket Analysis"
    _auto = False
    _order = "date_open desc"

    date_open = fields.Datetime("Opened On", readonly=True)
    date_taken = fields.Datetime("Taken in Charge On", readonly=True)
    date_resolution = fields.Datetime(
        "Resolved On", readonly=True, help="Last resolution (or closure, for a ticket closed without one)."
    )
    date_closed = fields.Datetime("Closed On", readonly=True)
    state = fields.Selection(TICKET_STATES, "Status", readonly=True)
    is_open = fields.Boolean("Open", readonly=True)
    # the backlog filters on ``is_done = False``: the ORM writes it ``is_done IS NOT TRUE``, the
    # predicate of the ticket's partial index of open tickets (state, creation date: the backlog
    # by state and age is read from that index alone)
    is_done = fields.Boolean("Closed for the customer", readonly=True)
    first_response_hours = fields.Float(
        "First Response (working hours)",
        readonly=True,
        aggregator="avg",
        help="Working hours from the creation to the take-in-charge (tickets taken in charge only).",
    )
    resolution_hours = fields.Float(
        "Resolution Time (working hours)",
        readonly=True,
        aggregator="avg",
        help="Working hours from the creation to the resolution (resolved and closed tickets only).",
    )
    reopen_count = fields.Integer("Reopenings", readonly=True)
    reopen_rate = fields.Float(
        "Reopen Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the resolved or closed tickets that were reopened at least once.",
    )
    age_days = fields.Float(
        "Age (days)", readonly=True, aggregator="avg", help="Days since the creation (open tickets)."
    )
    age_bucket = fields.Selection(AGE_BUCKETS, "Age", readonly=True)

    def _query(self):
        done = SQL("t.state IN ('resolved', 'closed')")
        age = SQL("(now() AT TIME ZONE 'UTC' - t.create_date)")
        return SQL(
            """
            SELECT t.id, %(dimensions)s,
                   t.create_date AS date_open,
                   t.date_taken,
                   CASE WHEN %(done)s THEN COALESCE(t.date_resolved, t.date_closed) END AS date_resolution,
                   t.date_closed,
                   t.state,
                   t.state NOT IN ('closed', 'discarded') AS is_open,
                   t.is_done,
                   CASE WHEN t.date_taken IS NOT NULL THEN t.first_response_hours END AS first_response_hours,
                   CASE WHEN %(done)s THEN t.resolution_hours END AS resolution_hours,
                   t.reopen_count,
                   CASE WHEN %(done)s OR t.reopen_count > 0
                        THEN CASE WHEN t.reopen_count > 0 THEN 100.0 ELSE 0.0 END END AS reopen_rate,
                   CASE WHEN t.state NOT IN ('closed', 'discarded')
                        THEN EXTRACT(EPOCH FROM %(age)s) / 86400 END AS age_days,
                   CASE WHEN t.state IN ('closed', 'discarded') THEN NULL
                        WHEN %(age)s < interval '1 day' THEN '0_1'
                        WHEN %(age)s < interval '3 days' THEN '1_3'
                        WHEN %(age)s < interval '7 days' THEN '3_7'
                        WHEN %(age)s < interval '30 days' THEN '7_30'
                        ELSE '30' END AS age_bucket
              FROM terasoft_ticket t
            """,
            dimensions=self._dimensions_sql(),
            done=done,
            age=age,
        )


class TerasoftTicketReportFlow(models.Model):
    _name = "terasoft.ticket.report.flow"
    _inherit = ["terasoft.ticket.report.mixin"]
    _description = "Ticket Flow"
    _auto = False
    _order = "date desc"

    date = fields.Datetime(readonly=True)
    kind = fields.Selection(FLOW_KINDS, "Event", readonly=True)

    def _query(self):
        # ids: 2 × ticket id for the openings, 2 × log id + 1 for the moves (unique, stable)
        return SQL(
            """
            SELECT t.id * 2 AS id, %(dimensions)s, t.create_date AS date, 'opened' AS kind
              FROM terasoft_ticket t
            UNION ALL
            SELECT l.id * 2 + 1 AS id, %(dimensions)s, l.date,
                   CASE WHEN l.move = 'take_in_charge' THEN 'taken'
                        WHEN l.move = 'reopen' OR (l.move = 'customer_reply' AND l.from_state = 'resolved')
                        THEN 'reopened'
                        ELSE l.to_state END AS kind
              FROM terasoft_ticket_state_log l
              JOIN terasoft_ticket t ON t.id = l.ticket_id
             WHERE l.move IN ('take_in_charge', 'reopen')
                OR l.to_state IN ('resolved', 'closed', 'discarded')
                OR (l.move = 'customer_reply' AND l.from_state = 'resolved')
            """,
            dimensions=self._dimensions_sql(),
        )


class TerasoftTicketReportState(models.Model):
    _name = "terasoft.ticket.report.state"
    _inherit = ["terasoft.ticket.report.mixin"]
    _description = "Time in Status"
    _auto = False
    _order = "date desc"

    state = fields.Selection(TICKET_STATES, "Status", readonly=True)
    date = fields.Datetime("Left On", readonly=True)
    working_hours = fields.Float(readonly=True, aggregator="avg")
    elapsed_hours = fields.Float(readonly=True, aggregator="avg")

    def _query(self):
        return SQL(
            """
            SELECT l.id, %(dimensions)s, l.from_state AS state, l.date,
                   l.working_hours, l.duration_hours AS elapsed_hours
              FROM terasoft_ticket_state_log l
              JOIN terasoft_ticket t ON t.id = l.ticket_id
            """,
            dimensions=self._dimensions_sql(),
        )


class TerasoftTicketReportSummary(models.AbstractModel):
    """The weekly summary email to each company's support manager (cron, off by default)."""

    _name = "terasoft.ticket.report.summary"
    _description = "Weekly Service Summary"

    @api.model
    def _weekly_summary_period(self, company, now=None):
        """(start, end) of the last full week (Monday to Monday, in the support calendar's time
        zone), as naive UTC datetimes."""
        tz = pytz.timezone(company._ticket_calendar().tz or "UTC")
        local = pytz.utc.localize(now or fields.Datetime.now()).astimezone(tz)
        monday = datetime.combine(local.date() - timedelta(days=local.weekday()), time.min)
        start, end = monday - timedelta(days=7), monday
        return tuple(tz.localize(day).astimezone(pytz.utc).replace(tzinfo=None) for day in (start, end))

    @api.model
    def _weekly_summary_values(self, company, start, end):
        """The figures of the week [start, end) of ``company``, rendered by the template
        ``mail_template_weekly_summary``: a dict, so that other reports can add theirs.

        opened, taken, resolved, closed, discarded, reopened: events of the week (see
        ``terasoft.ticket.report.flow``); first_response_avg/median: working hours of the tickets
        taken in charge in the week; resolution_avg/median: of the tickets resolved in the week
        (still resolved or closed); backlog: tickets open now; reopen_rate: reopenings of the week
        per resolution of the week, in percent (None without resolutions)."""
        cr = self.env.cr
        self.env["terasoft.ticket"].flush_model()
        self.env["terasoft.ticket.state.log"].flush_model()
        cr.execute(
            SQL(
                """
                SELECT count(*) FILTER (WHERE kind = 'opened'), count(*) FILTER (WHERE kind = 'taken'),
                       count(*) FILTER (WHERE kind = 'resolved'), count(*) FILTER (WHERE kind = 'closed'),
                       count(*) FILTER (WHERE kind = 'discarded'), count(*) FILTER (WHERE kind = 'reopened')
                  FROM terasoft_ticket_report_flow
                 WHERE company_id = %(company)s AND date >= %(start)s AND date < %(end)s
                """,
                company=company.id,
                start=start,
                end=end,
            )
        )
        opened, taken, resolved, closed, discarded, reopened = cr.fetchone()
        cr.execute(
            SQL(
                """
                SELECT avg(first_response_hours) FILTER (WHERE date_taken >= %(start)s AND date_taken < %(end)s),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY first_response_hours)
                           FILTER (WHERE date_taken >= %(start)s AND date_taken < %(end)s),
                       avg(resolution_hours) FILTER (WHERE date_resolution >= %(start)s AND date_resolution < %(end)s),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY resolution_hours)
                           FILTER (WHERE date_resolution >= %(start)s AND date_resolution < %(end)s),
                       count(*) FILTER (WHERE is_open)
                  FROM terasoft_ticket_report_ticket
                 WHERE company_id = %(company)s
                """,
                company=company.id,
                start=start,
                end=end,
            )
        )
        first_avg, first_median, resolution_avg, resolution_median, backlog = cr.fetchone()
        # resolutions of the week: resolve moves, and closures of tickets that were not resolved
        resolutions = resolved + closed
        cr.execute(
            SQL(
                """
                SELECT count(*) FROM terasoft_ticket_state_log l JOIN terasoft_ticket t ON t.id = l.ticket_id
                 WHERE t.company_id = %(company)s AND l.date >= %(start)s AND l.date < %(end)s
                   AND l.to_state = 'closed' AND l.from_state = 'resolved'
                """,
                company=company.id,
                start=start,
                end=end,
            )
        )
        resolutions -= cr.fetchone()[0]
        return {
            "company": company,
            "date_from": start,
            "date_to": end,
            "opened": opened,
            "taken": taken,
            "resolved": resolved,
            "closed": closed,
            "discarded": discarded,
            "reopened": reopened,
            "first_response_avg": first_avg,
            "first_response_median": first_median,
            "resolution_avg": resolution_avg,
            "resolution_median": resolution_median,
            "backlog": backlog,
            "reopen_rate": round(100.0 * reopened / resolutions, 1) if resolutions else None,
        }

    @api.model
    def _cron_weekly_summary(self):
        """Email last week's figures to the support manager of every company that has one."""
        template = self.env.ref("terasoft_portal.mail_template_weekly_summary", raise_if_not_found=False)
        if not template:
            return
        # every company with a support manager: a handful of records, once a week
        for company in self.env["res.company"].sudo().search([("ticket_manager_id", "!=", False)]):
            start, end = self._weekly_summary_period(company)
            values = self._weekly_summary_values(company, start, end)
            template.with_context(summary=values).send_mail(company.id)
