from odoo import api, fields, models

CUSTOMER_TYPES = [
    ("customer", "Customer"),
    ("partner", "Partner"),
    ("prospect", "Prospect"),
    ("reseller", "Reseller"),
    ("supplier", "Supplier"),
    ("competitor", "Competitor"),
    ("other", "Other"),
]


class ResPartner(models.Model):
    _inherit = "res.partner"

    # ------------------------------------------------------------------ company: Informazioni Azienda
    stock_code = fields.Char()
    fiscal_code = fields.Char(size=16)
    phone_other = fields.Char("Other Phone")
    fax = fields.Char()
    email_other = fields.Char("Other Email")
    partnership_id = fields.Many2one("res.partner", "In Partnership With", domain=[("is_company", "=", True)])
    customer_type = fields.Selection(CUSTOMER_TYPES, "Type")
    owner_id = fields.Many2one("res.users", domain=[("share", "=", False)])
    block_auto_emails = fields.Boolean(
        "Block Automatic Emails",
        help="No automatic email (acknowledgements, ticket updates, reminders) is sent to this company's contacts.",
    )
    market = fields.Char()
    cpz = fields.Char("CPZ", help="The CPZ code of the company in the previous customer portal.")
    project_manager_id = fields.Many2one("res.users", domain=[("share", "=", False)])
    privacy_consent = fields.Boolean("Privacy Authorization")
    source = fields.Char()
    referred_by_id = fields.Many2one("res.partner")
    cancellation_reason = fields.Char()
    cancellation_total = fields.Boolean("Total Cancellation")
    min_onsite_visits = fields.Integer("Minimum On-site Visits per Year")
    last_onsite_visit_date = fields.Date("Last On-site Visit")
    newsletter = fields.Boolean("Receives Newsletter")
    insolvent = fields.Boolean(
        tracking=True,
        help="Administrative block: the company's tickets cannot be worked on while it is set.",
    )

    # ------------------------------------------------------------------ company: Informazioni Personalizzate
    managed_company_count = fields.Integer("Companies Managed")
    employee_count = fields.Integer("Employees")
    tax_return_count = fields.Integer("Tax Returns")
    payslip_count = fields.Integer("Payslips")
    simplified_accounting_count = fields.Integer("Simplified Accounting")
    ordinary_accounting_count = fields.Integer("Ordinary Accounting")
    ccnl = fields.Char("CCNL", help="National collective labour agreements applied.")
    custom_other = fields.Char("Other")
    portal_user_count = fields.Integer("Number of Users")
    law_136_2010 = fields.Boolean("L.136/2010", help="Subject to the traceability of payments (Law 136/2010).")
    interest = fields.Char()
    revenue = fields.Float()
    sdi_enabled = fields.Boolean("SDI Enabled", help="Electronic invoicing through the Italian SDI.")
    agent_id = fields.Many2one("res.users", domain=[("share", "=", False)])

    # ------------------------------------------------------------------ contact
    first_name = fields.Char()
    last_name = fields.Char()
    department = fields.Char()
    company_relation = fields.Selection(
        [
            ("employee", "Employee"),
            ("owner", "Owner"),
            ("consultant", "Consultant"),
            ("accountant", "Accountant"),
            ("other", "Other"),
        ],
        "Relationship with the Company",
    )
    assistant_name = fields.Char("Assistant")
    mobile = fields.Char()
    mailing_list = fields.Boolean()
    support_start_date = fields.Date()
    support_end_date = fields.Date()
    # The manual's "Box" of the address, and its second ("Altra") address of a contact.
    po_box = fields.Char("PO Box")
    other_street = fields.Char()
    other_po_box = fields.Char("Other PO Box")
    other_city = fields.Char()
    other_state_id = fields.Many2one(
        "res.country.state", "Other Province", ondelete="restrict", domain="[('country_id', '=?', other_country_id)]"
    )
    other_zip = fields.Char("Other ZIP")
    other_country_id = fields.Many2one("res.country", ondelete="restrict")

    # ------------------------------------------------------------------ portal ticket visibility
    ticket_scope = fields.Selection(
        [
            ("company", "All tickets of the company"),
            ("areas", "Own tickets and the company's tickets in chosen categories"),
            ("own", "Own tickets only"),
        ],
        "Ticket Visibility",
        default="company",
        required=True,
        help="Which of the company's tickets this contact sees in the portal.",
    )
    ticket_scope_category_ids = fields.Many2many(
        "terasoft.ticket.category",
        string="Visible Categories",
        help="With 'chosen categories': the company's tickets in these categories (and their "
        "sub-categories) are visible.",
    )
    ticket_ids = fields.One2many("terasoft.ticket", "partner_id", "Tickets")
    ticket_count = fields.Integer(compute="_compute_ticket_count")

    def _compute_ticket_count(self):
        counts = dict(
            self.env["terasoft.ticket"]._read_group(
                [("commercial_partner_id", "in", self.commercial_partner_id.ids)],
                ["commercial_partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.ticket_count = counts.get(partner.commercial_partner_id, 0)

    @api.onchange("first_name", "last_name")
    def _onchange_first_last_name(self):
        if self.first_name or self.last_name:
            self.name = self._compose_name(self.first_name, self.last_name)

    @api.model
    def _compose_name(self, first_name, last_name):
        return " ".join(part for part in (first_name, last_name) if part)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("name") and (vals.get("first_name") or vals.get("last_name")):
                vals["name"] = self._compose_name(vals.get("first_name"), vals.get("last_name"))
        partners = super().create(vals_list)
        partners._assign_customer_ref()
        return partners

    def _is_ref_customer(self):
        """Whether this partner is numbered (``ref`` ACC…/CON…): a customer company
        (``customer_type`` 'customer'), or a contact of one."""
        self.ensure_one()
        return self.type == "contact" and (
            self.customer_type == "customer" if self.is_company else self.parent_id.customer_type == "customer"
        )

    def _assign_customer_ref(self):
        """Number the customers of ``self`` that have no ``ref`` yet, from the sequences
        ``res.partner.company`` (ACC…) and ``res.partner.person`` (CON…).

        Only customers are numbered (issue 12): numbering every partner cost 2–3 queries on
        every contact any module created. Partners without a parent cost no query here (their
        fields are in the cache after create); contacts with a parent cost one read of the
        parents' type, for all of ``self`` at once; only the customers numbered cost the
        sequence's queries."""
        to_number = self.filtered(lambda partner: not partner.ref and partner._is_ref_customer())
        if not to_number:
            return
        sequence = self.env["ir.sequence"].sudo()  # references are assigned whoever creates the partner
        for partner in to_number:
            code = "res.partner.company" if partner.is_company else "res.partner.person"
            partner.ref = sequence.next_by_code(code)

    def write(self, vals):
        # a company becoming a customer numbers itself and its contacts; a contact moved under one, itself
        numbered = vals.get("customer_type") == "customer" or bool(vals.get("parent_id"))
        if "insolvent" in vals:
            changed = self.filtered(lambda p: p.is_company and p.insolvent != bool(vals["insolvent"]))
        res = super().write(vals)
        if numbered:
            (self | self.filtered("is_company").child_ids)._assign_customer_ref()
        if "insolvent" in vals and changed:
            # the administrative block follows the flag (see terasoft.ticket._sync_insolvency)
            self.env["terasoft.ticket"]._sync_insolvency(changed)
        if {"ticket_scope", "ticket_scope_category_ids"} & vals.keys():
            # Record rules read the scope of the current user; ir.rule caches domains per user.
            self.env.registry.clear_cache()
        return res

    def _commercial_fields(self):
        return super()._commercial_fields() + ["insolvent", "block_auto_emails"]

    def action_view_tickets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("terasoft_portal.action_ticket")
        action["domain"] = [("commercial_partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.id}
        return action
