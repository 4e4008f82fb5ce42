from odoo import fields, models

from .terasoft_ticket_portal import DEFAULT_MAX_SIZE_MB, DEFAULT_REFUSED_EXT, PARAM_MAX_SIZE, PARAM_REFUSED_EXT


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    terasoft_ip_allowlist_enforced = fields.Boolean(
        "Enforce IP Allow-list for Portal Users",
        config_parameter="terasoft_portal.ip_allowlist_enforced",
        help="Portal users whose contact (or company) has an IP allow-list can log in and use the "
             "portal only from those addresses. Internal users are never restricted.",
    )
    terasoft_change_request_user_id = fields.Many2one(
        "res.users", "Change Requests Handled By",
        config_parameter="terasoft_portal.change_request_user_id",
        domain=[("share", "=", False)],
        help="Receives the customers' \"Report a change\" requests when their company has no "
             "salesperson (Assigned to).",
    )
    terasoft_access_request_rate_limit = fields.Integer(
        "Access Requests per Address and Hour",
        config_parameter="terasoft_portal.access_request_rate_limit", default=3,
        help="Further access requests from the same IP address within an hour are refused.",
    )
    ticket_calendar_id = fields.Many2one(related="company_id.ticket_calendar_id", readonly=False)
    ticket_sla_hours = fields.Float(related="company_id.ticket_sla_hours", readonly=False)
    ticket_sla_hours_urgent = fields.Float(related="company_id.ticket_sla_hours_urgent", readonly=False)
    ticket_sla_hours_blocking = fields.Float(related="company_id.ticket_sla_hours_blocking", readonly=False)
    ticket_manager_id = fields.Many2one(related="company_id.ticket_manager_id", readonly=False)
    ticket_autoclose_days = fields.Integer(related="company_id.ticket_autoclose_days", readonly=False)
    ticket_autoclose_count = fields.Selection(related="company_id.ticket_autoclose_count", readonly=False)
    ticket_discard_retention_days = fields.Integer(
        related="company_id.ticket_discard_retention_days", readonly=False)
    ticket_email_category_id = fields.Many2one(related="company_id.ticket_email_category_id", readonly=False)
    terasoft_attachment_max_size = fields.Integer(
        "Maximum Attachment Size (MB)", config_parameter=PARAM_MAX_SIZE, default=DEFAULT_MAX_SIZE_MB,
        help="Largest file a customer may attach to a ticket in the portal.",
    )
    terasoft_attachment_refused_extensions = fields.Char(
        "Refused File Types", config_parameter=PARAM_REFUSED_EXT, default=DEFAULT_REFUSED_EXT,
        help="Comma-separated file extensions the portal refuses, e.g. exe,bat,js.",
    )
