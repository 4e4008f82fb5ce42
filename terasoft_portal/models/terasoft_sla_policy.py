"""SLA policies: which targets (take in charge, resolution) apply to a ticket.

Precedence: among the active policies of the ticket's support company (or of no company) whose
criteria all match the ticket (an empty criterion matches anything), the most specific one wins
(the one with the most non-empty criteria among category, priority, importance, ticket type
and customer company); between equally specific policies, the lowest sequence, then the oldest.
The default policy shipped with the module has no criteria: it applies when nothing else does.
"""

from odoo import api, fields, models

# The states a policy may pause the resolution clock in (one boolean each, `pause_<state>`).
# `new` never pauses: the take-in-charge clock runs until someone takes the ticket in charge.
PAUSABLE_STATES = ("waiting_customer", "planned", "waiting_development", "blocked")
# The criteria that choose a policy: the ticket fields they read (see `_sla_policy_matches`).
SLA_CRITERIA_FIELDS = ("category_id", "priority", "importance", "ticket_type", "partner_id", "company_id")


class TerasoftSlaPolicy(models.Model):
    _name = "terasoft.sla.policy"
    _description = "SLA Policy"
    _order = "sequence, id"

    name = fields.Char(required=True, help="Internal name: customers never see it.")
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10, help="Between equally specific policies, the lowest sequence wins.")
    description = fields.Text("Notes")
    company_id = fields.Many2one(
        "res.company", "Support Company", index=True, help="Empty: the policy applies to every support company."
    )
    # criteria: empty = any
    category_ids = fields.Many2many("terasoft.ticket.category", string="Categories", help="Empty: any category.")
    priority = fields.Selection([("0", "Not urgent"), ("1", "Medium"), ("2", "Urgent")], help="Empty: any priority.")
    importance = fields.Selection(
        [("non_blocking", "Non-blocking"), ("blocking", "Blocking")], help="Empty: any importance."
    )
    ticket_type = fields.Selection(
        [("clarification", "Clarification"), ("defect", "Defect"), ("request", "Request")],
        "Ticket Type",
        help="Empty: any type.",
    )
    partner_ids = fields.Many2many(
        "res.partner",
        string="Customer Companies",
        domain=[("is_company", "=", True)],
        help="Empty: any customer. E.g. the customers with a premium contract.",
    )
    # targets, in working hours of the support calendar
    first_response_from_settings = fields.Boolean(
        "Take-in-charge Target from the Settings",
        help="Use the take-in-charge targets of Settings > Assistenza (all, urgent, blocking tickets) "
        "instead of the hours below.",
    )
    first_response_hours = fields.Float(
        "Take-in-charge Target", default=8.0, help="Working hours within which a new ticket is taken in charge."
    )
    resolution_hours = fields.Float(
        "Resolution Target",
        help="Working hours within which the ticket is resolved, not counting the time spent in the "
        "pausing states. 0: no resolution target.",
    )
    at_risk_hours = fields.Float(
        "At Risk When Less Than",
        default=1.0,
        help="Working hours left before the deadline from which a target is at risk.",
    )
    pause_waiting_customer = fields.Boolean("Pause While Waiting for the Customer", default=True)
    pause_planned = fields.Boolean("Pause While Planned", default=True)
    pause_waiting_development = fields.Boolean("Pause While Waiting for Development", default=True)
    pause_blocked = fields.Boolean("Pause While Blocked", help="Administrative block of the customer.")
    specificity = fields.Integer(
        compute="_compute_specificity", help="Number of criteria set: the most specific matching policy wins."
    )

    _hours_positive = models.Constraint(
        "CHECK(first_response_hours >= 0 AND resolution_hours >= 0 AND at_risk_hours >= 0)",
        "SLA targets cannot be negative.",
    )

    @api.depends("category_ids", "priority", "importance", "ticket_type", "partner_ids")
    def _compute_specificity(self):
        for policy in self:
            policy.specificity = sum(
                bool(value)
                for value in (
                    policy.category_ids,
                    policy.priority,
                    policy.importance,
                    policy.ticket_type,
                    policy.partner_ids,
                )
            )

    def _pause_states(self):
        """The states in which this policy stops the resolution clock."""
        self.ensure_one()
        return {state for state in PAUSABLE_STATES if self[f"pause_{state}"]}

    def _sla_policy_matches(self, ticket):
        self.ensure_one()
        return (
            (not self.company_id or self.company_id == ticket.company_id)
            and (not self.category_ids or ticket.category_id in self.category_ids)
            and (not self.priority or self.priority == ticket.priority)
            and (not self.importance or self.importance == ticket.importance)
            and (not self.ticket_type or self.ticket_type == ticket.ticket_type)
            and (not self.partner_ids or ticket.commercial_partner_id in self.partner_ids)
        )

    @api.model
    def _sla_policy_for(self, tickets):
        """{ticket: the policy that applies to it (possibly empty)}, one query for all."""
        if not tickets:
            return {}
        # sudo: which policy applies is a fact of the ticket, whoever creates or reads it
        policies = self.sudo().search([], order="sequence, id")
        ranked = sorted(policies, key=lambda policy: -policy.specificity)  # stable: sequence, id kept
        return {
            ticket: next((p for p in ranked if p._sla_policy_matches(ticket)), policies.browse()) for ticket in tickets
        }

    def _first_response_target(self, ticket):
        """(hours, at-risk threshold) of the take-in-charge target for ``ticket``: the company
        settings for the default policy (or when no policy applies), else the policy's hours."""
        company = ticket.company_id or self.env.company
        if not self or self.first_response_from_settings or self.first_response_hours <= 0:
            hours = company._ticket_sla_hours(ticket.priority, ticket.importance)
        else:
            hours = self.first_response_hours
        return hours, (self.at_risk_hours if self else 1.0)
