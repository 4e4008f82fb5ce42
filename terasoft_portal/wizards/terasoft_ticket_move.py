from odoo import fields, models
from odoo.exceptions import UserError

# moves whose only input is a message -> the public method of terasoft.ticket
MOVE_METHODS = {
    "ask_customer": "action_ask_customer",
    "start_progress": "action_start_progress",
    "escalate_development": "action_escalate_development",
}


class TerasoftTicketMove(models.TransientModel):
    """Asks staff for the text a move needs, then calls the ticket's public move method."""

    _name = "terasoft.ticket.move"
    _description = "Move Tickets in the Workflow"

    ticket_ids = fields.Many2many("terasoft.ticket", string="Tickets", required=True)
    move = fields.Selection(
        [
            ("ask_customer", "Ask the customer"),
            ("start_progress", "Start working"),
            ("plan", "Plan"),
            ("escalate_development", "Escalate to development"),
            ("resolve", "Resolve"),
            ("discard", "Discard"),
        ],
        required=True,
    )
    message = fields.Html("Message to the Customer", sanitize=True)
    solution = fields.Html(sanitize=True)
    planned_date = fields.Datetime()
    reason = fields.Text()
    duplicate_of_id = fields.Many2one("terasoft.ticket")

    def action_confirm(self):
        self.ensure_one()
        tickets = self.ticket_ids
        if self.move == "resolve":
            result = tickets.action_resolve(solution=self.solution)
        elif self.move == "plan":
            result = tickets.action_plan(planned_date=self.planned_date, message=self.message)
        elif self.move == "discard":
            result = tickets.action_discard(reason=self.reason, duplicate_of_id=self.duplicate_of_id.id or None)
        else:
            result = getattr(tickets, MOVE_METHODS[self.move])(message=self.message)
        if isinstance(result, dict):  # the method asked for its text again: it was empty
            raise UserError(self.env._("Please fill in the text this action needs."))
        return {"type": "ir.actions.act_window_close"}
