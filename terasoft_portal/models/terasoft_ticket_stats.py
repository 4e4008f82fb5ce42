"""Service figures stored when a ticket moves, so that the reports (terasoft_ticket_report.py)
are plain SQL over stored columns, whatever the number of tickets.

- ``terasoft.ticket.state.log.working_hours``: working hours (support calendar) the ticket
  spent in the state it leaves, written with the log row;
- ``terasoft.ticket.first_response_hours`` / ``resolution_hours``: working hours from creation
  to the take-in-charge / to the resolution, and ``reopen_count``, recomputed by the move.

Working hours are counted set-based: the calendar's cached working days (leaves included) over
the span of a whole batch, then a bisection per ticket
(``resource.calendar._terasoft_work_hours``).
"""

from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL

# Moves after which the ticket is open again after a resolution: the manager's reopening, and the
# customer's answer to a resolution ("it is not solved").
REOPEN_SQL = SQL("(move = 'reopen' OR (move = 'customer_reply' AND from_state = 'resolved'))")


def _work_hours_by_calendar(tickets, spans):
    """{key: working hours} for ``spans`` = {key: (ticket, start, end)}, grouped by the support
    calendar of each ticket's company (one interval expansion per calendar)."""
    by_calendar = defaultdict(list)
    for key, (ticket, start, end) in spans.items():
        by_calendar[(ticket.company_id or tickets.env.company)._ticket_calendar()].append((key, start, end))
    result = {}
    for calendar, items in by_calendar.items():
        hours = calendar._terasoft_work_hours([(start, end) for _key, start, end in items])
        result.update(zip((key for key, _start, _end in items), hours, strict=True))
    return result


class TerasoftTicketStateLog(models.Model):
    _inherit = "terasoft.ticket.state.log"

    working_hours = fields.Float(
        "Working Hours in Previous Status",
        compute="_compute_working_hours",
        store=True,
        precompute=True,
        aggregator="avg",
        help="Working hours of the support calendar between the previous change of status (or the "
        "creation) and this one.",
    )

    @api.depends()  # written once with the row (a log is never edited); computed for old rows on upgrade
    def _compute_working_hours(self):
        logs = self.filtered(lambda log: log.ticket_id and log.date)
        (self - logs).working_hours = 0.0
        if not logs:
            return
        tickets = logs.ticket_id
        # the changes already stored for these tickets (the other rows of ``self`` are new, or
        # are the stored rows themselves on upgrade)
        own_ids = {log.id for log in logs if isinstance(log.id, int)}
        self.env.cr.execute(
            SQL(
                "SELECT ticket_id, id, date FROM terasoft_ticket_state_log WHERE ticket_id = ANY(%s)",
                tickets.ids,
            )
        )
        changes = defaultdict(list)  # ticket id: [(date, order, log or None)]
        for ticket_id, log_id, date in self.env.cr.fetchall():
            if log_id not in own_ids:
                changes[ticket_id].append((date, log_id, 0, None))
        for index, log in enumerate(logs):
            # new rows come after the stored rows of the same date, in the order given
            order = log.id if isinstance(log.id, int) else float("inf")
            changes[log.ticket_id.id].append((log.date, order, index, log))
        spans = {}
        for ticket in tickets:
            previous = ticket.create_date
            for date, _order, _index, log in sorted(changes[ticket.id], key=lambda row: row[:3]):
                if log is not None:
                    spans[log] = (ticket, previous, date)
                previous = date
        hours = _work_hours_by_calendar(tickets, spans)
        for log in logs:
            log.working_hours = hours.get(log, 0.0)


class TerasoftTicket(models.Model):
    # pylint: disable-next=consider-merging-classes-inherited  # one file per concern (service figures)
    _inherit = "terasoft.ticket"

    first_response_hours = fields.Float(
        "First Response (working hours)",
        compute="_compute_service_hours",
        store=True,
        precompute=True,  # a new ticket gets 0 in its INSERT, without a query
        readonly=True,
        copy=False,
        aggregator="avg",
        help="Working hours of the support calendar from the creation to the take-in-charge.",
    )
    resolution_hours = fields.Float(
        "Resolution Time (working hours)",
        compute="_compute_service_hours",
        store=True,
        precompute=True,
        readonly=True,
        copy=False,
        aggregator="avg",
        help="Working hours of the support calendar from the creation to the last resolution (or to "
        "the closure, for a ticket closed without a resolution).",
    )
    reopen_count = fields.Integer(
        "Reopenings",
        compute="_compute_reopen_count",
        store=True,
        precompute=True,
        readonly=True,
        copy=False,
        help="Times the ticket was opened again after a resolution or a closure (reopened by a "
        "manager, or answered by the customer after the resolution).",
    )

    # The service reports filter on these dates ("Mese scorso", opened per week): found by index
    # instead of a scan of every ticket. The resolution date is the expression of the report's
    # view (terasoft.ticket.report.ticket.date_resolution), so that its filter can use it.
    _report_date_taken_idx = models.Index("(date_taken) WHERE date_taken IS NOT NULL")
    _report_create_date_idx = models.Index("(create_date)")
    _report_resolution_date_idx = models.Index(
        "((CASE WHEN state IN ('resolved', 'closed') THEN COALESCE(date_resolved, date_closed) END))"
    )

    @api.depends("create_date", "date_taken", "date_resolved", "date_closed")
    def _compute_service_hours(self):
        spans = {}
        for ticket in self:
            created = ticket.create_date
            if created and ticket.date_taken:
                spans[ticket, "first"] = (ticket, created, ticket.date_taken)
            resolution = ticket.date_resolved or ticket.date_closed
            if created and resolution:
                spans[ticket, "resolution"] = (ticket, created, resolution)
        hours = _work_hours_by_calendar(self, spans) if spans else {}
        for ticket in self:
            ticket.first_response_hours = hours.get((ticket, "first"), 0.0)
            ticket.resolution_hours = hours.get((ticket, "resolution"), 0.0)

    @api.depends("state_log_ids.move", "state_log_ids.from_state")
    def _compute_reopen_count(self):
        stored = self.filtered(lambda ticket: isinstance(ticket.id, int))
        counts = {}
        if stored:
            self.env["terasoft.ticket.state.log"].flush_model(["ticket_id", "move", "from_state"])
            self.env.cr.execute(
                SQL(
                    "SELECT ticket_id, count(*) FROM terasoft_ticket_state_log "
                    "WHERE ticket_id = ANY(%s) AND %s GROUP BY ticket_id",
                    stored.ids,
                    REOPEN_SQL,
                )
            )
            counts = dict(self.env.cr.fetchall())
        for ticket in self:
            ticket.reopen_count = counts.get(ticket.id, 0)
