"""SLA policies: which targets (take in charge, resolution) apply to a ticket.

Precedence: among the active policies of the ticket's support company (or of no company) whose
criteria all match the ticket (an empty criterion matches anything), the most specific one wins
(the one with the most non-empty criteria among category, priority, importance, ticket type
and customer company); between equally specific policies, the lowest sequence, then the oldest.
A policy of a category also covers its sub-categories. The default policy shipped with the
module has no criteria: it applies when nothing else does. A change of a criterion of a ticket
(category, priority, importance, type, customer, support company) re-applies this rule to its
targets not yet reached (see terasoft_ticket_sla.py).
"""

from odoo import api, fields, models, tools

# The states a policy may pause the resolution clock in (one boolean each, `pause_<state>`).
# `new` never pauses: the take-in-charge clock runs until someone takes the ticket in charge.
PAUSABLE_STATES = ("waiting_customer", "planned", "waiting_development", "blocked")
# The criteria that choose a policy: the ticket fields they read (see `_sla_policy_for`).
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
    category_ids = fields.Many2many(
        "terasoft.ticket.category",
        string="Categories",
        help="Empty: any category. A category covers its sub-categories.",
    )
    priority = fields.Selection([("0", "Not urgent"), ("1", "Medium"), ("2", "Urgent")], help="Empty: any priority.")
    importance = fields.Selection(
        [("non_blocking", "Non-blocking"), ("blocking", "Blocking")], help="Empty: any importance."
    )
    ticket_type = fields.Selection(
        [("clarification", "Clarification"), ("defect", "Defect"), ("request", "Request")],
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

    @api.model_create_multi
    def create(self, vals_list):
        policies = super().create(vals_list)
        self.env.registry.clear_cache()  # _sla_policy_table
        return policies

    def write(self, vals):
        result = super().write(vals)
        self.env.registry.clear_cache()  # _sla_policy_table
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()  # _sla_policy_table
        return result

    @api.model
    @tools.ormcache()
    def _sla_policy_table(self):
        """The active policies' criteria, most specific first, then by sequence: a tuple of
        (id, company id, category ids, priority, importance, type, customer ids). Cached: creating
        a ticket reads no policy criteria (the cache is cleared when a policy changes)."""
        # sudo: which policy applies is a fact of the ticket, whoever creates or reads it
        # pylint: disable-next=no-search-all  # every active policy: a few records, cached
        policies = self.sudo().with_context(active_test=True).search([], order="sequence, id")
        return tuple(
            (
                p.id,
                p.company_id.id,
                frozenset(p.category_ids.ids),
                p.priority,
                p.importance,
                p.ticket_type,
                frozenset(p.partner_ids.ids),
            )
            for p in sorted(policies, key=lambda policy: -policy.specificity)  # stable: sequence, id kept
        )

    @api.model
    def _sla_policy_for(self, tickets):
        """{ticket: the policy that applies to it (possibly empty)}, from the cached table."""
        if not tickets:
            return {}
        table = self._sla_policy_table()
        result = {}
        for ticket in tickets:
            company, partner = ticket.company_id.id, ticket.commercial_partner_id.id
            # a policy of a category covers its sub-categories
            category_path = {int(id_) for id_ in (ticket.category_id.parent_path or "").split("/") if id_}
            category_path.add(ticket.category_id.id)
            result[ticket] = self.browse(
                next(
                    (
                        policy_id
                        for policy_id, p_company, categories, priority, importance, ticket_type, partners in table
                        if (not p_company or p_company == company)
                        and (not categories or not categories.isdisjoint(category_path))
                        and (not priority or priority == ticket.priority)
                        and (not importance or importance == ticket.importance)
                        and (not ticket_type or ticket_type == ticket.ticket_type)
                        and (not partners or partner in partners)
                    ),
                    [],
                )
            )
        return result

    def _first_response_target(self, ticket):
        """(hours, at-risk threshold) of the take-in-charge target for ``ticket``: the company
        settings for the default policy (or when no policy applies), else the policy's hours."""
        company = ticket.company_id or self.env.company
        if not self or self.first_response_from_settings or self.first_response_hours <= 0:
            hours = company._ticket_sla_hours(ticket.priority, ticket.importance)
        else:
            hours = self.first_response_hours
        return hours, (self.at_risk_hours if self else 1.0)
