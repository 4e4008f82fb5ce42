from .common import TerasoftCase


class TestDemoData(TerasoftCase):
    def test_demo_has_tickets_in_every_state(self):
        states = {key for key, _label in self.Ticket._fields["state"].selection}
        self.assertEqual(set(self.Ticket.search([]).mapped("state")) & states, states)

    def test_demo_logins(self):
        self.assertTrue(self.giulia.has_group("base.group_portal"))
        self.assertEqual(self.giulia.partner_id.commercial_partner_id, self.alfa)
        self.assertEqual(self.luca.partner_id.commercial_partner_id, self.beta)
        self.assertTrue(self.support.has_group("terasoft_portal.group_terasoft_portal_user"))
        self.assertFalse(self.support.has_group("terasoft_portal.group_terasoft_portal_manager"))
        self.assertTrue(self.gamma.insolvent)

    def test_demo_tickets_have_public_and_internal_messages(self):
        messages = self.env["mail.message"].search([("model", "=", "terasoft.ticket")])
        self.assertTrue(
            messages.filtered(lambda m: not m.is_internal and m.subtype_id == self.env.ref("mail.mt_comment"))
        )
        self.assertTrue(messages.filtered("is_internal"))

    def test_kanban_shows_every_state_in_order(self):
        Ticket = self.Ticket.with_context(read_group_expand=True)  # what the kanban view sends
        groups = Ticket.web_read_group([("id", "=", 0)], ["state"])["groups"]
        self.assertEqual([g["state"] for g in groups], [key for key, _label in self.Ticket._fields["state"].selection])
