"""The whole transition matrix of issue 3, written from the issue's text (not from WORKFLOW)."""

from datetime import datetime

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user

from .common import TerasoftCase

TYPES = ("clarification", "defect", "request")
OPEN = ("new", "waiting_support", "waiting_customer", "in_progress", "planned", "waiting_development", "resolved")
STATES = OPEN + ("closed", "blocked", "discarded")
BEFORE_BLOCK = "in_progress"  # the state a blocked test ticket had before its block


def expected_target(ticket_type, state, move):
    """Where ``move`` takes a ticket of ``ticket_type`` in ``state`` per issue 3, or None."""
    dev = ticket_type in ("defect", "request")
    moves = {
        # staff moves
        "take_in_charge": {"new": "waiting_support"},
        "ask_customer": {"waiting_support": "waiting_customer"},
        "resolve": (
            {"in_progress": "resolved", "planned": "resolved", "waiting_development": "resolved"}
            if dev
            else {"waiting_support": "resolved"}
        ),
        "start_progress": (
            {"waiting_support": "in_progress", "planned": "in_progress", "waiting_development": "in_progress"}
            if dev
            else {}
        ),
        "plan": {"in_progress": "planned", "waiting_development": "planned"} if dev else {},
        "escalate_development": (
            {"waiting_support": "waiting_development", "in_progress": "waiting_development"} if dev else {}
        ),
        "discard": {state: "discarded" for state in OPEN + ("blocked",)},
        "reopen": {"closed": "waiting_support", "discarded": "waiting_support"},  # support manager
        # customer moves
        "customer_reply": {"waiting_customer": "waiting_support", "resolved": "waiting_support"},
        "customer_close": {state: "closed" for state in OPEN + ("blocked",)},
        # automatic moves
        "autoclose": {"resolved": "closed"},
        "block": {state: "blocked" for state in OPEN},
        "unblock": {"blocked": BEFORE_BLOCK},
    }
    return moves[move].get(state)


PLANNED = datetime(2026, 12, 10, 9, 0)


def perform(ticket, move):
    """Do ``move`` the way its callers do (public methods with their texts, or the engine)."""
    calls = {
        "take_in_charge": lambda: ticket.action_take_in_charge(),
        "ask_customer": lambda: ticket.action_ask_customer(message="<p>Which version?</p>"),
        "resolve": lambda: ticket.action_resolve(solution="<p>Fixed in 06.07.03</p>"),
        "start_progress": lambda: ticket.action_start_progress(message="<p>Reproduced</p>"),
        "plan": lambda: ticket.action_plan(planned_date=PLANNED, message="<p>On site on the 10th</p>"),
        "escalate_development": lambda: ticket.action_escalate_development(message="<p>To development</p>"),
        "discard": lambda: ticket.action_discard(reason="Commercial request"),
        "reopen": lambda: ticket.action_reopen(),
        "customer_close": lambda: ticket.action_customer_close(),
    }
    if move in calls:
        return calls[move]()
    return ticket._apply_move(move)  # customer reply (a message, see test_ticket_mail) and system moves


class TestTransitionMatrix(TerasoftCase):
    def _ticket_in(self, ticket_type, state):
        return self.Ticket.with_context(mail_create_nolog=True).create(
            {
                "name": f"{ticket_type} {state}",
                "category_id": self.cat_paghe.id,
                "ticket_type": ticket_type,
                "state": state,
                "user_id": False,
                "state_before_block": BEFORE_BLOCK if state == "blocked" else False,
            }
        )

    def _check_side_effects(self, ticket, move, before):
        if move == "take_in_charge":
            self.assertTrue(ticket.date_taken)
            self.assertEqual(ticket.user_id, self.cat_paghe.user_id)  # the category's assignee stays
        elif move == "resolve":
            self.assertIn("06.07.03", ticket.solution)
            self.assertTrue(ticket.date_resolved)
        elif move == "plan":
            self.assertEqual(ticket.planned_date, PLANNED)
        elif move == "discard":
            self.assertEqual(ticket.discard_reason, "Commercial request")
            self.assertTrue(ticket.date_discarded)
        elif move in ("customer_close", "autoclose"):
            self.assertTrue(ticket.date_closed)
        elif move == "block":
            self.assertEqual(ticket.state_before_block, before)
        elif move == "unblock":
            self.assertFalse(ticket.state_before_block)
        elif move == "reopen":
            self.assertFalse(ticket.date_closed)

    def test_transition_matrix(self):
        moves = (
            "take_in_charge",
            "ask_customer",
            "resolve",
            "start_progress",
            "plan",
            "escalate_development",
            "discard",
            "reopen",
            "customer_reply",
            "customer_close",
            "autoclose",
            "block",
            "unblock",
        )
        checked = legal = 0
        for ticket_type in TYPES:
            for state in STATES:
                for move in moves:
                    with self.subTest(type=ticket_type, state=state, move=move):
                        ticket = self._ticket_in(ticket_type, state)
                        target = expected_target(ticket_type, state, move)
                        fields_before = ticket.read(
                            [
                                "date_taken",
                                "date_resolved",
                                "date_closed",
                                "solution",
                                "planned_date",
                                "user_id",
                                "state_before_block",
                            ]
                        )[0]
                        if target:
                            perform(ticket, move)
                            self.assertEqual(ticket.state, target)
                            self.assertRecordValues(
                                ticket.state_log_ids, [{"from_state": state, "to_state": target, "move": move}]
                            )
                            self._check_side_effects(ticket, move, state)
                            legal += 1
                        else:
                            with self.assertRaises(UserError):
                                perform(ticket, move)
                            ticket.invalidate_recordset()
                            self.assertEqual(ticket.state, state)
                            self.assertFalse(ticket.state_log_ids)
                            self.assertEqual(ticket.read(list(fields_before))[0], fields_before)
                        checked += 1
        self.assertEqual(checked, 3 * 10 * 13)
        self.assertEqual(legal, 3 * 31 + 1 + 2 * 10)  # common to all types, clarification, defect/request

    def test_moves_are_all_or_nothing(self):
        new = self._ticket_in("defect", "new")
        closed = self._ticket_in("defect", "closed")
        with self.assertRaisesRegex(UserError, closed.number):
            (new | closed).action_take_in_charge()
        self.assertEqual(new.state, "new")
        self.assertFalse(new.state_log_ids)

    def test_state_cannot_be_written_directly(self):
        ticket = self._ticket_in("defect", "new")
        with self.assertRaises(UserError):
            ticket.state = "resolved"

    def test_buttons_follow_the_table(self):
        ticket = self._ticket_in("clarification", "waiting_support")
        self.assertRecordValues(
            ticket,
            [
                {
                    "can_take_in_charge": False,
                    "can_ask_customer": True,
                    "can_resolve": True,
                    "can_start_progress": False,
                    "can_plan": False,
                    "can_escalate_development": False,
                    "can_customer_close": True,
                    "can_discard": True,
                    "can_reopen": False,
                }
            ],
        )

    def test_wizard_opens_without_text_and_moves_with_it(self):
        tickets = self._ticket_in("defect", "in_progress") | self._ticket_in("request", "in_progress")
        action = tickets.action_resolve()
        self.assertEqual(action["res_model"], "terasoft.ticket.move")
        # pylint: disable-next=context-overridden  # the action's context as the web client passes it
        wizard = self.env["terasoft.ticket.move"].with_context(action["context"]).create({"solution": "<p>Done</p>"})
        wizard.action_confirm()
        self.assertEqual(set(tickets.mapped("state")), {"resolved"})
        with self.assertRaises(UserError):
            self.env["terasoft.ticket.move"].create({"ticket_ids": tickets.ids, "move": "discard"}).action_confirm()

    def test_duration_in_previous_state_is_logged(self):
        ticket = self._ticket_in("defect", "new")
        ticket.action_take_in_charge()
        ticket.action_start_progress(message="<p>ok</p>")
        logs = ticket.state_log_ids.sorted("id")
        self.assertEqual(logs.mapped("move"), ["take_in_charge", "start_progress"])
        self.assertTrue(all(log.duration_hours >= 0 for log in logs))
        self.assertEqual(logs[1].message, "<p>ok</p>")


class TestMoveRights(TerasoftCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ticket = cls._ticket(cls.giulia.partner_id, ticket_type="defect")

    def test_support_user_moves_but_does_not_reopen_or_block(self):
        ticket = self.ticket.with_user(self.support)
        ticket.action_take_in_charge()
        ticket.action_discard(reason="duplicate")
        with self.assertRaises(AccessError):
            ticket.action_reopen()
        self.ticket.with_user(self.manager).action_reopen()
        self.assertEqual(self.ticket.state, "waiting_support")
        with self.assertRaises(AccessError):
            ticket._apply_move("block")

    def test_portal_customer_closes_but_does_not_take_in_charge(self):
        ticket = self.ticket.with_user(self.giulia)
        with self.assertRaises(AccessError):
            ticket.action_take_in_charge()
        ticket.action_customer_close()
        self.assertEqual(self.ticket.state, "closed")

    def test_other_company_customer_cannot_close(self):
        with self.assertRaises(AccessError):
            self.ticket.with_user(self.luca).action_customer_close()
        self.assertEqual(self.ticket.state, "new")

    def test_take_in_charge_assigns_unassigned_ticket(self):
        self.ticket.user_id = False
        self.ticket.with_user(self.support).action_take_in_charge()
        self.assertEqual(self.ticket.user_id, self.support)

    def test_take_in_charge_keeps_assignee(self):
        other = new_test_user(self.env, "agent2", groups="terasoft_portal.group_terasoft_portal_user")
        self.ticket.user_id = other
        self.ticket.with_user(self.support).action_take_in_charge()
        self.assertEqual(self.ticket.user_id, other)
