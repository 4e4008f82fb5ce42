from odoo import api, fields, models


class TerasoftTicket(models.Model):
    # Kept apart from terasoft_ticket.py: the support period belongs to portal access.
    # pylint: disable-next=consider-merging-classes-inherited  # one file per concern
    _inherit = "terasoft.ticket"

    support_period_warning = fields.Char(
        compute="_compute_support_period_warning",
        export_string_translation=False,
    )

    @api.depends(
        "partner_id.support_start_date",
        "partner_id.support_end_date",
        "commercial_partner_id.support_start_date",
        "commercial_partner_id.support_end_date",
    )
    @api.depends_context("uid")
    def _compute_support_period_warning(self):
        for ticket in self:
            ticket.support_period_warning = (
                ticket.partner_id and ticket.partner_id._portal_support_period_error() or False
            )
