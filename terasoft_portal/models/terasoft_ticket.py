from odoo import api, fields, models

TICKET_STATES = [
    ("new", "Open"),
    ("waiting_support", "Waiting for Support"),
    ("waiting_customer", "Waiting for Customer"),
    ("in_progress", "In Progress"),
    ("planned", "Planned"),
    ("waiting_development", "Waiting for Development"),
    ("resolved", "Resolved"),
    ("closed", "Closed"),
    ("blocked", "Blocked"),
    ("discarded", "Discarded"),
]
# States in which the ticket is finished for the customer ("Ticket chiusi" in the portal).
DONE_STATES = ("closed", "discarded")


class TerasoftTicket(models.Model):
    _name = "terasoft.ticket"
    _description = "Support Ticket"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_names_search = ["number", "name"]
    _mail_post_access = "read"  # portal users comment through the portal on tickets they can read

    number = fields.Char(
        "Ticket Nr", readonly=True, copy=False, index=True, default=lambda self: self.env._("New"),
    )
    name = fields.Char("Title", required=True, tracking=True)
    description = fields.Html(sanitize=True, sanitize_style=True)
    ticket_type = fields.Selection(
        [("clarification", "Clarification"), ("defect", "Defect"), ("request", "Request")],
        "Type", required=True, default="clarification", tracking=True,
    )
    priority = fields.Selection(
        [("0", "Not urgent"), ("1", "Medium"), ("2", "Urgent")],
        required=True, default="0", tracking=True,
    )
    importance = fields.Selection(
        [("non_blocking", "Non-blocking"), ("blocking", "Blocking")],
        required=True, default="non_blocking", tracking=True,
    )
    category_id = fields.Many2one(
        "terasoft.ticket.category", "Category", required=True, index=True, tracking=True,
        ondelete="restrict",
    )
    partner_id = fields.Many2one(
        "res.partner", "Contact", index=True, tracking=True,
        help="The customer contact who opened the ticket.",
    )
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", string="Customer Company", store=True, index=True,
    )
    partner_email = fields.Char(related="partner_id.email", string="Contact Email")
    user_id = fields.Many2one(
        "res.users", "Assigned to", index=True, tracking=True, domain=[("share", "=", False)],
    )
    company_id = fields.Many2one(
        "res.company", "Support Company", required=True, index=True,
        default=lambda self: self.env.company,
    )
    channel = fields.Selection(
        [("portal", "Portal"), ("email", "Email"), ("phone", "Phone"), ("onsite", "On site")],
        "Support Channel", required=True, default="phone", tracking=True,
    )
    product_id = fields.Many2one("terasoft.product", "Product", index=True, tracking=True)
    product_version = fields.Char("Product Version")
    state = fields.Selection(
        TICKET_STATES, "Status", required=True, default="new", index=True, tracking=True,
        group_expand="_read_group_expand_states", copy=False,
    )
    is_done = fields.Boolean(
        "Closed for the customer", compute="_compute_is_done", store=True, index=True,
        export_string_translation=False,
    )
    solution = fields.Html(sanitize=True, tracking=False)
    planned_date = fields.Datetime("Planned Date", tracking=True, copy=False)
    date_taken = fields.Datetime("Taken in Charge On", readonly=True, copy=False)
    date_resolved = fields.Datetime("Resolved On", readonly=True, copy=False)
    date_closed = fields.Datetime("Closed On", readonly=True, copy=False)
    sla_deadline = fields.Datetime("Take-in-charge Deadline", readonly=True, copy=False, index=True)
    insolvent = fields.Boolean(related="commercial_partner_id.insolvent", string="Insolvency Status")

    _number_uniq = models.Constraint("UNIQUE(number)", "The ticket number must be unique.")
    # The portal lists a company's tickets newest first, split by open/closed.
    _portal_list_idx = models.Index("(commercial_partner_id, is_done, id DESC)")

    @api.depends("state")
    def _compute_is_done(self):
        for ticket in self:
            ticket.is_done = ticket.state in DONE_STATES

    @api.depends("number", "name")
    def _compute_display_name(self):
        for ticket in self:
            ticket.display_name = f"{ticket.number} - {ticket.name}" if ticket.number else ticket.name

    def _compute_access_url(self):
        super()._compute_access_url()
        for ticket in self:
            ticket.access_url = f"/my/tickets/{ticket.id}"

    @api.model
    def _read_group_expand_states(self, states, domain):
        """Show every state as a kanban column, in workflow order, even when empty."""
        return [key for key, _label in TICKET_STATES]

    @api.model_create_multi
    def create(self, vals_list):
        sequence = self.env["ir.sequence"].sudo()  # numbering is not a right of the creator
        for vals in vals_list:
            vals["number"] = sequence.next_by_code("terasoft.ticket")
            if not vals.get("user_id") and vals.get("category_id"):
                category = self.env["terasoft.ticket.category"].browse(vals["category_id"])
                vals["user_id"] = category.user_id.id
        return super().create(vals_list)

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        return [dict(vals, name=self.env._("%(name)s (copy)", name=ticket.name))
                for ticket, vals in zip(self, vals_list)]

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.number
