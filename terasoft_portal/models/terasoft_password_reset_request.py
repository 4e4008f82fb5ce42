import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

RATE_LIMIT_PARAM = "terasoft_portal.password_reset_rate_limit"
DEFAULT_RATE_LIMIT = 5  # requests per IP address and hour
# (scope, key) of the reset form's idempotency key, set by the reset page (controllers/password.py)
IDEMPOTENCY_CONTEXT = "terasoft_reset_idempotency"
KEEP_DAYS = 1  # handled requests are kept this long (the hourly limit counts them), then deleted


class TerasoftPasswordResetRequest(models.Model):
    """A "Password dimenticata?" request, handled by a cron rather than in the request.

    The reset page must answer the same, in the same time, for an address with an account
    and for one without: the page only stores the request (the same query for both) and
    triggers the cron, which looks the account up and sends Odoo's reset email.
    """

    _name = "terasoft.password.reset.request"
    _description = "Password Reset Request"
    _order = "id"

    login = fields.Char(required=True)
    request_ip = fields.Char("Sent From", index=True)
    done = fields.Boolean(index=True)

    @api.model
    def _portal_rate_limited(self, address):
        """Whether ``address`` sent as many requests in the last hour as the setting allows."""
        params = self.env["ir.config_parameter"].sudo()
        try:
            limit = int(params.get_param(RATE_LIMIT_PARAM, DEFAULT_RATE_LIMIT) or 0)
        except ValueError:
            limit = DEFAULT_RATE_LIMIT
        if limit <= 0:
            return False
        since = fields.Datetime.now() - timedelta(hours=1)
        return (
            self.sudo().search_count([("request_ip", "=", address), ("create_date", ">=", since)], limit=limit) >= limit
        )

    @api.model
    def _portal_queue(self, login, address):
        """Store the request of ``login`` from ``address`` for the cron (sudo: visitors).
        Raises UserError when the address sent too many requests in the last hour.

        With the context key ``IDEMPOTENCY_CONTEXT`` = (scope, key) of the form, a request
        sent again with the same key is not stored again (nor counted by the limit)."""
        scope, key = self.env.context.get(IDEMPOTENCY_CONTEXT) or (None, None)
        Keys = self.env["terasoft.idempotency.key"].sudo()  # visitors: the form's own key
        if scope and Keys._replay(scope, key):
            return
        if self._portal_rate_limited(address):
            _logger.warning("Password reset from %s refused: rate limit reached", address)
            raise UserError(
                self.env._(
                    "Too many requests were sent from your network. Please try again in an hour or call support."
                )
            )
        self.sudo().create({"login": (login or "").strip()[:256], "request_ip": address})
        if scope:
            Keys._remember(scope, key, json={"queued": True})
        self.env.ref("terasoft_portal.ir_cron_password_reset").sudo()._trigger()

    @api.model
    def _cron_send_password_resets(self):
        """Send Odoo's reset email for each pending request whose login or email has exactly
        one account (auth_signup's ``reset_password``); the others are only logged. One request
        that fails does not stop the others. Old requests are deleted."""
        Users = self.env["res.users"].sudo()
        for reset_request in self.search([("done", "=", False)], limit=200):
            try:
                with self.env.cr.savepoint():
                    Users.reset_password(reset_request.login)
            except Exception as error:  # noqa: BLE001 - unknown login, no email, SMTP: log and go on
                _logger.info(
                    "Password reset request %s from %s not sent: %s", reset_request.id, reset_request.request_ip, error
                )
            reset_request.done = True
            self.env["ir.cron"]._commit_progress(1)
        self.search(
            [("done", "=", True), ("create_date", "<", fields.Datetime.now() - timedelta(days=KEEP_DAYS))]
        ).unlink()
