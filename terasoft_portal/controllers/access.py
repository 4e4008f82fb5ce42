import logging

from odoo import http
from odoo.http import request
from odoo.tools import email_normalize

from ..models.res_partner_portal_access import parse_ip_allowlist
from ..models.terasoft_access_request import PORTAL_FIELDS
from .idempotency import FORM_KEY, remember, replay_response

_logger = logging.getLogger(__name__)

REQUIRED_FIELDS = ("first_name", "last_name", "email", "company_name")
HONEYPOT_FIELD = "website_url"  # hidden from people by CSS; bots fill it in
DONE_TEMPLATE = "terasoft_portal.access_request_done"


class AccessRequestController(http.Controller):
    @http.route("/access/request", type="http", auth="public", methods=["GET", "POST"], website=True, sitemap=False)
    def access_request(self, **post):
        address = request.httprequest.remote_addr
        values = {key: post.get(key, "") for key in PORTAL_FIELDS}
        values.setdefault("ip_addresses", "")
        if request.httprequest.method == "GET":
            values["ip_addresses"] = address
            return request.render("terasoft_portal.access_request_form", {"values": values, "errors": {}})

        replay = replay_response(post.get(FORM_KEY))
        if replay:
            return replay
        if post.get(HONEYPOT_FIELD):
            _logger.info("Portal access request from %s dropped: honeypot filled", address)
            return request.render("terasoft_portal.access_request_done", {})
        AccessRequest = request.env["terasoft.access.request"].sudo()  # visitors have no rights on requests
        errors = {key: request.env._("Required") for key in REQUIRED_FIELDS if not (post.get(key) or "").strip()}
        if post.get("email") and not email_normalize(post["email"]):
            errors["email"] = request.env._("This is not a valid email address.")
        if not errors and AccessRequest._portal_rate_limited(address):
            _logger.warning("Portal access request from %s refused: rate limit reached", address)
            errors["global"] = request.env._(
                "Too many requests were sent from your network. Please try again in an hour or call support."
            )
        try:
            parse_ip_allowlist(post.get("ip_addresses"))
        except ValueError as error:
            errors["ip_addresses"] = request.env._(
                "%(entry)s is not a valid IP address, CIDR range or address range.", entry=error.args[0]
            )
        if errors:
            return request.render("terasoft_portal.access_request_form", {"values": values, "errors": errors})
        AccessRequest._portal_create(post, address)
        remember(post.get(FORM_KEY), json={"template": DONE_TEMPLATE})
        # The same answer whether or not an account or a pending request exists for the email.
        return request.render("terasoft_portal.access_request_done", {})
