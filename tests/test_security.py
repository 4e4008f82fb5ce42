from odoo.exceptions import AccessError

from .common import TerasoftCase


class TestTicketAccess(TerasoftCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alfa_ticket = cls._ticket(cls.giulia.partner_id, name="Alfa payroll")
        cls.beta_ticket = cls._ticket(cls.luca.partner_id, name="Beta attendance", category_id=cls.cat_presenze.id)

    def test_portal_user_reads_own_company_tickets_only(self):
        visible = self.Ticket.with_user(self.giulia).search([])
        self.assertIn(self.alfa_ticket, visible)
        self.assertNotIn(self.beta_ticket, visible)
        self.assertEqual(set(visible.mapped("commercial_partner_id").ids), {self.alfa.id})

    def test_portal_user_cannot_read_other_company_ticket(self):
        with self.assertRaises(AccessError):
            self.beta_ticket.with_user(self.giulia).read(["name"])

    def test_portal_user_cannot_write_or_create_tickets(self):
        with self.assertRaises(AccessError):
            self.alfa_ticket.with_user(self.giulia).write({"name": "hacked"})
        with self.assertRaises(AccessError):
            self.Ticket.with_user(self.giulia).create({"name": "x", "category_id": self.cat_paghe.id})
        with self.assertRaises(AccessError):
            self.alfa_ticket.with_user(self.giulia).unlink()

    def test_portal_user_cannot_read_other_customer_partners(self):
        Partner = self.env["res.partner"].with_user(self.giulia)
        self.assertFalse(Partner.search([("id", "child_of", self.beta.id)]))
        with self.assertRaises(AccessError):
            self.luca.partner_id.with_user(self.giulia).read(["email"])
        self.assertIn(self.alfa, Partner.search([]))

    def test_scope_own_sees_only_own_tickets(self):
        user = self._portal_user("own_scope", self.alfa, ticket_scope="own")
        own = self._ticket(user.partner_id)
        self.assertEqual(self.Ticket.with_user(user).search([]), own)

    def test_scope_areas_sees_own_and_chosen_categories_with_children(self):
        user = self._portal_user(
            "area_scope", self.alfa, ticket_scope="areas", ticket_scope_category_ids=[(6, 0, self.cat_presenze.ids)]
        )
        own = self._ticket(user.partner_id, category_id=self.cat_contabilita.id)
        sub = self._ticket(self.giulia.partner_id, category_id=self.cat_project.id)
        visible = self.Ticket.with_user(user).search([])
        self.assertIn(own, visible)
        self.assertIn(sub, visible)
        self.assertNotIn(self.alfa_ticket, visible)  # Paghe: not among the chosen areas
        self.assertFalse(visible.filtered(lambda t: t.commercial_partner_id != self.alfa))

    def test_scope_change_applies_immediately(self):
        user = self._portal_user("scope_change", self.alfa)
        self.assertIn(self.alfa_ticket, self.Ticket.with_user(user).search([]))
        user.partner_id.ticket_scope = "own"
        self.assertNotIn(self.alfa_ticket, self.Ticket.with_user(user).search([]))

    def test_support_user_works_tickets_but_not_configuration(self):
        ticket = self.alfa_ticket.with_user(self.support)
        ticket.write({"priority": "2"})
        self.assertEqual(ticket.priority, "2")
        with self.assertRaises(AccessError):
            self.cat_paghe.with_user(self.support).write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            self.env["terasoft.product"].with_user(self.support).create({"name": "New product"})
        with self.assertRaises(AccessError):
            ticket.unlink()

    def test_manager_configures(self):
        self.cat_paghe.with_user(self.manager).write({"description": "updated"})
        self.env["terasoft.product"].with_user(self.manager).create({"name": "Nuovo prodotto"})

    def test_employee_without_support_group_cannot_read_tickets(self):
        from odoo.tests import new_test_user

        employee = new_test_user(self.env, login="plain_employee", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.Ticket.with_user(employee).search([])
