from odoo import models


class TerasoftTicket(models.Model):
    _inherit = "terasoft.ticket"

    def _notify_move(self, move, message=None):
        """An import is not news: the automatic block of a ticket imported for an insolvent
        company (``create``) must not write to the customer. Only the importer sets this key."""
        if self.env.context.get("terasoft_vte_import"):
            return
        return super()._notify_move(move, message=message)
