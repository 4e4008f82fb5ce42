from odoo import http
from odoo.http import request

from odoo.addons.auth_signup.controllers.main import AuthSignupHome

from ..models.res_users import QUEUE_RESET_CONTEXT
from ..models.terasoft_password_reset_request import IDEMPOTENCY_CONTEXT
from .idempotency import FORM_KEY, idempotency_scope


class TerasoftPasswordReset(AuthSignupHome):
    @http.route()
    def web_auth_reset_password(self, *args, **kw):
        """ "Password dimenticata?" answers the same for any address (no account enumeration):
        the request is queued for a cron, throttled per client address (res.users.reset_password
        with the context key below). The page's setting of a new password (with a token) is
        Odoo's, unchanged."""
        if not request.params.get("token"):
            request.update_context(**{QUEUE_RESET_CONTEXT: True})
            if request.httprequest.method == "POST":
                # a request sent again with the form's key is not queued again (same page)
                request.update_context(**{IDEMPOTENCY_CONTEXT: (idempotency_scope(), request.params.get(FORM_KEY))})
        return super().web_auth_reset_password(*args, **kw)

    def get_auth_signup_qcontext(self):
        # Without a token, auth_signup redirects a ``signup_email`` that has an account to the
        # login page with its login filled in, and shows the form for the others: that tells
        # which accounts exist. The parameter only makes sense with an invitation's token.
        qcontext = super().get_auth_signup_qcontext()
        if not qcontext.get("token"):
            qcontext.pop("signup_email", None)
        return qcontext
