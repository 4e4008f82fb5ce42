import json

from odoo import http
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal

from .idempotency import FORM_KEY, remember, replay_response
from .portal import PORTAL_LANGS


class AccountPortal(CustomerPortal):
    """/my/account ("Mie preferenze") and /my/security for the contacts of a customer company."""

    @staticmethod
    def _is_company_contact(partner):
        return bool(partner.parent_id and partner.commercial_partner_id.is_company)

    def _portal_lang_choices(self):
        """[(code, name)] of the portal's languages that are active, in PORTAL_LANGS order."""
        installed = dict(request.env["res.lang"].get_installed())
        # each language in its own words, as on the login page's buttons
        names = {"it_IT": "Italiano", "en_US": "English"}
        return [(code, names.get(code, installed[code])) for code in PORTAL_LANGS if code in installed]

    def _prepare_my_account_rendering_values(self, *args, **kwargs):
        values = super()._prepare_my_account_rendering_values(*args, **kwargs)
        # page_name: Odoo's layout values (page_name 'home') override the details' own, which
        # hides the breadcrumbs of the page
        values.update(page_name="my_details", portal_langs=self._portal_lang_choices(), user_lang=request.env.user.lang)
        return values

    def _create_or_update_address(self, partner_sudo, *args, **form_data):
        """A company's contact may not rename the company: Odoo's form would write the typed
        ``company_name`` on the commercial partner. The language of the preferences page
        becomes the user's language."""
        if partner_sudo and self._is_company_contact(partner_sudo):
            form_data.pop("company_name", None)
        lang = form_data.pop("lang", None)
        partner_sudo, feedback = super()._create_or_update_address(partner_sudo, *args, **form_data)
        user = request.env.user
        if (
            "redirectUrl" in feedback
            and lang in dict(self._portal_lang_choices())
            and partner_sudo == user.partner_id
            and user.lang != lang
        ):
            user.sudo().lang = lang  # env.user is sudo'ed already; explicit: a user writes its own lang
            request.session.context = dict(request.session.context, lang=lang)
        return partner_sudo, feedback

    @http.route()
    def portal_address_submit(self, partner_id=None, **form_data):
        # Odoo's address form may create a contact (no partner_id): replay-safe with the key
        # the form carries (see terasoft_idempotency_templates.xml)
        key = form_data.pop(FORM_KEY, None)
        replay = replay_response(key)
        if replay:
            return replay
        response = super().portal_address_submit(partner_id=partner_id, **form_data)
        # Odoo's answer: its JSON feedback, as a str or already loaded in a Response by the route
        body = response if isinstance(response, str) else response.get_data(as_text=True)
        try:
            feedback = json.loads(body)
        except ValueError:
            feedback = {}
        if isinstance(feedback, dict) and feedback.get("redirectUrl"):
            remember(key, json=feedback)
        lang = form_data.get("lang")
        if lang and lang == request.env.user.lang:
            # frontend pages follow the frontend_lang cookie before the user's preference (set
            # after the one of http_routing's pre-dispatch, which it replaces)
            request.future_response.set_cookie("frontend_lang", lang)
        return response

    @http.route()
    def deactivate_account(self, validation, password, **post):
        """Company contacts are closed by the support staff (see the security page)."""
        if self._is_company_contact(request.env.user.partner_id):
            return request.redirect("/my/security")
        return super().deactivate_account(validation, password, **post)
