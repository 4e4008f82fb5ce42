import json
import logging
import secrets
import time

from werkzeug.exceptions import Forbidden

from odoo import api, models
from odoo.http import request, root

_logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------- hardening (issue 10)
# Pages of customers and visitors: the portal (its downloads and exports included), the access
# request and Odoo's login / password pages. The backend (/odoo, /web/...) keeps Odoo's headers.
PORTAL_PATHS = ("/my", "/access/request", "/web/login", "/web/reset_password", "/web/signup", "/rate")
# What the portal's own pages need (checked in headless Chromium on every portal page, see
# README): scripts only from the server, plus
# - Odoo's two inline bootstrap scripts of web.layout / web.frontend_layout, which carry this
#   request's nonce (views/terasoft_security_templates.xml);
# - two inline event handlers of Odoo's, allowed by their hashes only ('unsafe-hashes'):
#   onerror="__odooAssetError=1" of the script tags and the login form's
#   onsubmit="this.action = '/web/login' + location.hash";
# - 'unsafe-eval': Owl compiles its templates in the browser with new Function();
# - inline styles, used all over Odoo's templates and widgets.
CSP_SCRIPT_HASHES = (
    "'sha256-8yDIMBSmZv57Ba62SxKgyLxU6rUm3YRxan7K7J0owqQ='",  # __odooAssetError=1
    "'sha256-2khgSi94AvKX8iIsTkpYjxTkusmZHN0vOYL7cefd5TY='",  # this.action = '/web/login' + location.hash
)
CSP_POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'unsafe-eval' 'unsafe-hashes' "
    + " ".join(CSP_SCRIPT_HASHES)
    + "; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; frame-src 'self'; "
    "frame-ancestors 'self'; form-action 'self'; base-uri 'self'; object-src 'none'"
)
HSTS_VALUE = "max-age=31536000"
# ir.config_parameter: minutes of inactivity after which a portal user's session ends (0: never)
PORTAL_IDLE_PARAM = "terasoft_portal.portal_idle_timeout_minutes"
DEFAULT_PORTAL_IDLE_MINUTES = 30
SESSION_ACTIVITY_KEY = "terasoft_last_activity"
ACTIVITY_GRANULARITY = 60  # seconds: the session (a file) is written at most once a minute for it


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _authenticate(cls, endpoint):
        cls._terasoft_check_portal_idle()
        result = super()._authenticate(endpoint)
        # A session opened from an allowed network must not keep working from another one.
        user = request.env.user
        if request.env.uid and user and not user._portal_ip_allowed(request.httprequest.remote_addr):
            request.session.logout(keep_db=True)
            raise Forbidden(
                request.env._(
                    "Your account cannot be used from this network (address %(address)s). "
                    "Connect from one of your company's authorised networks or contact support.",
                    address=request.httprequest.remote_addr,
                )
            )
        return result

    @classmethod
    def _post_dispatch(cls, response):
        result = super()._post_dispatch(response)
        cls._terasoft_secure_response(response)
        return result

    @classmethod
    def _handle_error(cls, exception):
        return cls._terasoft_hide_error_details(super()._handle_error(exception))

    # ------------------------------------------------------------------ hardening (issue 10)
    # Kept apart from the overrides above, which only call these methods.
    @classmethod
    def _terasoft_is_portal_page(cls):
        path = request.httprequest.path
        return any(path == prefix or path.startswith(prefix + "/") for prefix in PORTAL_PATHS)

    @classmethod
    def _terasoft_csp_nonce(cls):
        """The nonce of this request's Content-Security-Policy, made on first use (by the
        inline scripts of Odoo's page layout, see views/terasoft_security_templates.xml)."""
        if not getattr(request, "terasoft_csp_nonce", None):
            request.terasoft_csp_nonce = secrets.token_urlsafe(18)
        return request.terasoft_csp_nonce

    @classmethod
    def _terasoft_secure_response(cls, response):
        """Security headers of every portal and access page, and the session cookie's
        ``SameSite=Lax`` (``Secure`` too, with HSTS, when the request came over HTTPS, which
        behind a proxy needs ``proxy_mode`` and the X-Forwarded-Proto/-Host headers)."""
        headers = response.headers
        https = request.httprequest.scheme == "https"
        cls._terasoft_secure_session_cookie(response, https)
        if https:
            headers.setdefault("Strict-Transport-Security", HSTS_VALUE)
        if not cls._terasoft_is_portal_page():
            return
        # replaces the bare "frame-ancestors 'self'" some of Odoo's pages set (portal, auth_signup)
        headers["Content-Security-Policy"] = CSP_POLICY.format(nonce=cls._terasoft_csp_nonce())
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")  # keeps the login page's DENY
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        # per-user pages, files and exports: never kept by a browser or a shared cache
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)

    @classmethod
    def _terasoft_secure_session_cookie(cls, response, https):
        cookies = response.headers.getlist("Set-Cookie")
        if not any(cookie.startswith("session_id=") for cookie in cookies):
            return
        response.headers.remove("Set-Cookie")
        for cookie in cookies:
            if cookie.startswith("session_id="):
                attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
                if "samesite" not in attributes:
                    cookie += "; SameSite=Lax"
                if https and "secure" not in attributes:
                    cookie += "; Secure"
            response.headers.add("Set-Cookie", cookie)

    @classmethod
    def _get_exception_code_values(cls, exception):
        # http_routing's error pages show the traceback in debug mode, which anyone can turn on
        # with ?debug=1: not to portal users and visitors
        code, values = super()._get_exception_code_values(exception)
        if not cls._terasoft_shows_error_details():
            values.pop("traceback", None)
            values.pop("qweb_exception", None)
        return code, values

    @classmethod
    def _terasoft_shows_error_details(cls):
        """Whether the current user may see tracebacks: staff (internal users) only."""
        try:
            return bool(request.session.uid) and request.env.user._is_internal()
        except Exception:
            _logger.debug("No user to decide on error details; hiding them", exc_info=True)
            return False

    @classmethod
    def _terasoft_hide_error_details(cls, response):
        """Remove the traceback (and, for unexpected errors, the message, which may name server
        paths or SQL) from a JSON error answer to a portal or anonymous user. Errors meant for
        users (UserError, AccessError, ...) keep their message."""
        routing_type = getattr(request.dispatcher, "routing_type", None)
        if (
            routing_type not in ("jsonrpc", "json2")
            or not hasattr(response, "get_data")
            or cls._terasoft_shows_error_details()
        ):
            return response
        try:
            body = json.loads(response.get_data())
        except ValueError:
            return response
        error = body.get("error") if routing_type == "jsonrpc" else body
        data = error.get("data") if routing_type == "jsonrpc" and isinstance(error, dict) else error
        if not isinstance(data, dict):
            return response
        for_users = data.get("name", "").startswith(("odoo.exceptions.", "werkzeug.exceptions."))
        data["debug"] = ""
        if not for_users:
            data.update(message="Internal Server Error", arguments=["Internal Server Error"], context={})
        response.set_data(json.dumps(body))
        return response

    @classmethod
    def _terasoft_check_portal_idle(cls):
        """End a portal user's session after the configured minutes without a request
        (ASVS 3.3.2); internal users keep Odoo's own session lifetime. The time of the last
        request is kept in the session (rewritten at most once a minute)."""
        session = request.session
        if not session.uid:
            return
        now = time.time()
        last = session.get(SESSION_ACTIVITY_KEY)
        user = request.env.user  # the session's user (sudo'ed), read once per request anyway
        if user.id != session.uid or not user.share:
            return
        minutes = cls._terasoft_portal_idle_minutes()
        if minutes and last and now - last > minutes * 60:
            _logger.info("Portal session of user %s ended after %s idle minutes", session.uid, minutes)
            session.logout(keep_db=True)
            # saved now: an error answer (the login redirect of auth="user" routes, which super()
            # raises for the logged-out session) does not save the session
            root.session_store.save(session)
            request.env = api.Environment(request.env.cr, None, session.context)  # as core does
            return
        if not last or now - last >= ACTIVITY_GRANULARITY:
            session[SESSION_ACTIVITY_KEY] = now

    @classmethod
    def _terasoft_portal_idle_minutes(cls):
        value = request.env["ir.config_parameter"].sudo().get_param(PORTAL_IDLE_PARAM, DEFAULT_PORTAL_IDLE_MINUTES)
        try:
            return max(int(value or 0), 0)
        except ValueError:
            return DEFAULT_PORTAL_IDLE_MINUTES
