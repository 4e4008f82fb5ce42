from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request
from odoo.tools import format_date, format_datetime, formatLang

from odoo.addons.portal.controllers.portal import CustomerPortal

from .idempotency import FORM_KEY, remember, replay_response

# The manual's blocks in its reading order (left to right, then down), as (block, field names).
# A name may be a pseudo-field resolved by ContactsPortal._partner_value (company_name,
# portal_user, billing_address, shipping_address).
COMPANY_BLOCKS = [
    (
        "company",
        [
            "name",
            "stock_code",
            "vat",
            "ref",
            "fiscal_code",
            "phone_other",
            "phone",
            "fax",
            "website",
            "email_other",
            "email",
            "parent_id",
            "industry_id",
            "partnership_id",
            "customer_type",
            "owner_id",
            "user_id",
            "block_auto_emails",
            "create_date",
            "write_date",
            "cpz",
            "market",
            "project_manager_id",
            "privacy_consent",
            "source",
            "referred_by_id",
            "cancellation_reason",
            "cancellation_total",
            "min_onsite_visits",
            "last_onsite_visit_date",
            "newsletter",
            "support_start_date",
            "support_end_date",
        ],
    ),
    (
        "custom",
        [
            "managed_company_count",
            "employee_count",
            "tax_return_count",
            "payslip_count",
            "simplified_accounting_count",
            "ccnl",
            "ordinary_accounting_count",
            "custom_other",
            "portal_user_count",
            "law_136_2010",
            "interest",
            "revenue",
            "sdi_enabled",
            "agent_id",
        ],
    ),
    ("address", ["billing_address", "shipping_address"]),
]
CONTACT_BLOCKS = [
    (
        "contact",
        [
            "first_name",
            "ref",
            "last_name",
            "email",
            "company_name",
            "phone",
            "department",
            "function",
            "company_relation",
            "assistant_name",
            "phone_other",
            "mobile",
            "fax",
            "user_id",
        ],
    ),
    ("custom", ["mailing_list", "customer_type", "ticket_scope", "lang"]),
    ("portal", ["portal_user", "support_start_date", "support_end_date"]),
    (
        "address",
        [
            "street",
            "other_street",
            "po_box",
            "other_po_box",
            "city",
            "other_city",
            "state_id",
            "other_state_id",
            "zip",
            "other_zip",
            "country_id",
            "other_country_id",
        ],
    ),
]


class ContactsPortal(CustomerPortal):
    def _contacts_domain(self):
        company = request.env.user.partner_id.commercial_partner_id
        return [
            ("commercial_partner_id", "=", company.id),
            ("id", "!=", company.id),
            ("type", "=", "contact"),
            ("is_company", "=", False),
        ]

    def _block_titles(self):
        return {
            "company": request.env._("Company Information"),
            "custom": request.env._("Custom Information"),
            "contact": request.env._("Contact Information"),
            "portal": request.env._("Customer Portal Information"),
            "address": request.env._("Address Information"),
        }

    def _partner_labels(self, partner_sudo):
        """The manual's wording where the field's own label differs (Odoo's labels of base
        fields are not this module's to translate, and the manual names some fields its way)."""
        labels = {
            "user_id": request.env._("Assigned to"),
            "function": request.env._("Role/Job Title"),
            "parent_id": request.env._("Member of"),
            "company_name": request.env._("Company Name"),
            "portal_user": request.env._("Customer Portal User"),
            "billing_address": request.env._("Billing Address"),
            "shipping_address": request.env._("Shipping Address"),
            "email": request.env._("Email"),
            "lang": request.env._("Language"),
            "create_date": request.env._("Created on"),
            "write_date": request.env._("Modified on"),
            "owner_id": request.env._("Owner"),
        }
        if partner_sudo.is_company:
            labels.update(
                {
                    "name": request.env._("Company Name"),
                    "ref": request.env._("Company Number"),
                    "vat": request.env._("VAT Number"),
                    "phone": request.env._("Phone"),
                    "website": request.env._("Website"),
                    "industry_id": request.env._("Industry"),
                    "customer_type": request.env._("Company Type"),
                }
            )
        else:
            labels.update(
                {
                    "ref": request.env._("Contact ID"),
                    "phone": request.env._("Office Phone"),
                    "customer_type": request.env._("Contact Type"),
                    "street": request.env._("Street (Shipping)"),
                    "po_box": request.env._("PO Box (Shipping)"),
                    "city": request.env._("City (Shipping)"),
                    "state_id": request.env._("Province (Shipping)"),
                    "zip": request.env._("ZIP (Shipping)"),
                    "country_id": request.env._("Country (Shipping)"),
                }
            )
        return labels

    def _partner_value(self, partner_sudo, name):
        """Display text of ``name`` (a field or a pseudo-field of CONTACT/COMPANY_BLOCKS)."""
        env = request.env
        if name == "company_name":
            return partner_sudo.commercial_company_name or partner_sudo.parent_id.name or ""
        if name == "portal_user":
            has_user = bool(partner_sudo.with_context(active_test=True).user_ids)
            return env._("Yes") if has_user else env._("No")
        if name == "billing_address":
            return self._address_text(partner_sudo.address_get(["invoice"])["invoice"])
        if name == "shipping_address":
            delivery = partner_sudo.address_get(["delivery"])["delivery"]
            if delivery == partner_sudo.id:
                return env._("Same as the billing address")
            return self._address_text(delivery)
        if name == "street":
            return ", ".join(filter(None, [partner_sudo.street, partner_sudo.street2]))
        if name == "customer_type" and not partner_sudo.customer_type:
            partner_sudo = partner_sudo.commercial_partner_id  # a contact is of its company's type
        field = partner_sudo._fields[name]
        value = partner_sudo[name]
        if field.type == "boolean":
            return env._("Yes") if value else env._("No")
        if field.type == "selection":
            return dict(field._description_selection(env)).get(value, "")
        if field.type == "many2one":
            return value.display_name or ""
        if field.type == "date":
            return format_date(env, value) if value else ""
        if field.type == "datetime":
            return format_datetime(env, value, tz=env.user.tz) if value else ""
        if field.type == "integer":
            return formatLang(env, value, digits=0) if value else ""
        if field.type in ("float", "monetary"):
            return formatLang(env, value) if value else ""
        return value or ""

    def _address_text(self, partner_id):
        """Multi-line postal address of the partner ``partner_id`` (pre-line text)."""
        partner_sudo = request.env["res.partner"].sudo().browse(partner_id)
        lines = partner_sudo._display_address(without_company=True).splitlines()
        return "\n".join(line.strip() for line in lines if line.strip())

    def _partner_blocks(self, partner_sudo, blocks):
        """[(title, [(label, value)])] of ``partner_sudo`` for read-only display, in the
        manual's order (the page lays the pairs out two by two, as the manual does)."""
        env = request.env
        titles = self._block_titles()
        labels = self._partner_labels(partner_sudo)
        result = []
        for key, names in blocks:
            rows = []
            for name in names:
                label = labels.get(name) or partner_sudo._fields[name]._description_string(env)
                rows.append((label, self._partner_value(partner_sudo, name)))
            result.append((titles[key], rows))
        return result

    @http.route("/my/contacts", type="http", auth="user", website=True, readonly=True)
    def portal_my_contacts(self, **kw):
        contacts = request.env["res.partner"].search(self._contacts_domain(), order="name")
        values = self._prepare_portal_layout_values()
        values.update(
            page_name="contacts",
            contacts=contacts.sudo(),  # sudo after the search: display only
            company=request.env.user.partner_id.commercial_partner_id,
        )
        return request.render("terasoft_portal.portal_my_contacts", values)

    @http.route("/my/contacts/<int:partner_id>", type="http", auth="user", website=True, readonly=True)
    def portal_my_contact(self, partner_id, change_requested=None, **kw):
        contact = request.env["res.partner"].search(self._contacts_domain() + [("id", "=", partner_id)])
        if not contact:
            raise NotFound()
        # sudo once the user's own rights found the contact: labels of related staff users
        # (Assigned to) are not readable by portal users.
        contact_sudo = contact.sudo()
        values = self._prepare_portal_layout_values()
        values.update(
            page_name="contact",
            partner=contact_sudo,
            change_requested=change_requested,
            blocks=self._partner_blocks(contact_sudo, CONTACT_BLOCKS),
        )
        return request.render("terasoft_portal.portal_my_contact", values)

    @http.route("/my/company", type="http", auth="user", website=True, readonly=True)
    def portal_my_company(self, change_requested=None, **kw):
        company = request.env.user.partner_id.commercial_partner_id
        company.check_access("read")
        company_sudo = company.sudo()  # see portal_my_contact
        values = self._prepare_portal_layout_values()
        values.update(
            page_name="company",
            partner=company_sudo,
            change_requested=change_requested,
            blocks=self._partner_blocks(company_sudo, COMPANY_BLOCKS),
        )
        return request.render("terasoft_portal.portal_my_company", values)

    @http.route("/my/change_request", type="http", auth="user", methods=["POST"], website=True)
    def portal_change_request(self, partner_id=None, message=None, **kw):
        company = request.env.user.partner_id.commercial_partner_id
        pid = int(partner_id) if str(partner_id or "").isdigit() else 0
        Partner = request.env["res.partner"]
        partner = company if pid == company.id else Partner.search(self._contacts_domain() + [("id", "=", pid)])
        if not partner:
            raise NotFound()
        back = "/my/company" if partner == company else f"/my/contacts/{partner.id}"
        if message and message.strip():
            replay = replay_response(kw.get(FORM_KEY))
            if replay:
                return replay
            # sudo: customers cannot write partners or create activities; this is the request.
            partner.sudo()._portal_request_change(message.strip()[:5000], request.env.user.partner_id)
            remember(kw.get(FORM_KEY), url=f"{back}?change_requested=1")
            return request.redirect(f"{back}?change_requested=1")
        return request.redirect(back)
