import threading

from psycopg2 import IntegrityError

from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.tests import Form
from odoo.tools import mute_logger

from .common import TerasoftCase


class TestTicketNumbering(TerasoftCase):
    def test_number_is_tt_sequence_and_display_name(self):
        ticket = self._ticket(self.giulia.partner_id, name="Addizionale regionale")
        self.assertRegex(ticket.number, r"^TT\d{5,}$")
        self.assertEqual(ticket.display_name, f"{ticket.number} - Addizionale regionale")

    def test_numbers_are_sequential_and_unique(self):
        tickets = self.Ticket.create(
            [
                {"name": f"T{i}", "partner_id": self.giulia.partner_id.id, "category_id": self.cat_paghe.id}
                for i in range(5)
            ]
        )
        numbers = [int(n[2:]) for n in tickets.mapped("number")]
        self.assertEqual(numbers, list(range(numbers[0], numbers[0] + 5)))

    def test_number_ignores_given_value_and_is_not_copied(self):
        ticket = self.Ticket.create({"name": "x", "number": "TT00001", "category_id": self.cat_paghe.id})
        self.assertNotEqual(ticket.number, "TT00001")
        self.assertNotEqual(ticket.copy().number, ticket.number)

    def test_duplicate_number_is_refused_by_database(self):
        first, second = self._ticket(self.giulia.partner_id), self._ticket(self.giulia.partner_id)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            second.write({"number": first.number})
            second.flush_recordset()

    def test_search_by_number(self):
        ticket = self._ticket(self.giulia.partner_id)
        self.assertIn(ticket, self.Ticket.search([("display_name", "ilike", ticket.number)]))
        self.assertEqual(self.Ticket.name_search(ticket.number)[0][0], ticket.id)

    def test_required_fields(self):
        with self.assertRaises(AssertionError):  # Form refuses to save without the title
            with Form(self.Ticket) as form:
                form.category_id = self.cat_paghe
        for vals, column in (({"name": "No category"}, "category_id"), ({"category_id": self.cat_paghe.id}, "name")):
            with mute_logger("odoo.sql_db"), self.assertRaisesRegex(IntegrityError, column), self.env.cr.savepoint():
                self.Ticket.create(vals)

    def test_defaults(self):
        ticket = self._ticket(self.giulia.partner_id)
        self.assertRecordValues(
            ticket,
            [
                {
                    "state": "new",
                    "ticket_type": "clarification",
                    "priority": "0",
                    "importance": "non_blocking",
                    "commercial_partner_id": self.alfa.id,
                }
            ],
        )

    def test_category_default_assignee(self):
        ticket = self._ticket(self.giulia.partner_id, category_id=self.cat_paghe.id)
        self.assertEqual(ticket.user_id, self.cat_paghe.user_id)
        self.assertTrue(ticket.user_id)

    def test_description_is_sanitized(self):
        ticket = self._ticket(self.giulia.partner_id, description="<p>ok</p><script>alert(1)</script>")
        self.assertNotIn("<script", ticket.description)
        self.assertIn("ok", ticket.description)


class TestConcurrentNumbering(TerasoftCase):
    """Two creations in two transactions at the same time never share a number."""

    def test_concurrent_creations_get_distinct_numbers(self):
        registry = Registry(self.env.cr.dbname)
        category_id = self.cat_paghe.id
        barrier = threading.Barrier(2)
        numbers, errors = [], []

        def create_one():
            try:
                with registry.cursor() as cr:
                    from odoo.api import SUPERUSER_ID, Environment

                    env = Environment(cr, SUPERUSER_ID, {})
                    barrier.wait(timeout=10)
                    ticket = env["terasoft.ticket"].create({"name": "concurrent", "category_id": category_id})
                    numbers.append(ticket.number)
                    cr.rollback()  # leave the shared test database as it was
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=create_one) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        self.assertFalse(errors)
        self.assertEqual(len(set(numbers)), 2, numbers)


class TestCategory(TerasoftCase):
    def test_complete_name_follows_hierarchy(self):
        Category = self.env["terasoft.ticket.category"]
        parent = Category.create({"name": "Presenze X"})
        child = Category.create({"name": "Project", "parent_id": parent.id})
        self.assertEqual(child.complete_name, "Presenze X / Project")
        parent.name = "Presenze Y"
        self.assertEqual(child.complete_name, "Presenze Y / Project")

    def test_category_cannot_be_its_own_ancestor(self):
        with self.assertRaises(UserError):
            self.cat_presenze.parent_id = self.cat_project
            self.cat_presenze.flush_recordset()

    def test_demo_subcategory(self):
        self.assertEqual(self.cat_project.complete_name, "Presenze / Project")
