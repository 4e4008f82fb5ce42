"""A lost database connection (PostgreSQL restarting) during a portal request: served again when
nothing was committed, an honest 503 otherwise (terasoft_portal/db_outage.py).

PostgreSQL is not restarted here (``make reliability`` does that): the errors psycopg2 raises
when it goes away are raised by patched code at the points where a restart hits a request.
"""
import logging
import time
from unittest.mock import patch

import psycopg2
import psycopg2.errors

import odoo.http
from odoo import http, sql_db
from odoo.tools import mute_logger

from odoo.modules.module import Manifest

from odoo.addons import terasoft_portal
from odoo.addons.terasoft_portal import db_outage

from .common import TerasoftCase, TerasoftHttpCase

DEMO_PASSWORD = "demo"
OUTAGE_LOGGER = "odoo.addons.terasoft_portal.db_outage"
QUIET = ("odoo.http", "odoo.sql_db", "odoo.addons.http_routing.models.ir_http")


def server_gone():
    """What psycopg2 raises when PostgreSQL closed the connection under a query."""
    return psycopg2.OperationalError("server closed the connection unexpectedly")


class _FakeCursor:
    """Enough of a cursor for ``sql_db.Cursor.commit`` to fail in its first step."""

    def flush(self):
        raise server_gone()


class TestConnectionLossClassification(TerasoftCase):

    def test_dead_connection_errors_are_connection_losses(self):
        self.assertTrue(db_outage.is_connection_lost(server_gone()))
        self.assertTrue(db_outage.is_connection_lost(psycopg2.InterfaceError("connection already closed")))
        registry_error = odoo.http.RegistryError("Cannot get registry")
        registry_error.__cause__ = server_gone()
        self.assertTrue(db_outage.is_connection_lost(registry_error))

    def test_other_database_errors_are_not(self):
        # Odoo retries serialization failures itself; a dropped database is not an outage
        self.assertFalse(db_outage.is_connection_lost(psycopg2.errors.SerializationFailure("concurrent update")))
        self.assertFalse(db_outage.is_connection_lost(psycopg2.errors.LockNotAvailable("lock")))
        registry_error = odoo.http.RegistryError("Cannot get registry")
        registry_error.__cause__ = psycopg2.ProgrammingError("relation does not exist")
        self.assertFalse(db_outage.is_connection_lost(registry_error))
        self.assertFalse(db_outage.is_connection_lost(ValueError("x")))

    def test_error_in_commit_reached_commit(self):
        try:
            sql_db.Cursor.commit(_FakeCursor())
        except psycopg2.OperationalError as exc:  # not assertRaises: it drops the traceback
            self.assertTrue(db_outage.reached_commit(exc))
        else:
            self.fail("commit did not fail")

    def test_error_before_commit_did_not(self):
        try:
            raise server_gone()
        except psycopg2.OperationalError as exc:
            self.assertFalse(db_outage.reached_commit(exc))

    def test_error_raised_while_handling_a_commit_failure_reached_commit(self):
        # e.g. the rollback after a failed COMMIT fails too: the chain still went through commit
        try:
            try:
                sql_db.Cursor.commit(_FakeCursor())
            except psycopg2.OperationalError:
                raise psycopg2.InterfaceError("connection already closed")  # noqa: B904
        except psycopg2.InterfaceError as exc:
            self.assertTrue(db_outage.reached_commit(exc))

    def test_transaction_status_tells_a_committed_from_an_aborted_transaction(self):
        dbname = self.env.cr.dbname
        txids = {}
        for outcome in ("commit", "rollback"):
            with sql_db.db_connect(dbname).cursor() as cr:  # its own transaction, outside the test's
                cr.execute("SELECT txid_current()")
                txids[outcome] = cr.fetchone()[0]
                getattr(cr, outcome)()
        self.assertEqual(db_outage.transaction_status(dbname, txids["commit"]), "committed")
        self.assertEqual(db_outage.transaction_status(dbname, txids["rollback"]), "aborted")
        self.assertIsNone(db_outage.transaction_status(dbname, None))

    def test_waiting_for_a_database_that_does_not_exist_stops_at_once(self):
        # a dropped database is not an outage: Odoo's own handling applies (served without database)
        with self.assertRaises(db_outage.DatabaseGone):
            db_outage.wait_for_database("terasoft_portal_no_such_db", time.monotonic() + 60)
        self.assertIsNotNone(db_outage.wait_for_database(self.env.cr.dbname, time.monotonic() + 5))

    def test_post_load_hook_wraps_the_request_serving_once(self):
        # odoo-bin imports the module through load_openerp_module, which calls the manifest's
        # post_load (pytest may have imported it before: the HTTP tests install it themselves)
        self.assertEqual(Manifest.for_addon("terasoft_portal").get("post_load"), "post_load")
        self.assertIs(terasoft_portal.post_load, db_outage.post_load)
        db_outage.post_load()
        wrapped = odoo.http.Request._serve_db
        self.assertTrue(wrapped.terasoft_outage_wrapper)
        db_outage.post_load()
        self.assertIs(odoo.http.Request._serve_db, wrapped)


class TestRequestsDuringOutage(TerasoftHttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        db_outage.post_load()  # see test_post_load_hook_wraps_the_request_serving_once

    def setUp(self):
        super().setUp()
        self._login("en_US")

    def _login(self, lang):
        self.giulia.lang = lang
        self.env.flush_all()
        self.authenticate("giulia.bianchi@example.com", DEMO_PASSWORD)

    def _form(self, name):
        return {"name": name, "category_id": str(self.cat_paghe.id), "description": "Stampa bloccata",
                "csrf_token": http.Request.csrf_token(self)}

    def _fail_first_calls(self, model, method, count, error=server_gone, after_original=True):
        """Patch ``model.method``: its first ``count`` calls raise ``error()`` (after running
        the original, like a connection dying under the request's last queries)."""
        calls = []
        original = getattr(type(self.env[model]), method)

        def patched(records, *args, **kwargs):
            calls.append(1)
            result = original(records, *args, **kwargs) if after_original or len(calls) > count else None
            if len(calls) <= count:
                raise error()
            return result
        return patch.object(type(self.env[model]), method, patched), calls

    def test_post_whose_connection_died_before_commit_is_served_again_once(self):
        patcher, calls = self._fail_first_calls("terasoft.ticket", "_portal_create_ticket", 1)
        with patcher, mute_logger(*QUIET), self.assertLogs(OUTAGE_LOGGER, logging.WARNING) as logs:
            response = self.url_open("/my/tickets/new", data=self._form("Stampa dopo il riavvio"), files=[
                ("attachments", ("log.txt", b"contenuto del log", "text/plain"))], allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertEqual(len(calls), 2)
        ticket = self.Ticket.search([("name", "=", "Stampa dopo il riavvio")])
        self.assertEqual(len(ticket), 1, "the first attempt was rolled back, the second one committed")
        self.assertTrue(response.headers["Location"].endswith(f"/my/tickets/{ticket.id}"))
        attachment = ticket.sudo()._portal_attachments()
        self.assertEqual(attachment.raw, b"contenuto del log", "the upload was read again from its start")
        self.assertIn("serving the request again (1/2)", logs.output[0])

    def test_request_that_cannot_open_its_cursor_waits_for_the_database(self):
        registry = self.env.registry
        calls = []

        def check_signaling(cr=None):
            calls.append(1)
            if len(calls) == 1:
                raise server_gone()  # PostgreSQL is restarting when the request starts
            return registry
        with patch.object(registry, "check_signaling", check_signaling), mute_logger(*QUIET), \
                self.assertLogs(OUTAGE_LOGGER, logging.WARNING):
            response = self.url_open("/my/tickets")
        # Odoo alone answers 404 ("served without database") and logs the session out
        self.assertGreaterEqual(len(calls), 2, "served again after the failed start")
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("/web/login", response.url)
        self.assertNotIn("/web/login", self.url_open("/my/tickets").url, "still logged in")

    def test_database_still_down_answers_503_with_retry_after(self):
        patcher, calls = self._fail_first_calls("terasoft.ticket", "_portal_create_ticket", 1)
        with patcher, patch.object(db_outage, "wait_for_database", return_value=None), mute_logger(*QUIET), \
                self.assertLogs(OUTAGE_LOGGER, logging.WARNING):
            response = self.url_open("/my/tickets/new", data=self._form("Stampa mai salvata"), allow_redirects=False)
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.headers["Retry-After"], str(db_outage.RETRY_AFTER))
        self.assertIn("briefly unavailable", response.text)
        self.assertFalse(self.Ticket.search([("name", "=", "Stampa mai salvata")]))

    def test_503_page_speaks_the_user_language(self):
        self._login("it_IT")
        patcher, calls = self._fail_first_calls("terasoft.ticket", "_portal_create_ticket", 1)
        with patcher, patch.object(db_outage, "wait_for_database", return_value=None), mute_logger(*QUIET), \
                mute_logger(OUTAGE_LOGGER):
            response = self.url_open("/my/tickets/new", data=self._form("Stampa"), allow_redirects=False)
        self.assertEqual(response.status_code, 503)
        self.assertIn('lang="it"', response.text)
        self.assertIn("momentaneamente non disponibile", response.text)

    def test_connection_lost_on_every_attempt_gives_up_with_503(self):
        patcher, calls = self._fail_first_calls("terasoft.ticket", "_portal_create_ticket", 10)
        with patcher, mute_logger(*QUIET), mute_logger(OUTAGE_LOGGER):
            response = self.url_open("/my/tickets/new", data=self._form("Stampa"), allow_redirects=False)
        self.assertEqual(response.status_code, 503)
        self.assertEqual(len(calls), 1 + db_outage.MAX_RETRIES)

    def _lose_connection_in_commit(self):
        """Patch the ticket creation: its request's connection is lost in COMMIT."""
        calls = []
        original = type(self.env["terasoft.ticket"])._portal_create_ticket

        def create_then_lose_connection_in_commit(records, *args, **kwargs):
            calls.append(1)
            cr = records.env.cr
            if len(calls) == 1:
                flushes = []

                def flush():  # retrying flushes once (pre-commit hooks), then commit() again: fail there
                    flushes.append(1)
                    if len(flushes) == 2:
                        raise server_gone()
                    return type(cr).flush(cr)
                cr.flush = flush
            return original(records, *args, **kwargs)
        return patch.object(type(self.env["terasoft.ticket"]), "_portal_create_ticket",
                            create_then_lose_connection_in_commit), calls

    def test_post_whose_commit_fate_is_unknown_is_not_served_again(self):
        # the COMMIT may have been applied: serving the post again could create the ticket twice
        # (here its transaction, inside the test's, is still 'in progress' for PostgreSQL)
        patcher, calls = self._lose_connection_in_commit()
        with patcher, mute_logger(*QUIET):
            response = self.url_open("/my/tickets/new", data=self._form("Stampa forse salvata"), allow_redirects=False)
        self.assertEqual(len(calls), 1)
        self.assertEqual(response.status_code, 503)
        self.assertIn("Check whether it was saved", response.text)

    def test_post_whose_commit_was_applied_gets_its_answer(self):
        patcher, calls = self._lose_connection_in_commit()
        statuses = []

        def committed(dbname, txid):
            statuses.append(txid)
            return "committed"
        with patcher, patch.object(db_outage, "transaction_status", committed), mute_logger(*QUIET), \
                self.assertLogs(OUTAGE_LOGGER, logging.WARNING) as logs:
            response = self.url_open("/my/tickets/new", data=self._form("Stampa salvata"), allow_redirects=False)
        self.assertEqual(len(calls), 1, "not served twice")
        self.assertTrue(statuses[0], "the transaction id was read before COMMIT")
        self.assertEqual(response.status_code, 303, "the answer prepared before COMMIT")
        self.assertIn("/my/tickets/", response.headers["Location"])
        self.assertIn("which was applied", logs.output[0])

    def test_post_whose_commit_was_aborted_is_served_again(self):
        patcher, calls = self._lose_connection_in_commit()
        with patcher, patch.object(db_outage, "transaction_status", return_value="aborted"), \
                mute_logger(*QUIET), mute_logger(OUTAGE_LOGGER):
            response = self.url_open("/my/tickets/new", data=self._form("Stampa annullata"), allow_redirects=False)
        self.assertEqual(len(calls), 2)
        self.assertEqual(response.status_code, 303)
        self.assertEqual(len(self.Ticket.search([("name", "=", "Stampa annullata")])), 1)

    def test_other_database_errors_keep_odoo_handling(self):
        patcher, calls = self._fail_first_calls(
            "terasoft.ticket", "_portal_create_ticket", 10,
            error=lambda: psycopg2.errors.ProgrammingError("syntax error"))
        with patcher, mute_logger(*QUIET):
            response = self.url_open("/my/tickets/new", data=self._form("Stampa"), allow_redirects=False)
        self.assertEqual(len(calls), 1)
        self.assertEqual(response.status_code, 500)
