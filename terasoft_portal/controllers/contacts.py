from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request
from odoo.tools import format_date

from odoo.addons.portal.controllers.portal import CustomerPortal

# The manual's blocks, as (block title, field names). Internal sales data (owner, source,
# referred by, cancellation, insolvency, automatic-email block) stays in the backend.
COMPANY_BLOCKS = [
    ("company", ["name", "ref", "vat", "fiscal_code", "stock_code", "phone", "phone_other", "fax", "email",
                 "email_other", "website", "parent_id", "industry_id", "partnership_id", "customer_type",
                 "user_id", "project_manager_id", "market", "privacy_consent", "newsletter",
                 "min_onsite_visits", "last_onsite_visit_date", "support_start_date", "support_end_date"]),
    ("custom", ["managed_company_count", "employee_count", "tax_return_count", "payslip_count",
                "simplified_accounting_count", "ordinary_accounting_count", "portal_user_count", "ccnl",
                "custom_other", "law_136_2010", "revenue", "sdi_enabled", "agent_id"]),
    ("address", ["street", "street2", "zip", "city", "state_id", "country_id"]),
]
CONTACT_BLOCKS = [
    ("contact", ["first_name", "last_name", "department", "function", "company_relation",
                 "assistant_name", "email", "phone", "phone_other", "mobile", "fax", "customer_type",
                 "user_id", "mailing_list"]),
    ("custom", ["ticket_scope", "lang"]),
    ("portal", ["support_start_date", "support_end_date"]),
    ("address", ["street", "street2", "zip", "city", "state_id", "country_id"]),
]


class ContactsPortal(CustomerPortal):

    def _contacts_domain(self):
        company = request.env.user.partner_id.commercial_partner_id
        return [("commercial_partner_id", "=", company.id), ("id", "!=", company.id),
                ("type", "=", "contact"), ("is_company", "=", False)]

    def _block_titles(self):
        _ = request.env._
        return {"company": _("Company Information"), "custom": _("Custom Information"),
                "contact": _("Contact Information"), "portal": _("Customer Portal Information"),
                "address": _("Address Information")}

    def _partner_blocks(self, partner_sudo, blocks):
        """[(title, [(label, value)])] of ``partner_sudo`` for read-only display."""
        env = request.env
        titles = self._block_titles()
        # The manual's wording where Odoo's generic label differs.
        labels = {"user_id": env._("Assigned to"), "function": env._("Role"), "parent_id": env._("Member of")}
        result = []
        for key, names in blocks:
            rows = []
            for name in names:
                field = partner_sudo._fields[name]
                value = partner_sudo[name]
                if field.type == "boolean":
                    display = env._("Yes") if value else env._("No")
                elif field.type == "selection":
                    display = dict(field._description_selection(env)).get(value, "")
                elif field.type == "many2one":
                    display = value.display_name or ""
                elif field.type == "date":
                    display = format_date(env, value) if value else ""
                elif field.type in ("integer", "float"):
                    display = value if value else ""
                else:
                    display = value or ""
                rows.append((labels.get(name) or field._description_string(env), display))
            if key == "portal":
                has_user = bool(partner_sudo.with_context(active_test=True).user_ids)
                rows.insert(0, (env._("Portal User"), env._("Yes") if has_user else env._("No")))
            result.append((titles[key], rows))
        return result

    @http.route("/my/contacts", type="http", auth="user", website=True)
    def portal_my_contacts(self, **kw):
        contacts = request.env["res.partner"].search(self._contacts_domain(), order="name")
        values = self._prepare_portal_layout_values()
        values.update(page_name="contacts", contacts=contacts.sudo(),  # sudo after the search: display only
                      company=request.env.user.partner_id.commercial_partner_id)
        return request.render("terasoft_portal.portal_my_contacts", values)

    @http.route("/my/contacts/<int:partner_id>", type="http", auth="user", website=True)
    def portal_my_contact(self, partner_id, change_requested=None, **kw):
        contact = request.env["res.partner"].search(self._contacts_domain() + [("id", "=", partner_id)])
        if not contact:
            raise NotFound()
        # sudo once the user's own rights found the contact: labels of related staff users
        # (Assigned to) are not readable by portal users.
        contact_sudo = contact.sudo()
        values = self._prepare_portal_layout_values()
        values.update(page_name="contact", partner=contact_sudo, change_requested=change_requested,
                      blocks=self._partner_blocks(contact_sudo, CONTACT_BLOCKS))
        return request.render("terasoft_portal.portal_my_contact", values)

    @http.route("/my/company", type="http", auth="user", website=True)
    def portal_my_company(self, change_requested=None, **kw):
        company = request.env.user.partner_id.commercial_partner_id
        company.check_access("read")
        company_sudo = company.sudo()  # see portal_my_contact
        values = self._prepare_portal_layout_values()
        values.update(page_name="company", partner=company_sudo, change_requested=change_requested,
                      blocks=self._partner_blocks(company_sudo, COMPANY_BLOCKS))
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
            # sudo: customers cannot write partners or create activities; this is the request.
            partner.sudo()._portal_request_change(message.strip()[:5000], request.env.user.partner_id)
            return request.redirect(f"{back}?change_requested=1")
        return request.redirect(back)
