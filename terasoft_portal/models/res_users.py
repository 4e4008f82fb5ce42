import logging

from odoo import api, models
from odoo.exceptions import AccessDenied
from odoo.http import request

_logger = logging.getLogger(__name__)

IP_ALLOWLIST_PARAM = "terasoft_portal.ip_allowlist_enforced"
# Set by the "Password dimenticata?" page (controllers/password.py): queue the request for a cron.
QUEUE_RESET_CONTEXT = "terasoft_queue_password_reset"
_dummy_hash = []  # a password hash made once per process, verified for unknown logins


class ResUsers(models.Model):
    _inherit = "res.users"

    @api.model_create_multi
    def create(self, vals_list):
        users = super().create(vals_list)
        users._set_support_home_action()
        return users

    def write(self, vals):
        res = super().write(vals)
        if "group_ids" in vals:
            self._set_support_home_action()
        return res

    def _set_support_home_action(self):
        """Support staff land in the Assistenza app after login, not in Discuss: internal users
        of the support group without a home action get the tickets' kanban. A home action
        chosen by the admin is kept."""
        group = self.env.ref("terasoft_portal.group_terasoft_portal_user", raise_if_not_found=False)
        action = self.env.ref("terasoft_portal.action_ticket", raise_if_not_found=False)
        if not group or not action:  # during the module's own installation
            return
        staff = self.filtered(lambda user: not user.share and not user.action_id and group in user.all_group_ids)
        if staff:
            # sudo: the home action is set by the system whoever grants the group
            staff.sudo().write({"action_id": action.id})

    def _check_credentials(self, credential, env):
        # As in base, the user whose credentials are checked is self.env.user: Odoo calls this
        # method on an empty recordset too (portal's /my/security: password change, account
        # deactivation), and on the user itself, switched with with_user(), at login.
        # The allow-list is checked after the password: refusing earlier would tell a stranger
        # which logins exist and are restricted.
        auth_info = super()._check_credentials(credential, env)
        if request and not self.env.user._portal_ip_allowed(request.httprequest.remote_addr):
            raise AccessDenied(
                self.env._(
                    "Your account cannot be used from this network (address %(address)s). "
                    "Connect from one of your company's authorised networks or contact support.",
                    address=request.httprequest.remote_addr,
                )
            )
        return auth_info

    def _login(self, credential, user_agent_env):
        # An unknown login is refused without checking any password, a known one after checking
        # its hash (~0.7 s here): the answer time told which accounts exist. Do the same work
        # for an unknown login. (Refusals for other reasons, e.g. Odoo's cool-down after
        # repeated failures, carry their own message and are left alone.)
        try:
            return super()._login(credential, user_agent_env)
        except AccessDenied as error:
            if (
                error.args == AccessDenied().args
                and credential.get("type") == "password"
                and not self.sudo().search_count(self._get_login_domain(credential.get("login") or ""), limit=1)
            ):
                self._terasoft_verify_dummy_password(credential.get("password") or "")
            raise

    @api.model
    def _terasoft_verify_dummy_password(self, password):
        context = self._crypt_context()
        if not _dummy_hash:
            _dummy_hash.append(context.hash("terasoft-dummy-password"))
        context.verify(password, _dummy_hash[0])

    def reset_password(self, login):
        # From the reset page the request is only stored and sent by a cron, whether or not an
        # account exists (same answer, same time); see terasoft.password.reset.request.
        if self.env.context.get(QUEUE_RESET_CONTEXT) and request:
            self.env["terasoft.password.reset.request"]._portal_queue(login, request.httprequest.remote_addr)
            return None
        return super().reset_password(login)

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
        _logger.warning(
            "Portal access refused for user %s (%s) from %s: address not in the IP allow-list",
            self.id,
            self.login,
            address,
        )
        return False
