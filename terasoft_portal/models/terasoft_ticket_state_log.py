from odoo import fields, models

from .terasoft_ticket import TICKET_STATES


class TerasoftTicketStateLog(models.Model):
    _name = "terasoft.ticket.state.log"
    _description = "Ticket Status Change"
    _order = "date desc, id desc"
    _log_access = False  # `date` and `user_id` say it all; the log is never edited

    ticket_id = fields.Many2one("terasoft.ticket", required=True, index=True, ondelete="cascade")
    commercial_partner_id = fields.Many2one(related="ticket_id.commercial_partner_id", store=True, string="Customer")
    from_state = fields.Selection(TICKET_STATES, "From", required=True)
    to_state = fields.Selection(TICKET_STATES, "To", required=True)
    move = fields.Char("Action", required=True)
    date = fields.Datetime("When", required=True, default=fields.Datetime.now, index=True)
    user_id = fields.Many2one("res.users", "Who", required=True, default=lambda self: self.env.uid)
    duration_hours = fields.Float("Hours in Previous Status", aggregator="avg")
    message = fields.Html("Message to the Customer", sanitize=True, help="The text support sent with this change.")
    # Rows moved here from a duplicate merged into this ticket (terasoft.ticket.merge): facts of
    # the duplicate's history, which the reports of this ticket's own times leave out. The
    # number stays when the discarded duplicate is purged (retention), the link does not.
    merged_from_number = fields.Char(
        "Merged From",
        readonly=True,
        help="Logged on this duplicate, moved here when it was merged into this ticket.",
    )
    merged_from_id = fields.Many2one(
        "terasoft.ticket", "Merged From Ticket", index="btree_not_null", ondelete="set null", readonly=True
    )
