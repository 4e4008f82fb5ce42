"""Issue 10: the state of a ticket changes only through `_apply_move`, whatever a caller sends
over RPC (context keys, values, keyword arguments), as a support user with XML-RPC and JSON-2."""

import json
from datetime import datetime, timedelta
from xmlrpc.client import Fault

from odoo.exceptions import AccessError, UserError
from odoo.tests import get_db_name
from odoo.tools import mute_logger

from .common import TerasoftCase, TerasoftHttpCase

DEMO_PASSWORD = "demo"
# Every context a caller might try: the key _apply_move uses, with any JSON value, and the
# keys that silence or bypass other checks elsewhere in Odoo.
HOSTILE_CONTEXTS = [
    {"terasoft_ticket_move": "reopen"},
    {"terasoft_ticket_move": "customer_reply"},
    {"terasoft_ticket_move": True},
    {"terasoft_ticket_move": 1},
    {"terasoft_ticket_move": ["reopen"]},
    {"terasoft_ticket_move": {"move": "reopen"}},
    {"install_mode": True, "module": "terasoft_portal"},
    {"tracking_disable": True, "mail_notrack": True},
    {"import_file": True},
    {"active_test": False, "bin_size": True},
    {"sudo": True, "su": True},
]


class TestStateGuardModel(TerasoftCase):
    """The same rules in Python, as a support user (no RPC)."""

    def setUp(self):
        super().setUp()
        self.ticket = self._ticket(self.giulia.partner_id, ticket_type="defect")
        self.ticket.action_take_in_charge()
        self.ticket.action_discard(reason="duplicate")
        self.as_support = self.ticket.with_user(self.support)

    def test_state_write_refused_with_any_context_value(self):
        for context in HOSTILE_CONTEXTS:
            with self.subTest(context=context), self.assertRaises(UserError):
                self.as_support.with_context(**context).write({"state": "waiting_support"})
        self.assertEqual(self.ticket.state, "discarded")
        self.assertEqual(self.ticket.state_log_ids.mapped("move"), ["discard", "take_in_charge"])

    def test_workflow_fields_refused_for_staff(self):
        for vals in (
            {"state_before_block": "closed"},
            {"date_closed": datetime(2026, 1, 1)},
            {"date_taken": False},
            {"sla_status": "met"},
            {"date_last_customer_message": False},
            {"autoclose_reminder_sent": True},
            {"first_response_hours": 0.5},
            {"resolution_hours": 1.0},
            {"reopen_count": 0},
        ):
            with self.subTest(vals=vals), self.assertRaises(UserError):
                self.as_support.with_context(terasoft_ticket_move="reopen").write(vals)
        self.as_support.write({"priority": "2"})  # the other fields stay editable
        self.assertEqual(self.ticket.priority, "2")

    def test_create_starts_open(self):
        Ticket = self.Ticket.with_user(self.support)
        values = {"name": "x", "category_id": self.cat_paghe.id, "partner_id": self.giulia.partner_id.id}
        for extra in (
            {"state": "closed"},
            {"state": "waiting_support"},
            {"state_before_block": "closed"},
            {"date_resolved": datetime(2026, 1, 1)},
        ):
            with self.subTest(extra=extra), self.assertRaises(UserError):
                Ticket.create(dict(values, **extra))
        # the form's empty values and an explicit "new" are fine; the context's defaults are ignored
        ticket = Ticket.with_context(default_state="closed", default_date_closed="2026-01-01 10:00:00").create(
            dict(values, state="new", date_taken=False)
        )
        self.assertRecordValues(ticket, [{"state": "new", "date_closed": False}])

    def test_copy_cannot_carry_a_state(self):
        with self.assertRaises(UserError):
            self.as_support.copy({"state": "closed"})
        copy = self.as_support.copy()
        self.assertRecordValues(copy, [{"state": "new", "date_taken": False, "date_discarded": False}])

    def test_moves_still_work_and_manager_moves_stay_manager_only(self):
        with self.assertRaises(AccessError):  # reopening is the manager's
            self.as_support.action_reopen()
        self.ticket.with_user(self.manager).action_reopen()
        self.assertEqual(self.ticket.state, "waiting_support")
        self.assertEqual(self.ticket.state_log_ids[0].move, "reopen")


class TestStateGuardRpc(TerasoftHttpCase):
    """Over XML-RPC and JSON-2, as the demo support user (supporto@example.com)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ticket = cls._ticket(cls.giulia.partner_id, ticket_type="clarification")
        cls.ticket.action_take_in_charge()
        cls.ticket.action_resolve(solution="<p>Fixed</p>")
        cls.ticket._apply_move("autoclose")
        key = (
            cls.env["res.users.apikeys"]
            .with_user(cls.support)
            ._generate(scope="rpc", name="test", expiration_date=datetime.now() + timedelta(days=1))
        )
        cls.bearer = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def setUp(self):
        super().setUp()
        self.db = get_db_name()
        self.uid = self.xmlrpc_common.authenticate(self.db, self.support.login, DEMO_PASSWORD, {})
        self.assertTrue(self.uid)

    def _xmlrpc(self, method, args, **kwargs):
        return self.xmlrpc_object.execute_kw(self.db, self.uid, DEMO_PASSWORD, "terasoft.ticket", method, args, kwargs)

    def _json2(self, method, **params):
        return self.url_open(f"/json/2/terasoft.ticket/{method}", data=json.dumps(params), headers=self.bearer)

    def _assert_unchanged(self):
        self.ticket.invalidate_recordset()
        self.assertEqual(self.ticket.state, "closed")
        self.assertEqual(self.ticket.state_log_ids.mapped("move"), ["autoclose", "resolve", "take_in_charge"])

    @mute_logger("odoo.http", "odoo.addons.rpc.controllers.xmlrpc")
    def test_xmlrpc_write_of_state_refused_with_every_context(self):
        for context in HOSTILE_CONTEXTS:
            for method, args in (
                ("write", [[self.ticket.id], {"state": "waiting_support"}]),
                ("web_save", [[self.ticket.id], {"state": "waiting_support"}, {}]),
            ):
                with self.subTest(context=context, method=method), self.assertRaises(Fault) as caught:
                    self._xmlrpc(method, args, context=context)
                self.assertIn("workflow actions", caught.exception.faultString)
        self._assert_unchanged()

    @mute_logger("odoo.http", "odoo.addons.rpc.controllers.xmlrpc")
    def test_xmlrpc_workflow_fields_create_and_copy_refused(self):
        context = {"terasoft_ticket_move": "reopen"}
        calls = [
            ("write", [[self.ticket.id], {"state_before_block": "waiting_support"}]),
            ("write", [[self.ticket.id], {"date_closed": False}]),
            ("create", [{"name": "Forged", "category_id": self.cat_paghe.id, "state": "closed"}]),
            ("create", [{"name": "Forged", "category_id": self.cat_paghe.id, "date_closed": "2026-01-01 10:00:00"}]),
            ("copy", [[self.ticket.id]], {"default": {"state": "waiting_support"}}),
            ("_apply_move", [[self.ticket.id], "reopen"]),  # private: not callable by RPC
        ]
        for method, args, *kwargs in calls:
            with self.subTest(method=method, args=args), self.assertRaises(Fault):
                self._xmlrpc(method, args, context=context, **(kwargs[0] if kwargs else {}))
        self._assert_unchanged()
        self.assertFalse(self.Ticket.search([("name", "=", "Forged")]))

    @mute_logger("odoo.http", "odoo.addons.rpc.controllers.xmlrpc")
    def test_xmlrpc_manager_move_stays_manager_only(self):
        with self.assertRaises(Fault) as caught:
            self._xmlrpc("action_reopen", [[self.ticket.id]], context={"terasoft_ticket_move": "reopen"})
        self.assertIn("not allowed", caught.exception.faultString)
        self._assert_unchanged()
        manager_uid = self.xmlrpc_common.authenticate(self.db, self.manager.login, DEMO_PASSWORD, {})
        self.xmlrpc_object.execute_kw(
            self.db, manager_uid, DEMO_PASSWORD, "terasoft.ticket", "action_reopen", [[self.ticket.id]]
        )
        self.ticket.invalidate_recordset()
        self.assertEqual(self.ticket.state, "waiting_support")
        self.assertEqual(self.ticket.state_log_ids[0].move, "reopen")

    @mute_logger("odoo.http")
    def test_json2_write_of_state_refused_with_every_context(self):
        for context in HOSTILE_CONTEXTS:
            with self.subTest(context=context):
                response = self._json2(
                    "write", ids=[self.ticket.id], vals={"state": "waiting_support"}, context=context
                )
                self.assertNotEqual(response.status_code, 200, response.text)
                self.assertIn("workflow actions", response.json()["message"])
        response = self._json2(
            "create",
            vals_list=[{"name": "Forged", "category_id": self.cat_paghe.id, "state": "closed"}],
            context=HOSTILE_CONTEXTS[0],
        )
        self.assertNotEqual(response.status_code, 200, response.text)
        self._assert_unchanged()
        # the public moves work over JSON-2 for what the support user may do
        response = self._json2("read", ids=[self.ticket.id], fields=["state"])
        self.assertEqual(response.json(), [{"id": self.ticket.id, "state": "closed"}])
