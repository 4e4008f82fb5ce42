import logging
import re
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tools import email_normalize

from .res_partner_portal_access import parse_ip_allowlist

_logger = logging.getLogger(__name__)

# Fields a visitor may fill on the public form; everything else is set by the model.
PORTAL_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "company_name",
    "vat",
    "department",
    "function",
    "phone",
    "mobile",
    "ip_addresses",
)
RATE_LIMIT_PARAM = "terasoft_portal.access_request_rate_limit"
DEFAULT_RATE_LIMIT = 3  # requests per IP address and hour


class TerasoftAccessRequest(models.Model):
    _name = "terasoft.access.request"
    _description = "Portal Access Request"
    _inherit = ["mail.thread"]
    _order = "create_date desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    first_name = fields.Char(required=True)
    last_name = fields.Char(required=True)
    email = fields.Char(required=True, tracking=True)
    company_name = fields.Char("Company", required=True)
    vat = fields.Char("VAT Number")
    department = fields.Char("Office")
    function = fields.Char("Role")
    phone = fields.Char("Direct Phone")
    mobile = fields.Char()
    ip_addresses = fields.Text(
        "IP Addresses",
        help="Addresses or ranges the contact will connect from; they become the contact's IP allow-list.",
    )
    request_ip = fields.Char("Sent From", readonly=True, index=True, help="Address the request was sent from.")
    lang = fields.Char("Language", readonly=True)
    state = fields.Selection(
        [("new", "To Review"), ("approved", "Approved"), ("rejected", "Rejected")],
        required=True,
        default="new",
        tracking=True,
        index=True,
    )
    company_partner_id = fields.Many2one(
        "res.partner",
        "Customer Company",
        domain=[("is_company", "=", True)],
        tracking=True,
        help="Matched by VAT number or name when left empty; created at approval when none matches.",
    )
    partner_id = fields.Many2one("res.partner", "Contact", readonly=True, tracking=True)
    user_id = fields.Many2one("res.users", "Portal User", readonly=True)
    reject_reason = fields.Text("Reason for Rejection")
    reviewed_by_id = fields.Many2one("res.users", readonly=True)

    @api.depends("first_name", "last_name", "company_name")
    def _compute_name(self):
        for access_request in self:
            person = " ".join(p for p in (access_request.first_name, access_request.last_name) if p)
            access_request.name = f"{person} ({access_request.company_name})" if access_request.company_name else person

    @api.constrains("email")
    def _check_email(self):
        for access_request in self:
            if not email_normalize(access_request.email):
                raise ValidationError(self.env._("%(email)s is not a valid email address.", email=access_request.email))

    @api.constrains("ip_addresses")
    def _check_ip_addresses(self):
        for access_request in self:
            try:
                parse_ip_allowlist(access_request.ip_addresses)
            except ValueError as error:
                raise ValidationError(
                    self.env._(
                        "%(entry)s is not a valid IP address, CIDR range or address range.",
                        entry=error.args[0],
                    )
                ) from None

    # ------------------------------------------------------------------ public form
    @api.model
    def _portal_rate_limited(self, address):
        """Whether ``address`` sent as many requests in the last hour as the setting allows."""
        limit = int(self.env["ir.config_parameter"].sudo().get_param(RATE_LIMIT_PARAM, DEFAULT_RATE_LIMIT) or 0)
        if limit <= 0:
            return False
        since = fields.Datetime.now() - timedelta(hours=1)
        count = self.sudo().search_count([("request_ip", "=", address), ("create_date", ">=", since)])
        return count >= limit

    @api.model
    def _portal_create(self, values, address):
        """Create a request from the public form's ``values`` sent from ``address``.

        Only the form's fields are taken. A second pending request for the same email is not
        created (the visitor sees the same answer either way: nothing tells whether an account
        or a request exists). Call with sudo: visitors have no rights on this model.
        Returns the request (possibly an existing one).
        """
        vals = {key: (values.get(key) or "").strip()[:500] for key in PORTAL_FIELDS}
        vals["email"] = email_normalize(vals["email"]) or vals["email"]
        pending = self.search([("email", "=ilike", vals["email"]), ("state", "=", "new")], limit=1)
        if pending:
            pending.message_post(
                body=self.env._("The visitor sent the request again from %(address)s.", address=address)
            )
            return pending
        vals.update(request_ip=address, lang=self.env.lang)
        access_request = self.create(vals)
        _logger.info("Portal access request %s from %s", access_request.id, address)
        return access_request

    # ------------------------------------------------------------------ staff actions
    def action_approve(self):
        """Grant portal access in one step: match or create the company and the contact, create
        the portal user and send Odoo's invitation email (login + link to set the password)."""
        for access_request in self:
            if access_request.state != "new":
                raise UserError(self.env._("Request %(name)s was already reviewed.", name=access_request.name))
            company = access_request.company_partner_id or access_request._find_or_create_company()
            contact = access_request._find_or_create_contact(company)
            user = access_request._grant_portal_access(contact)
            access_request.write(
                {
                    "state": "approved",
                    "company_partner_id": company.id,
                    "partner_id": contact.id,
                    "user_id": user.id,
                    "reviewed_by_id": self.env.uid,
                }
            )
            access_request.message_post(body=self.env._("Approved: portal user %(login)s invited.", login=user.login))
        return True

    def action_reject(self):
        """Reject the requests and tell the visitors politely by email."""
        template = self.env.ref("terasoft_portal.mail_template_access_request_rejected")
        for access_request in self:
            if access_request.state != "new":
                raise UserError(self.env._("Request %(name)s was already reviewed.", name=access_request.name))
            access_request.write({"state": "rejected", "reviewed_by_id": self.env.uid})
            template.send_mail(access_request.id, email_layout_xmlid="mail.mail_notification_light")
            access_request.message_post(body=self.env._("Rejected: the visitor was told by email."))
        return True

    def action_reset(self):
        self.filtered(lambda r: r.state == "rejected").write({"state": "new", "reviewed_by_id": False})
        return True

    def _normalized_vat(self):
        return re.sub(r"[^A-Z0-9]", "", (self.vat or "").upper()).removeprefix("IT")

    def _find_or_create_company(self):
        """The customer company of this request: by VAT number, else by exact name, else new."""
        self.ensure_one()
        Partner = self.env["res.partner"].sudo()  # staff approving may lack partner creation rights
        if self._normalized_vat():
            for company in Partner.search([("is_company", "=", True), ("vat", "!=", False)]):
                if re.sub(r"[^A-Z0-9]", "", company.vat.upper()).removeprefix("IT") == self._normalized_vat():
                    return company
        company = Partner.search([("is_company", "=", True), ("name", "=ilike", self.company_name)], limit=1)
        return company or Partner.create(
            {
                "name": self.company_name,
                "is_company": True,
                "vat": self.vat or False,
                "customer_type": "customer",
            }
        )

    def _find_or_create_contact(self, company):
        """The contact of this request under ``company``: matched by email, else created.
        Its IP allow-list is set from the request's addresses."""
        self.ensure_one()
        Partner = self.env["res.partner"].sudo()  # see _find_or_create_company
        email = email_normalize(self.email)
        contact = Partner.search([("parent_id", "=", company.id), ("email_normalized", "=", email)], limit=1)
        vals = {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "department": self.department or False,
            "function": self.function or False,
            "phone": self.phone or False,
            "mobile": self.mobile or False,
        }
        if self.ip_addresses:
            vals["ip_allowlist"] = self.ip_addresses
        if contact:
            contact.write({key: value for key, value in vals.items() if value and not contact[key]})
            return contact
        return Partner.create(
            dict(
                vals,
                name=Partner._compose_name(self.first_name, self.last_name),
                email=email,
                parent_id=company.id,
                lang=self.lang or False,
            )
        )

    def _grant_portal_access(self, contact):
        """Create the portal user of ``contact`` and send the invitation, through Odoo's portal
        wizard (same checks and email as the "Grant portal access" action)."""
        self.ensure_one()
        if contact.user_ids.filtered("active"):
            raise UserError(self.env._("%(contact)s already has a user.", contact=contact.display_name))
        # sudo: granting access is what approving means; only support users reach this method
        # (ACL on the request), while the wizard needs partner-manager rights.
        wizard = (
            self.env["portal.wizard"]
            .sudo()
            .with_context(active_ids=[])
            .create({"partner_ids": [Command.set(contact.ids)]})
        )
        wizard_user = wizard.user_ids.filtered(lambda u: u.partner_id == contact)
        wizard_user.action_grant_access()
        return wizard_user.user_id
