from werkzeug.exceptions import Forbidden

from odoo import models
from odoo.http import request


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
    def _get_default_lang(cls):
        # As http_routing's, but without its two queries on ir.default on every frontend request
        # (every portal page and the home page's counters): the value is cached.
        lang_code = request.env["ir.default"].sudo()._portal_default_partner_lang()
        if lang_code:
            return request.env["res.lang"]._get_data(code=lang_code)
        return next(iter(request.env["res.lang"]._get_active_by("code").values()))
