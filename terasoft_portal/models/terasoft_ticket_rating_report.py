from odoo import fields, models, tools
from odoo.tools import SQL

from odoo.addons.rating.models import rating_data


class TerasoftTicketRatingReport(models.Model):
    """Satisfaction ratings of tickets, by category, agent, customer and month: one row per
    answered rating, with the ticket's category, assignee and company (a SQL view: the
    pivot and graph group it in the database, no per-ticket Python)."""

    _name = "terasoft.ticket.rating.report"
    _description = "Ticket Satisfaction Report"
    _auto = False
    _order = "rated_on desc"
    _rec_name = "ticket_id"

    ticket_id = fields.Many2one("terasoft.ticket", readonly=True)
    rating_id = fields.Many2one("rating.rating", "Rating Record", readonly=True)
    category_id = fields.Many2one("terasoft.ticket.category", readonly=True)
    user_id = fields.Many2one("res.users", "Agent", readonly=True)
    commercial_partner_id = fields.Many2one("res.partner", "Customer Company", readonly=True)
    partner_id = fields.Many2one("res.partner", "Contact", readonly=True)
    company_id = fields.Many2one("res.company", "Support Company", readonly=True)
    rated_on = fields.Datetime(readonly=True)
    rating = fields.Float("Average Rating", aggregator="avg", readonly=True)
    rating_text = fields.Selection(rating_data.RATING_TEXT, "Rating", readonly=True)
    happy_count = fields.Integer("Happy", aggregator="sum", readonly=True)
    neutral_count = fields.Integer("So-so", aggregator="sum", readonly=True)
    unhappy_count = fields.Integer("Unhappy", aggregator="sum", readonly=True)
    satisfaction = fields.Float(
        "Satisfaction (%)",
        aggregator="avg",
        readonly=True,
        help="Share of happy answers: 100 for a happy rating, 0 otherwise (averaged when grouped).",
    )
    feedback = fields.Text("Comment", readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %(table)s AS (
                    SELECT r.id AS id,
                           r.id AS rating_id,
                           t.id AS ticket_id,
                           t.category_id AS category_id,
                           t.user_id AS user_id,
                           t.commercial_partner_id AS commercial_partner_id,
                           r.partner_id AS partner_id,
                           t.company_id AS company_id,
                           COALESCE(r.rated_on, r.write_date) AS rated_on,
                           r.rating AS rating,
                           r.rating_text AS rating_text,
                           (r.rating >= %(satisfied)s)::int AS happy_count,
                           (r.rating >= %(ok)s AND r.rating < %(satisfied)s)::int AS neutral_count,
                           (r.rating < %(ok)s)::int AS unhappy_count,
                           CASE WHEN r.rating >= %(satisfied)s THEN 100.0 ELSE 0.0 END AS satisfaction,
                           r.feedback AS feedback
                      FROM rating_rating r
                      JOIN terasoft_ticket t ON t.id = r.res_id
                     WHERE r.res_model = 'terasoft.ticket'
                       AND r.consumed IS TRUE
                       AND r.rating >= %(minimum)s
                )
                """,
                table=SQL.identifier(self._table),
                satisfied=rating_data.RATING_LIMIT_SATISFIED,
                ok=rating_data.RATING_LIMIT_OK,
                minimum=rating_data.RATING_LIMIT_MIN,
            )
        )
