import logging

from odoo import models
from odoo.exceptions import AccessDenied
from odoo.http import request

_logger = logging.getLogger(__name__)

IP_ALLOWLIST_PARAM = "terasoft_portal.ip_allowlist_enforced"


class ResUsers(models.Model):
    _inherit = "res.users"

    def _check_credentials(self, credential, env):
        # As in base, the user whose credentials are checked is self.env.user: Odoo calls this
        # method on an empty recordset too (portal's /my/security: password change, account
        # deactivation), and on the user itself, switched with with_user(), at login.
        # The allow-list is checked after the password: refusing earlier would tell a stranger
        # which logins exist and are restricted.
        auth_info = super()._check_credentials(credential, env)
        if request and not self.env.user._portal_ip_allowed(request.httprequest.remote_addr):
            raise AccessDenied(self.env._(
                "Your account cannot be used from this network (address %(address)s). "
                "Connect from one of your company's authorised networks or contact support.",
                address=request.httprequest.remote_addr,
            ))
        return auth_info

    def _portal_ip_allowed(self, address):
        """Whether this user may use the portal from ``address`` (the client address, after
        Odoo's proxy_mode handling). Only portal users are restricted, and only while the
        setting "Enforce IP allow-list for portal users" is on. A refusal is logged."""
        self.ensure_one()
        if not self._is_portal():
            return True
        enforced = self.env["ir.config_parameter"].sudo().get_param(IP_ALLOWLIST_PARAM)
        if not enforced or enforced in ("0", "False"):
            return True
        partner = self.sudo().partner_id  # the allow-list lives on partners the user may not write
        if partner._is_ip_allowed(address):
            return True
        _logger.warning("Portal access refused for user %s (%s) from %s: address not in the IP allow-list",
                        self.id, self.login, address)
        return False
