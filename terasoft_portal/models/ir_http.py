from werkzeug.exceptions import Forbidden

from odoo import models
from odoo.http import SAFE_HTTP_METHODS, request

from .. import db_outage


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _authenticate(cls, endpoint):
        super()._authenticate(endpoint)
        # A session opened from an allowed network must not keep working from another one.
        user = request.env.user
        if request.env.uid and user and not user._portal_ip_allowed(request.httprequest.remote_addr):
            request.session.logout(keep_db=True)
            raise Forbidden(request.env._(
                "Your account cannot be used from this network (address %(address)s). "
                "Connect from one of your company's authorised networks or contact support.",
                address=request.httprequest.remote_addr,
            ))

    @classmethod
    def _post_dispatch(cls, response):
        super()._post_dispatch(response)
        # last step before COMMIT: what tells whether a COMMIT cut by PostgreSQL going away
        # was applied, and what to answer then (db_outage)
        db_outage.prepare_commit(request, response)

    @classmethod
    def _handle_error(cls, exception):
        # The database connection is gone (PostgreSQL restarting): the error pages of super()
        # need the database (http_routing rolls back the dead cursor, then renders a QWeb page)
        # and would end in a bare 500. Answer an honest 503 without touching it. When the
        # transaction never reached COMMIT, db_outage serves the request again instead, once
        # PostgreSQL is back; when it did and its fate is unknown, a form post may have been
        # saved: the page says so.
        if db_outage.is_connection_lost(exception):
            uncertain = (db_outage.reached_commit(exception)
                         and request.httprequest.method not in SAFE_HTTP_METHODS)
            return db_outage.service_unavailable(request, uncertain=uncertain)
        return super()._handle_error(exception)

    @classmethod
    def _get_default_lang(cls):
        # As http_routing's, but without its two queries on ir.default on every frontend request
        # (every portal page and the home page's counters): the value is cached.
        lang_code = request.env["ir.default"].sudo()._portal_default_partner_lang()
        if lang_code:
            return request.env["res.lang"]._get_data(code=lang_code)
        return next(iter(request.env["res.lang"]._get_active_by("code").values()))
