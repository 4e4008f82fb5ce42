from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request
from odoo.tools.misc import get_lang

from odoo.addons.rating.controllers.main import Rating

from ..models.terasoft_ticket_rating import RATING_VALUES


class TicketRating(Rating):
    """Odoo's rating routes (``/rate/<token>/<value>``, ``/rate/<token>/submit_feedback``),
    with the ticket's own pages for ratings of tickets: "Com'è andata?" in the contact's
    language. Odoo's semantics are kept: opening a link (GET, what mail scanners also do)
    shows the form with the answer chosen; the answer counts when the form is sent (POST),
    and sending it again updates the same rating. The token is the only key: no login
    needed, and without it nothing of the ticket is shown (404)."""

    def _ticket_rating_and_record(self, token):
        """(rating, ticket) sudo'ed for a ticket's rating ``token``, (None, None) for ratings of
        other models; NotFound for an unknown token, or for a logged-in user of another
        customer company (never say whose ticket it is)."""
        rating_sudo, record_sudo = self._get_rating_and_record(token)
        if rating_sudo.res_model != "terasoft.ticket":
            return None, None
        user = request.env.user
        if not user._is_public() and user.commercial_partner_id != rating_sudo.partner_id.commercial_partner_id:
            raise NotFound()
        return rating_sudo, record_sudo

    def _ticket_rating_render(self, template, rating_sudo, ticket_sudo, **values):
        lang = rating_sudo.partner_id.lang or get_lang(request.env).code
        ticket_sudo = ticket_sudo.with_context(lang=lang)
        return (
            request.env["ir.ui.view"]
            .with_context(lang=lang)
            ._render_template(
                template,
                {
                    "rating": rating_sudo,
                    "ticket": ticket_sudo,
                    "labels": ticket_sudo._rating_labels(),
                    "rating_values": RATING_VALUES,
                    **values,
                },
            )
        )

    @http.route()
    def action_open_rating(self, token, rate, **kwargs):
        rating_sudo, ticket_sudo = self._ticket_rating_and_record(token)
        if not ticket_sudo:
            return super().action_open_rating(token, rate, **kwargs)
        if rate not in RATING_VALUES:
            raise NotFound()
        return self._ticket_rating_render(
            "terasoft_portal.ticket_rating_submit", rating_sudo, ticket_sudo, token=token, rate=rate
        )

    @http.route()
    def action_submit_rating(self, token, rate=0, **kwargs):
        rating_sudo, ticket_sudo = self._ticket_rating_and_record(token)
        if not ticket_sudo:
            return super().action_submit_rating(token, rate=rate, **kwargs)
        if request.httprequest.method == "POST":
            try:
                rate = int(rate)
            except ValueError:
                rate = 0
            if rate not in RATING_VALUES:
                raise NotFound()
            feedback = (kwargs.get("feedback") or "").strip()[:5000]
            ticket_sudo.rating_apply(rate, rating=rating_sudo, feedback=feedback or False, subtype_xmlid=None)
        elif not rating_sudo.consumed:
            # nothing to thank for yet: the question
            return request.redirect(f"/rate/{token}/{RATING_VALUES[0]}")
        return self._ticket_rating_render("terasoft_portal.ticket_rating_done", rating_sudo, ticket_sudo)
