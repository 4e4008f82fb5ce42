import logging

from odoo import api, models
from odoo.exceptions import AccessDenied
from odoo.http import request

_logger = logging.getLogger(__name__)

IP_ALLOWLIST_PARAM = "terasoft_portal.ip_allowlist_enforced"


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
        # The allow-list is checked after the password: refusing earlier would tell a stranger
        # which logins exist and are restricted.
        auth_info = super()._check_credentials(credential, env)
        if request and not self._portal_ip_allowed(request.httprequest.remote_addr):
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
