"""The portal's SQL query count must not grow with the number of tickets (and stays within
the issue's budget of 20 per page)."""

from unittest.mock import patch

from odoo.sql_db import Cursor
from odoo.tools import SQL

from odoo.addons.http_routing.tests.common import MockRequest

from .common import TerasoftCase, TerasoftHttpCase

QUERY_BUDGET = 20


class TestPortalQueries(TerasoftHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.partner"].create({"name": "Misura S.r.l.", "is_company": True})
        cls.user = cls._portal_user("query_user", cls.company)
        cls.colleague = cls.env["res.partner"].create({"name": "Collega Misura", "parent_id": cls.company.id})

    def _add_tickets(self, count):
        """``count`` tickets, half open and half closed, from two contacts, with comments."""
        tickets = self.Ticket.create(
            [
                {
                    "name": f"Ticket {i}",
                    "partner_id": (self.user.partner_id if i % 2 else self.colleague).id,
                    "category_id": (self.cat_paghe if i % 3 else self.cat_presenze).id,
                    "product_id": self.product_paghe.id,
                    "state": "closed" if i % 2 else "waiting_support",
                }
                for i in range(count)
            ]
        )
        return tickets

    def _count_queries(self, url):
        self.url_open(url)  # warm the caches (templates, assets, session)
        before = self.cr.sql_log_count
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        count = self.cr.sql_log_count - before
        self.assertGreater(count, 0, "the request's queries must be counted")
        return count

    def test_list_query_count_does_not_grow_with_tickets(self):
        self._add_tickets(4)
        self.authenticate("query_user", "query_user")
        small = self._count_queries("/my/tickets")
        self.assertLessEqual(small, QUERY_BUDGET)
        self._add_tickets(60)
        self.url_open("/my/tickets")
        with self.assertQueryCount(small):
            self.url_open("/my/tickets")

    def test_detail_query_count_does_not_grow_with_messages(self):
        ticket = self._add_tickets(1)
        for attachment_name in ("a.zip", "b.zip"):
            self.env["ir.attachment"].create(
                {"name": attachment_name, "raw": b"x", "res_model": "terasoft.ticket", "res_id": ticket.id}
            )
        ticket.message_post(body="uno", message_type="comment", subtype_xmlid="mail.mt_comment")
        self.authenticate("query_user", "query_user")
        url = f"/my/tickets/{ticket.id}"
        small = self._count_queries(url)
        self.assertLessEqual(small, QUERY_BUDGET)
        for i in range(20):
            ticket.message_post(
                body=f"commento {i}",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                author_id=(self.colleague if i % 2 else self.support.partner_id).id,
            )
            self.env["ir.attachment"].create(
                {"name": f"f{i}.zip", "raw": b"x", "res_model": "terasoft.ticket", "res_id": ticket.id}
            )
        self.url_open(url)
        with self.assertQueryCount(small):
            self.url_open(url)

    def test_state_filter_counts_only_its_table(self):
        """A closed state has no open ticket: the open table is empty without being counted."""
        self._add_tickets(4)
        self.authenticate("query_user", "query_user")
        self.url_open("/my/tickets?filterby=closed")
        queries = []
        execute = Cursor.execute

        def spy(cr, query, params=None, log_exceptions=None):
            queries.append(query.code if isinstance(query, SQL) else query)
            return execute(cr, query, params, log_exceptions)

        with patch("odoo.sql_db.Cursor.execute", spy):
            page = self.url_open("/my/tickets?filterby=closed").text
        self.assertEqual(page.count("o_terasoft_ticket_row"), 2)
        counts = [query for query in queries if query.startswith('SELECT COUNT(*) FROM "terasoft_ticket"')]
        self.assertEqual(len(counts), 1, counts)


class TestDefaultLanguage(TerasoftCase):
    def test_portal_default_language_follows_the_setting(self):
        """The cached default language of the portal (http_routing's ir.http._get_default_lang,
        not overridden) changes with the contacts' default."""
        IrDefault = self.env["ir.default"]
        IrDefault.set("res.partner", "lang", "it_IT")
        self.assertEqual(IrDefault._get("res.partner", "lang"), "it_IT")
        with self.assertQueryCount(0):
            self.assertEqual(IrDefault._get("res.partner", "lang"), "it_IT")
        with MockRequest(self.env):
            self.assertEqual(self.env["ir.http"]._get_default_lang().code, "it_IT")
        IrDefault.set("res.partner", "lang", "en_US")
        self.assertEqual(IrDefault._get("res.partner", "lang"), "en_US")
        IrDefault.discard_values("res.partner", "lang", ["en_US"])
        self.assertIsNone(IrDefault._get("res.partner", "lang"))
