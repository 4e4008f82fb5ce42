"""Colleagues in CC of a ticket, from its portal page (see models/terasoft_ticket_cc.py)."""

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from .portal import TicketPortal


class TicketCcPortal(TicketPortal):
    def _prepare_ticket_page_values(self, ticket_sudo, access_token=None, **kwargs):
        values = super()._prepare_ticket_page_values(ticket_sudo, access_token=access_token, **kwargs)
        # the CC box is for the logged-in contacts of the customer company (not for a visitor
        # with the email's link, nor for staff looking at the portal page)
        may_cc = values["can_act"] and request.env.user.commercial_partner_id == ticket_sudo.commercial_partner_id
        values["may_cc"] = may_cc
        if may_cc and not ticket_sudo.is_done:
            values["cc_candidates"] = ticket_sudo._portal_cc_candidates()  # also reads the CC's names
        else:
            values["cc_candidates"] = request.env["res.partner"]
            if values["can_act"]:
                ticket_sudo.cc_partner_ids.fetch(["name", "email"])

        return values

    def _ticket_check_cc_access(self, ticket_id):
        """The sudo'ed ticket if the logged-in user may see it and belongs to its customer
        company, else 404."""
        ticket_sudo = self._ticket_check_user_access(ticket_id)
        if request.env.user.commercial_partner_id != ticket_sudo.commercial_partner_id:
            raise NotFound()
        return ticket_sudo

    @staticmethod
    def _posted_id(value):
        try:
            return int(value or 0)
        except (TypeError, ValueError):
            return 0

    @http.route("/my/tickets/<int:ticket_id>/cc/add", type="http", auth="user", methods=["POST"], website=True)
    def portal_ticket_cc_add(self, ticket_id, partner_id=None, **kw):
        ticket_sudo = self._ticket_check_cc_access(ticket_id)
        # only a contact of the list the server offers: another company's id is refused
        if not ticket_sudo._portal_add_cc(self._posted_id(partner_id)):
            raise NotFound()
        return request.redirect(f"{ticket_sudo.access_url}#cc")

    @http.route("/my/tickets/<int:ticket_id>/cc/remove", type="http", auth="user", methods=["POST"], website=True)
    def portal_ticket_cc_remove(self, ticket_id, partner_id=None, **kw):
        ticket_sudo = self._ticket_check_cc_access(ticket_id)
        if not ticket_sudo._portal_remove_cc(self._posted_id(partner_id)):
            raise NotFound()
        # who removes themselves may no longer see the ticket: back to the list then
        if not ticket_sudo.with_user(request.env.user).has_access("read"):
            return request.redirect("/my/tickets")
        return request.redirect(f"{ticket_sudo.access_url}#cc")
