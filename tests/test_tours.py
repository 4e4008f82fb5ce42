"""Browser tours (headless Chromium; Odoo skips them, with the reason, when no browser is found)."""
from .common import TerasoftHttpCase


class TestPortalTours(TerasoftHttpCase):

    def test_portal_ticket_tour(self):
        """Giulia, in Italian: new ticket with attachment, list, comment, close after confirming."""
        self.start_tour("/web/login", "terasoft_portal_ticket_tour")
        ticket = self.Ticket.search([("name", "=", "Errore stampa F24 di dicembre")])
        self.assertRecordValues(ticket, [{"state": "closed", "channel": "portal",
                                          "partner_id": self.giulia.partner_id.id}])
        self.assertEqual(ticket.sudo()._portal_attachments().mapped("name"), ["log_errore.txt"])
