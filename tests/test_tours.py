"""Browser tours (headless Chromium; Odoo skips them, with the reason, when no browser is found)."""

import re

from .common import TerasoftHttpCase


class TestPortalTours(TerasoftHttpCase):
    def test_portal_ticket_tour(self):
        """Giulia, in Italian: new ticket with attachment, list, comment, close after confirming."""
        self.start_tour("/web/login", "terasoft_portal_ticket_tour")
        ticket = self.Ticket.search([("name", "=", "Errore stampa F24 di dicembre")])
        self.assertRecordValues(
            ticket, [{"state": "closed", "channel": "portal", "partner_id": self.giulia.partner_id.id}]
        )
        self.assertEqual(ticket.sudo()._portal_attachments().mapped("name"), ["log_errore.txt"])

    def test_open_a_ticket_from_an_faq(self):
        """Giulia: FAQ search (clean excerpt), entry, "Apri un ticket su questo argomento", prefilled form."""
        category = self.env["terasoft.faq.category"].create(
            {"name": "Paghe in tour", "ticket_category_id": self.cat_paghe.id}
        )
        self.env["terasoft.faq"].create(
            {
                "name": "Come si imposta la tredicesima in tour?",
                "category_id": category.id,
                "is_published": True,
                "answer": "<p>Controlla il <strong>contratto</strong> in <em>Tabelle &gt; Contratti</em>: "
                "la tredicesima dipende dal rateo.</p>",
            }
        )
        self.start_tour("/web/login", "terasoft_portal_faq_ticket_tour")
        ticket = self.Ticket.search([("name", "=", "Come si imposta la tredicesima in tour?")])
        self.assertRecordValues(ticket, [{"category_id": self.cat_paghe.id, "partner_id": self.giulia.partner_id.id}])

    def test_follow_and_close_a_resolved_ticket(self):
        """Giulia: a resolved ticket says when it closes by itself; she closes it."""
        ticket = self._ticket(
            self.giulia.partner_id, name="IBAN verificato in tour", ticket_type="defect", state="in_progress"
        )
        ticket.action_resolve(solution="<p>IBAN aggiornato in anagrafica.</p>")
        self.start_tour("/web/login", "terasoft_portal_close_resolved_tour")
        self.assertEqual(ticket.state, "closed")

    def test_update_preferences(self):
        """Giulia: Mie preferenze, new phone, the company is not hers to rename."""
        self.start_tour("/web/login", "terasoft_portal_preferences_tour")
        self.assertEqual(self.giulia.partner_id.phone, "+39 02 5555 0101")
        self.assertEqual(self.alfa.name, "Alfa Paghe S.r.l.")
        self.assertEqual(self.giulia.lang, "it_IT")

    def test_insolvent_customer_home(self):
        """Franco (insolvent Gamma): told of the block on the home page and before writing."""
        self.start_tour("/web/login", "terasoft_portal_insolvent_home_tour")

    def test_rate_a_closed_ticket_from_the_closing_email(self):
        """Giulia, not logged in, opens the "Così così" link of the closing email, chooses
        "Insoddisfatto", comments and sends: one rating, one activity for the manager."""
        ticket = self._ticket(
            self.giulia.partner_id, name="Ratei tredicesima in tour", ticket_type="defect", state="in_progress"
        )
        ticket.action_resolve(solution="<p>Ratei ricalcolati.</p>")
        ticket.sudo()._apply_move("autoclose")  # the auto-close sends the closing email
        closing = (
            self.env["mail.mail"]
            .search([("model", "=", "terasoft.ticket"), ("res_id", "=", ticket.id), ("body_html", "like", "/rate/")])
            .filtered(lambda mail: self.giulia.partner_id in mail.recipient_ids)
        )
        self.assertEqual(len(closing), 1)
        link = re.search(r'href="[^"]*(/rate/[0-9a-f]{32}/3)"', closing.body_html).group(1)
        self.start_tour(link, "terasoft_portal_rating_tour")
        rating = ticket._rating_closure()
        self.assertRecordValues(
            rating, [{"rating": 1, "feedback": "La soluzione è arrivata dopo una settimana.", "consumed": True}]
        )
        self.assertEqual(
            len(ticket.activity_ids.filtered(lambda a: a.summary == f"Cliente insoddisfatto: {ticket.number}")), 1
        )
        self.assertEqual(ticket.state, "closed")


class TestPortalCcTour(TerasoftHttpCase):
    browser_size = "390x844"  # a phone

    def test_add_a_colleague_in_cc(self):
        """Giulia, in Italian, on a phone: two colleagues in CC from the offered list, one removed."""
        ticket = self._ticket(self.giulia.partner_id, name="Licenza scaduta in copia")
        self.start_tour("/web/login", "terasoft_portal_cc_tour")
        paolo = self.env.ref("terasoft_portal.partner_paolo_ferri_demo")
        self.assertEqual(ticket.cc_partner_ids, paolo)
        self.assertIn(paolo, ticket.message_partner_ids)
        self.assertNotIn(self.env.ref("terasoft_portal.partner_marco_rossi_demo"), ticket.message_partner_ids)
