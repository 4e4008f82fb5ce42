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
