"""A lost database connection (PostgreSQL restarting) during a request: served again when nothing
was committed, an honest 503 otherwise (terasoft_db_outage/db_outage.py).

PostgreSQL is not restarted here (``make reliability`` does that): the errors psycopg2 raises
when it goes away are raised by patched code at the points where a restart hits a request.
The requests are logins (``POST /web/login`` writes the login date and log): this addon depends
on ``web`` only.
"""

import hashlib
import inspect
import logging
import time
from unittest.mock import patch

import psycopg2
import psycopg2.errors

from odoo import http, sql_db
from odoo.modules.module import Manifest
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons import terasoft_db_outage
from odoo.addons.terasoft_db_outage import db_outage

OUTAGE_LOGGER = "odoo.addons.terasoft_db_outage.db_outage"
QUIET = ("odoo.http", "odoo.sql_db", "odoo.addons.http_routing.models.ir_http")
LOGIN, PASSWORD = "outage.user", "Outage-Password-1"


def server_gone():
    """What psycopg2 raises when PostgreSQL closed the connection under a query."""
    return psycopg2.OperationalError("server closed the connection unexpectedly")


class _FakeCursor:
    """Enough of a cursor for ``sql_db.Cursor.commit`` to fail in its first step."""

    def flush(self):
        raise server_gone()


@tagged("post_install", "-at_install")
class TestOdooInternals(TransactionCase):
    """The Odoo internals the request replay relies on: these tests fail when they change shape."""

    def test_serve_db_source_is_the_reviewed_one(self):
        serve_db = getattr(http.Request._serve_db, "terasoft_wrapped", http.Request._serve_db)
        self.assertEqual(
            db_outage._source_sha256(serve_db),
            db_outage.SERVE_DB_SOURCE_SHA256,
            "odoo.http.Request._serve_db changed: review serve_db_through_outages, then update the hash",
        )

    def test_internals_have_the_expected_shape(self):
        serve_db = getattr(http.Request._serve_db, "terasoft_wrapped", http.Request._serve_db)
        self.assertEqual(db_outage.check_odoo_internals(serve_db), [])

    def test_post_load_leaves_odoo_alone_when_it_changed(self):
        original = http.Request._serve_db
        with (
            patch.object(db_outage, "check_odoo_internals", return_value=["changed"]),
            patch.object(http.Request, "_serve_db", getattr(original, "terasoft_wrapped", original)),
            mute_logger(OUTAGE_LOGGER),
        ):
            db_outage.post_load()
            self.assertFalse(getattr(http.Request._serve_db, "terasoft_outage_wrapper", False))

    def test_post_load_hook_wraps_the_request_serving_once(self):
        # odoo-bin imports the module through load_openerp_module, which calls the manifest's
        # post_load (pytest may have imported it before: the HTTP tests install it themselves)
        self.assertEqual(Manifest.for_addon("terasoft_db_outage").get("post_load"), "post_load")
        self.assertIs(terasoft_db_outage.post_load, db_outage.post_load)
        db_outage.post_load()
        wrapped = http.Request._serve_db
        self.assertTrue(wrapped.terasoft_outage_wrapper)
        db_outage.post_load()
        self.assertIs(http.Request._serve_db, wrapped)

    def test_only_databases_with_the_addon_installed(self):
        self.assertTrue(db_outage._enabled_for(self.env.cr.dbname))
        self.assertFalse(db_outage._enabled_for("terasoft_no_such_db"))
        self.assertFalse(db_outage._enabled_for(None))


@tagged("post_install", "-at_install")
class TestConnectionLossClassification(TransactionCase):
    def test_dead_connection_errors_are_connection_losses(self):
        self.assertTrue(db_outage.is_connection_lost(server_gone()))
        self.assertTrue(db_outage.is_connection_lost(psycopg2.InterfaceError("connection already closed")))
        registry_error = http.RegistryError("Cannot get registry")
        registry_error.__cause__ = server_gone()
        self.assertTrue(db_outage.is_connection_lost(registry_error))

    def test_other_database_errors_are_not(self):
        # Odoo retries serialization failures itself; a dropped database is not an outage
        self.assertFalse(db_outage.is_connection_lost(psycopg2.errors.SerializationFailure("concurrent update")))
        self.assertFalse(db_outage.is_connection_lost(psycopg2.errors.LockNotAvailable("lock")))
        registry_error = http.RegistryError("Cannot get registry")
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
                cr.execute("SELECT txid_current_if_assigned()")
                self.assertIsNone(cr.fetchone()[0], "no id before the transaction writes")
                cr.execute("CREATE TEMPORARY TABLE terasoft_outage_probe (x int) ON COMMIT DROP")
                cr.execute("SELECT txid_current_if_assigned()")
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

    def test_connections_have_a_connect_timeout(self):
        with patch.object(
            psycopg2, "connect", side_effect=lambda **kw: (_ for _ in ()).throw(server_gone())
        ) as connect:
            self.assertIsNone(db_outage.transaction_status(self.env.cr.dbname, 42))
        self.assertEqual(connect.call_args.kwargs["connect_timeout"], db_outage.CONNECT_TIMEOUT)


@tagged("post_install", "-at_install")
class TestRequestsDuringOutage(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        db_outage.post_load()  # see test_post_load_hook_wraps_the_request_serving_once
        cls.user = new_test_user(cls.env, login=LOGIN, password=PASSWORD, groups="base.group_user", lang="en_US")

    def setUp(self):
        super().setUp()
        self.addCleanup(lambda: getattr(self.registry, "_login_failures", {}).clear())

    def _login(self, headers=None, lang="en_US"):
        self.authenticate(None, None)
        self.session.context["lang"] = lang  # what the 503 page speaks
        http.root.session_store.save(self.session)
        return self.url_open(
            "/web/login",
            headers=headers,
            allow_redirects=False,
            data={
                "login": LOGIN,
                "password": PASSWORD,
                "redirect": "/odoo",
                "csrf_token": http.Request.csrf_token(self),
            },
        )

    def _logins(self):
        return self.env["res.users.log"].search_count([("create_uid", "=", self.user.id)])

    def _fail_first_calls(self, count, error=server_gone):
        """Patch the login's write (``res.users._update_last_login``): its first ``count`` calls
        raise ``error()`` after writing, like a connection dying under the request's last queries."""
        calls = []
        model = type(self.env["res.users"])
        original = model._update_last_login

        def patched(records, *args, **kwargs):
            calls.append(1)
            result = original(records, *args, **kwargs)
            if len(calls) <= count:
                raise error()
            return result

        return patch.object(model, "_update_last_login", patched), calls

    def test_post_whose_connection_died_before_commit_is_served_again_once(self):
        patcher, calls = self._fail_first_calls(1)
        with patcher, mute_logger(*QUIET), self.assertLogs(OUTAGE_LOGGER, logging.WARNING) as logs:
            response = self._login()
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith("/odoo"))
        self.assertEqual(len(calls), 2)
        self.assertEqual(self._logins(), 1, "the first attempt was rolled back, the second one committed")
        self.assertIn("serving the request again (1/2)", logs.output[0])
        self.assertEqual(
            self.url_open(
                "/web/session/get_session_info", data="{}", headers={"Content-Type": "application/json"}
            ).json()["result"]["uid"],
            self.user.id,
            "logged in",
        )

    def test_each_attempt_starts_from_the_request_odoo_built(self):
        # issue 12: a replayed request kept the attributes routing set (http_routing's _match
        # returns early when ``is_frontend`` is set) and lost ``request.lang``: 500
        ir_http = type(self.env["ir.http"])
        original = ir_http._match.__func__
        seen = []

        def match(cls, path):
            request = http.request
            seen.append((hasattr(request, "is_frontend"), hasattr(request, "terasoft_probe"), request.httprequest.path))
            if len(seen) == 1:
                request.is_frontend = True
                request.terasoft_probe = True
                request.reroute("/somewhere/else")
                raise server_gone()
            return original(cls, path)

        with (
            patch.object(ir_http, "_match", classmethod(match)),
            mute_logger(*QUIET),
            self.assertLogs(OUTAGE_LOGGER, logging.WARNING),
        ):
            response = self.url_open("/web/login")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(seen), 2)
        self.assertEqual(seen[1], (False, False, "/web/login"))

    def test_request_that_cannot_open_its_cursor_waits_for_the_database(self):
        self.authenticate(LOGIN, PASSWORD)
        registry = self.env.registry
        calls = []

        def check_signaling(cr=None):
            calls.append(1)
            if len(calls) == 1:
                raise server_gone()  # PostgreSQL is restarting when the request starts
            return registry

        with (
            patch.object(registry, "check_signaling", check_signaling),
            mute_logger(*QUIET),
            self.assertLogs(OUTAGE_LOGGER, logging.WARNING),
        ):
            response = self.url_open("/odoo", allow_redirects=False)
        # Odoo alone answers "served without database" and logs the session out
        self.assertGreaterEqual(len(calls), 2, "served again after the failed start")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.url_open("/odoo", allow_redirects=False).status_code, 200, "still logged in")

    def test_database_still_down_answers_503_with_retry_after(self):
        patcher, calls = self._fail_first_calls(1)
        with (
            patcher,
            patch.object(db_outage, "wait_for_database", return_value=None),
            mute_logger(*QUIET),
            self.assertLogs(OUTAGE_LOGGER, logging.WARNING),
        ):
            response = self._login()
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.headers["Retry-After"], str(db_outage.RETRY_AFTER))
        self.assertIn("briefly unavailable", response.text)
        self.assertEqual(self._logins(), 0)

    def test_503_page_speaks_the_user_language(self):
        if not self.env["res.lang"]._get_data(code="it_IT").active:
            self.env["res.lang"]._activate_lang("it_IT")
            self.env["ir.module.module"].search([("name", "=", "terasoft_db_outage")])._update_translations("it_IT")
        patcher, calls = self._fail_first_calls(1)
        with (
            patcher,
            patch.object(db_outage, "wait_for_database", return_value=None),
            mute_logger(*QUIET),
            mute_logger(OUTAGE_LOGGER),
        ):
            response = self._login(lang="it_IT")
        self.assertEqual(response.status_code, 503)
        self.assertIn('lang="it"', response.text)
        self.assertIn("momentaneamente non disponibile", response.text)

    def test_connection_lost_on_every_attempt_gives_up_with_503(self):
        patcher, calls = self._fail_first_calls(10)
        with patcher, mute_logger(*QUIET), mute_logger(OUTAGE_LOGGER):
            response = self._login()
        self.assertEqual(response.status_code, 503)
        self.assertEqual(len(calls), 1 + db_outage.MAX_RETRIES)

    def _lose_connection_in_commit(self):
        """Patch the login's write: its request's connection is lost in COMMIT."""
        calls = []
        model = type(self.env["res.users"])
        original = model._update_last_login

        def write_then_lose_connection_in_commit(records, *args, **kwargs):
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

        return patch.object(model, "_update_last_login", write_then_lose_connection_in_commit), calls

    def test_post_whose_commit_fate_is_unknown_is_not_served_again(self):
        # the COMMIT may have been applied: serving the post again could write twice
        # (here its transaction, inside the test's, is still 'in progress' for PostgreSQL)
        patcher, calls = self._lose_connection_in_commit()
        with patcher, mute_logger(*QUIET):
            response = self._login()
        self.assertEqual(len(calls), 1)
        self.assertEqual(response.status_code, 503)
        self.assertIn("Check whether it was saved", response.text)

    def test_post_whose_commit_was_applied_gets_its_answer(self):
        patcher, calls = self._lose_connection_in_commit()
        statuses = []

        def committed(dbname, txid):
            statuses.append(txid)
            return "committed"

        with (
            patcher,
            patch.object(db_outage, "transaction_status", committed),
            mute_logger(*QUIET),
            self.assertLogs(OUTAGE_LOGGER, logging.WARNING) as logs,
        ):
            response = self._login()
        self.assertEqual(len(calls), 1, "not served twice")
        self.assertTrue(statuses[0], "the transaction id was read before COMMIT")
        self.assertEqual(response.status_code, 303, "the answer prepared before COMMIT")
        self.assertIn("which was applied", logs.output[0])

    def test_post_whose_commit_was_aborted_is_served_again(self):
        patcher, calls = self._lose_connection_in_commit()
        with (
            patcher,
            patch.object(db_outage, "transaction_status", return_value="aborted"),
            mute_logger(*QUIET),
            mute_logger(OUTAGE_LOGGER),
        ):
            response = self._login()
        self.assertEqual(len(calls), 2)
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self._logins(), 1)

    def test_other_database_errors_keep_odoo_handling(self):
        patcher, calls = self._fail_first_calls(10, error=lambda: psycopg2.errors.ProgrammingError("syntax error"))
        with patcher, mute_logger(*QUIET):
            response = self._login()
        self.assertEqual(len(calls), 1)
        self.assertNotEqual(response.status_code, 503)

    def test_databases_without_the_addon_keep_odoo_handling(self):
        patcher, calls = self._fail_first_calls(1)
        with patcher, patch.object(db_outage, "_enabled_for", return_value=False), mute_logger(*QUIET):
            self._login()
        self.assertEqual(len(calls), 1, "not served again")


# sha256 of inspect.getsource(odoo.orm.registry.Registry.cursor) on the reviewed Odoo 19.0 tree:
# a readonly cursor that cannot be opened falls back to the primary for _REPLICA_RETRY_TIME.
REGISTRY_CURSOR_SHA256 = "0c06bcc9922d893f52e089573f1e144d7ca8a35375cb6fd1a2e54d348aa6274b"


class TestReadReplicaStopping(HttpCase):
    """The read replica (``--db_replica_host``) stopping under a readonly route (issue 14, found
    by reliability/cluster.py): Odoo 19 opens the next readonly cursors on the primary
    (``Registry.cursor``), but a request already running on the standby gets "server closed the
    connection unexpectedly" and answers 500. This addon serves it again (a request whose
    connection died before COMMIT), and the new attempt gets a cursor on the primary."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        db_outage.post_load()

    def test_registry_replica_fallback_is_the_reviewed_one(self):
        from odoo.orm import registry

        self.assertEqual(
            hashlib.sha256(inspect.getsource(registry.Registry.cursor).encode()).hexdigest(),
            REGISTRY_CURSOR_SHA256,
            "Registry.cursor changed: review the replica fallback (docs/scaling.md), then update the hash",
        )
        self.assertEqual(registry._REPLICA_RETRY_TIME, 20 * 60, "docs/scaling.md gives 20 minutes")

    def test_readonly_request_whose_replica_connection_died_is_served_again(self):
        from odoo.tests.test_cursor import TestCursor

        url = "/web/image/res.company/1/logo"  # a readonly route (web's binary controller)
        expected = self.url_open(url)
        self.assertEqual(expected.status_code, 200)
        original = TestCursor.execute
        failed = []

        def execute(cursor, *args, **kwargs):
            if cursor.readonly and not failed:
                failed.append("execute")
                raise server_gone()
            return original(cursor, *args, **kwargs)

        original_rollback = TestCursor.rollback

        def rollback(cursor):
            # service.model.retrying rolls back on the dead connection: that raises too
            if failed == ["execute"]:
                failed.append("rollback")
                raise psycopg2.InterfaceError("connection already closed")
            return original_rollback(cursor)

        with patch.object(TestCursor, "execute", execute), patch.object(TestCursor, "rollback", rollback):
            with mute_logger(*QUIET), self.assertLogs(OUTAGE_LOGGER, logging.WARNING) as logs:
                response = self.url_open(url)
        self.assertEqual(response.status_code, expected.status_code)
        self.assertEqual(response.content, expected.content)
        self.assertEqual(failed, ["execute", "rollback"])
        self.assertIn("serving the request again (1/2)", logs.output[0])
