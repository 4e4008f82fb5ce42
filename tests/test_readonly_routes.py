"""Replica-ready routes: the portal pages that only read are ``readonly=True`` and write nothing.

Odoo 19 serves a ``readonly`` route on a cursor of the read replica (``--db_replica_host``); when
the route writes anyway, PostgreSQL refuses (``ReadOnlySqlTransaction``) and ``_serve_db`` logs
"..., retrying with a read/write cursor" and serves the request again on the primary: correct
but twice the work, silently. Tests run like ``--dev replica`` does in a server: the registry
opens readonly cursors (``Registry.__init__``: ``test_enable`` or ``'replica' in dev_mode``) and
the test cursor runs ``SET TRANSACTION READ ONLY`` for them (odoo/tests/test_cursor.py). Each
route below is fetched under ``_assert_served_readonly``, which fails on that retry, and
``test_detector_catches_a_write`` proves the check fails when a readonly route writes.
"""

import logging
import threading
from contextlib import contextmanager
from unittest.mock import patch

from odoo import http as odoo_http

from odoo.addons.terasoft_portal.controllers.contacts import ContactsPortal

from .common import TerasoftHttpCase

http_logger = odoo_http._logger

RETRY_MARK = "read-only transaction"


class ReadonlyRouteCase(TerasoftHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.faq_category = cls.env["terasoft.faq.category"].create(
            {"name": "Replica FAQ", "ticket_category_id": cls.cat_paghe.id}
        )
        cls.faq = cls.env["terasoft.faq"].create(
            {
                "name": "Il cedolino replica non quadra",
                "answer": "<p>Controlla il cedolino del mese.</p>",
                "category_id": cls.faq_category.id,
                "is_published": True,
            }
        )
        cls.faq_attachment = cls.env["ir.attachment"].create(
            {"name": "guida.txt", "raw": b"guida", "res_model": "terasoft.faq", "res_id": cls.faq.id}
        )
        cls.faq.attachment_ids = [(4, cls.faq_attachment.id)]
        cls.document = cls.env.ref("terasoft_portal.document_manuale_paghe_demo")
        cls.ticket = cls._ticket(cls.giulia.partner_id, name="Cedolino replica")

    def _routing(self, url):
        """The routing dict of the endpoint serving ``url`` (GET)."""
        thread = threading.current_thread()
        with patch.object(thread, "dbname", self.env.cr.dbname, create=True):  # as a request's thread has
            adapter = self.env["ir.http"].routing_map().bind("localhost")
        endpoint, _args = adapter.match(url.split("?")[0], method="GET")
        return endpoint.routing

    @contextmanager
    def _assert_served_readonly(self, url):
        """Fail when a request in the block wrote inside a readonly route (Odoo's retry on the
        primary) or when ``url`` is not a readonly route."""
        self.assertIs(self._routing(url)["readonly"], True, f"{url} is not a readonly route")
        records = []
        warning = http_logger.warning

        def record_warning(msg, *args, **kwargs):
            # called whatever the level the test run gives odoo.http
            records.append(str(msg) % args if args else str(msg))
            return warning(msg, *args, **kwargs)

        # the failing statement is also logged by odoo.sql_db ("bad query"): keep it quiet, the
        # check below names the route
        with (
            patch.object(http_logger, "warning", record_warning),
            patch.object(logging.getLogger("odoo.sql_db"), "disabled", True),
        ):
            yield
        retried = [message for message in records if RETRY_MARK in message]
        self.assertFalse(retried, f"{url} wrote in a readonly route (retried on the primary): {retried}")

    def _get_readonly(self, url, status=200):
        with self._assert_served_readonly(url):
            response = self.url_open(url, allow_redirects=False)
        self.assertEqual(response.status_code, status, f"{url}: {response.text[:3000]}")
        return response


class TestReadonlyRoutes(ReadonlyRouteCase):
    def test_faq_pages_are_readonly_and_write_nothing(self):
        self.authenticate("giulia.bianchi@example.com", "demo")
        self.assertIn("Il cedolino replica", self._get_readonly("/my/faq").text)
        self._get_readonly("/my/faq/page/1")
        self.assertIn(f"/my/faq/{self.faq.id}", self._get_readonly("/my/faq?search=cedolino+replica").text)
        self._get_readonly(f"/my/faq?category_id={self.faq_category.id}")
        self.assertIn("Controlla il cedolino", self._get_readonly(f"/my/faq/{self.faq.id}").text)
        self._get_readonly("/my/faq/999999", status=404)

    def test_faq_attachments_are_listed_and_downloaded_readonly(self):
        self.authenticate("giulia.bianchi@example.com", "demo")
        url = f"/my/faq/{self.faq.id}/attachment/{self.faq_attachment.id}"
        self.assertIn(url, self._get_readonly(f"/my/faq/{self.faq.id}").text)
        self.assertEqual(self._get_readonly(url).content, b"guida")

    def test_documents_contacts_company_are_readonly(self):
        self.authenticate("giulia.bianchi@example.com", "demo")
        self._get_readonly("/my/documents")
        self._get_readonly("/my/documents?search=paghe&category=manual")
        contacts = self._get_readonly("/my/contacts")
        self.assertIn("Giulia", contacts.text)
        self._get_readonly(f"/my/contacts/{self.giulia.partner_id.id}")
        self._get_readonly("/my/company")
        self._get_readonly(f"/my/contacts/{self.luca.partner_id.id}", status=404)  # other customer

    def test_export_counters_and_suggest_are_readonly(self):
        self.authenticate("giulia.bianchi@example.com", "demo")
        self.assertIn("Cedolino replica", self._get_readonly("/my/tickets/export/csv").text)
        with self._assert_served_readonly("/my/counters"):
            counters = self.make_jsonrpc_request("/my/counters", {"counters": ["ticket_count", "faq_count"]})
        self.assertIn("ticket_count", counters)
        with self._assert_served_readonly("/my/tickets/faq_suggest"):
            self.make_jsonrpc_request("/my/tickets/faq_suggest", {"term": "cedolino replica"})

    def test_read_your_writes_pages_stay_read_write(self):
        """The ticket list and page are served by the primary: a customer who just created a
        ticket is redirected to its page, then opens the list; a lagging standby would miss it.
        The document download counts downloads (an UPDATE): read/write too."""
        for url in (
            "/my/tickets",
            "/my/tickets/page/2",
            f"/my/tickets/{self.ticket.id}",
            "/my/tickets/new",
            f"/my/documents/{self.document.id}/download",
        ):
            self.assertIs(self._routing(url)["readonly"], False, url)

    def test_detector_catches_a_write(self):
        """A write inside a readonly route fails the check above (the same check as every test
        of this file): here the contacts page is made to write the partner it shows."""
        self.authenticate("giulia.bianchi@example.com", "demo")
        original = ContactsPortal._partner_blocks

        def writing_blocks(controller, partner_sudo, blocks):
            partner_sudo.env.cr.execute("UPDATE res_partner SET write_date = now() WHERE id = %s", [partner_sudo.id])
            return original(controller, partner_sudo, blocks)

        with patch.object(ContactsPortal, "_partner_blocks", writing_blocks):
            with self.assertRaisesRegex(AssertionError, "wrote in a readonly route"):
                self._get_readonly("/my/company")

    def test_faq_attachment_of_another_record_is_404(self):
        other = self.env["ir.attachment"].create(
            {"name": "x.txt", "raw": b"x", "res_model": "res.partner", "res_id": self.giulia.partner_id.id}
        )
        self.authenticate("giulia.bianchi@example.com", "demo")
        self._get_readonly(f"/my/faq/{self.faq.id}/attachment/{other.id}", status=404)
