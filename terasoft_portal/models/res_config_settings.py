from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

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
