"""What the portal's "New ticket" request does, and what it leaves to the acknowledgement cron."""

from .common import patch_cron_commit
from .test_portal_routes import PortalCase


class TestPortalCreationRequest(PortalCase):
    def _form(self, name):
        return {
            "name": name,
            "priority": "1",
            "importance": "non_blocking",
            "ticket_type": "clarification",
            "category_id": str(self.cat_paghe.id),
            "description": "Il totale non torna.",
        }

    def _create(self, name):
        response = self._post("/my/tickets/new", self._form(name))
        self.assertEqual(response.status_code, 303)
        return self.Ticket.search([("name", "=", name)])

    def test_request_sends_nothing_and_leaves_the_acknowledgement_to_the_cron(self):
        self._login(self.giulia)
        cron = self.env.ref("terasoft_portal.ir_cron_ticket_acknowledge")
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search([("cron_id", "=", cron.id)])
        ticket = self._create("Cedolino di marzo")
        self.assertTrue(ticket.ack_pending)
        self.assertTrue(Trigger.search([("cron_id", "=", cron.id)]) - triggers)
        self.assertIn(self.giulia.partner_id, ticket.message_partner_ids)  # the contact follows it
        self.assertTrue(ticket.sla_deadline)
        # no email rendered nor queued by the request (so none force-sent at its commit)
        self.assertFalse(self.env["mail.mail"].search([("model", "=", "terasoft.ticket"), ("res_id", "=", ticket.id)]))
        commit, _calls = patch_cron_commit()
        with commit:
            self.Ticket._cron_acknowledge()
        mails = self.env["mail.mail"].search([("model", "=", "terasoft.ticket"), ("res_id", "=", ticket.id)])
        self.assertIn(self.giulia.partner_id, mails.recipient_ids)
        self.assertEqual(set(mails.mapped("state")), {"outgoing"})  # the mail queue sends them
        self.assertFalse(ticket.ack_pending)

    def test_request_query_count_does_not_grow_with_tickets(self):
        self._login(self.giulia)
        self._create("Riscaldamento")  # warm the caches
        before = self.cr.sql_log_count
        self._create("Primo")
        first = self.cr.sql_log_count - before
        self.assertGreater(first, 0, "the request's queries must be counted")
        self.Ticket.create(
            [
                {"name": f"Storico {i}", "partner_id": self.giulia.partner_id.id, "category_id": self.cat_paghe.id}
                for i in range(60)
            ]
        )
        self._create("Riscaldamento 2")
        with self.assertQueryCount(first):
            self._create("Secondo")
