from odoo import fields, models

from .ir_attachment import DEFAULT_ALLOWED_EXT, DEFAULT_MAX_SIZE_MB, PARAM_ALLOWED_EXT, PARAM_MAX_SIZE


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    terasoft_ip_allowlist_enforced = fields.Boolean(
        "Enforce IP Allow-list for Portal Users",
        config_parameter="terasoft_portal.ip_allowlist_enforced",
        help="Portal users whose contact (or company) has an IP allow-list can log in and use the "
        "portal only from those addresses. Internal users are never restricted.",
    )
    terasoft_change_request_user_id = fields.Many2one(
        "res.users",
        "Change Requests Handled By",
        config_parameter="terasoft_portal.change_request_user_id",
        domain=[("share", "=", False)],
        help='Receives the customers\' "Report a change" requests when their company has no salesperson (Assigned to).',
    )
    terasoft_access_request_rate_limit = fields.Integer(
        "Access Requests per Address and Hour",
        config_parameter="terasoft_portal.access_request_rate_limit",
        default=3,
        help="Further access requests from the same IP address within an hour are refused.",
    )
    terasoft_password_reset_rate_limit = fields.Integer(
        "Password Resets per Address and Hour",
        config_parameter="terasoft_portal.password_reset_rate_limit",
        default=5,
        help='Further "Forgot your password?" requests from the same IP address within an hour are refused.',
    )
    terasoft_portal_idle_timeout = fields.Integer(
        "Portal Session Idle Timeout (minutes)",
        config_parameter="terasoft_portal.portal_idle_timeout_minutes",
        default=30,
        help="A portal user's session ends after this many minutes without a request (0: never). "
        "Internal users are not affected.",
    )
    ticket_calendar_id = fields.Many2one(related="company_id.ticket_calendar_id", readonly=False)
    ticket_sla_hours = fields.Float(related="company_id.ticket_sla_hours", readonly=False)
    ticket_sla_hours_urgent = fields.Float(related="company_id.ticket_sla_hours_urgent", readonly=False)
    ticket_sla_hours_blocking = fields.Float(related="company_id.ticket_sla_hours_blocking", readonly=False)
    ticket_manager_id = fields.Many2one(related="company_id.ticket_manager_id", readonly=False)
    ticket_autoclose_days = fields.Integer(related="company_id.ticket_autoclose_days", readonly=False)
    ticket_autoclose_count = fields.Selection(related="company_id.ticket_autoclose_count", readonly=False)
    ticket_discard_retention_days = fields.Integer(related="company_id.ticket_discard_retention_days", readonly=False)
    ticket_email_category_id = fields.Many2one(related="company_id.ticket_email_category_id", readonly=False)
    terasoft_attachment_max_size = fields.Integer(
        "Maximum Attachment Size (MB)",
        config_parameter=PARAM_MAX_SIZE,
        default=DEFAULT_MAX_SIZE_MB,
        help="Largest file a customer may attach to a ticket in the portal.",
    )
    terasoft_attachment_allowed_extensions = fields.Char(
        "Accepted File Types",
        config_parameter=PARAM_ALLOWED_EXT,
        default=DEFAULT_ALLOWED_EXT,
        help="Comma-separated file extensions the portal accepts. The content of each file must "
        "be of its extension's type (checked with libmagic): an .exe renamed .pdf is refused.",
    )

    terasoft_weekly_summary = fields.Boolean(
        "Weekly Summary Email",
        compute="_compute_terasoft_weekly_summary",
        inverse="_inverse_terasoft_weekly_summary",
        help="Every Monday morning the support manager receives last week's figures: tickets opened "
        "and closed, first-response and resolution times, backlog, reopen rate.",
    )

    def _weekly_summary_cron(self):
        return self.env.ref("terasoft_portal.ir_cron_ticket_weekly_summary", raise_if_not_found=False)

    def _compute_terasoft_weekly_summary(self):
        cron = self._weekly_summary_cron()
        for settings in self:
            settings.terasoft_weekly_summary = bool(cron and cron.sudo().active)

    def _inverse_terasoft_weekly_summary(self):
        cron = self._weekly_summary_cron()
        for settings in self:
            if cron and cron.sudo().active != settings.terasoft_weekly_summary:
                cron.sudo().active = settings.terasoft_weekly_summary  # sudo: the settings are admin-only
