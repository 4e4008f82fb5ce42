"""The demo tells a coherent story (dates in order, in working hours, comments that follow the
workflow) and the staff meet it where the work is (home action, every demo login printed)."""

import re
from datetime import time
from pathlib import Path

from pytz import timezone, utc

from odoo import fields
from odoo.tests import new_test_user

from .common import TerasoftCase

ROOT = Path(__file__).resolve().parent.parent
ROME = timezone("Europe/Rome")


def in_working_hours(moment):
    """Mon-Fri 9-13 and 14-18 in Rome (the support calendar shipped with the module)."""
    local = utc.localize(moment).astimezone(ROME)
    clock = local.time()
    return local.weekday() < 5 and (time(9) <= clock <= time(13) or time(14) <= clock <= time(18))


class TestDemoStory(TerasoftCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ids = (
            cls.env["ir.model.data"]
            .search([("module", "=", "terasoft_portal"), ("model", "=", "terasoft.ticket")])
            .mapped("res_id")
        )
        cls.demo_tickets = cls.Ticket.browse(ids).exists()

    def _public_comments(self, ticket):
        return self.env["mail.message"].search(
            [
                ("model", "=", "terasoft.ticket"),
                ("res_id", "=", ticket.id),
                ("message_type", "=", "comment"),
                ("subtype_id", "=", self.env.ref("mail.mt_comment").id),
            ],
            order="date, id",
        )

    def test_demo_ticket_dates_are_in_order_and_in_working_hours(self):
        self.assertGreaterEqual(len(self.demo_tickets), 25)
        now = fields.Datetime.now()
        for ticket in self.demo_tickets:
            with self.subTest(ticket=ticket.name):
                comments = self._public_comments(ticket)
                logs = ticket.state_log_ids.sorted(lambda log: (log.date, log.id))
                story = [
                    ticket.create_date,
                    ticket.date_taken,
                    *comments.mapped("date"),
                    ticket.date_resolved,
                    ticket.date_closed or ticket.date_discarded,
                ]
                story = [moment for moment in story if moment]
                self.assertEqual(story, sorted(story), "creation <= take in charge <= comments <= resolution")
                self.assertLessEqual(story[-1], now)
                for moment in story + logs.mapped("date"):
                    self.assertTrue(in_working_hours(moment), f"{moment} (UTC) is outside working hours")
                self.assertEqual([log.date for log in logs], sorted(log.date for log in logs))
                self.assertGreaterEqual(logs[:1].date or ticket.create_date, ticket.create_date)
                if ticket.date_taken:
                    self.assertEqual(logs.filtered(lambda log: log.move == "take_in_charge").date, ticket.date_taken)
                if ticket.state == "planned":
                    self.assertGreater(ticket.planned_date, now)
                    self.assertTrue(in_working_hours(ticket.planned_date))

    def test_customer_answers_come_after_the_support_question(self):
        for ticket in self.demo_tickets:
            with self.subTest(ticket=ticket.name):
                asked = False
                for message in self._public_comments(ticket):
                    from_customer = message.author_id.commercial_partner_id == ticket.commercial_partner_id
                    if from_customer:
                        self.assertTrue(asked, f"the customer answers before any question: {message.body}")
                        self.assertGreaterEqual(message.date, ticket.date_taken)
                    else:
                        asked = asked or "?" in message.body
                if ticket.state == "waiting_customer":  # the last word is the support's question
                    last = self._public_comments(ticket)[-1:]
                    self.assertIn("?", last.body)
                    self.assertNotEqual(last.author_id.commercial_partner_id, ticket.commercial_partner_id)

    def test_demo_users_work_in_rome(self):
        logins = [
            "admin",
            "supporto@example.com",
            "responsabile.supporto@example.com",
            "giulia.bianchi@example.com",
            "luca.verdi@example.com",
            "marco.rossi@example.com",
            "sara.conti@example.com",
            "franco.neri@example.com",
        ]
        users = self.env["res.users"].search([("login", "in", logins)])
        self.assertEqual(len(users), len(logins))
        self.assertEqual(set(users.mapped("tz")), {"Europe/Rome"})


class TestStaffLanding(TerasoftCase):
    def test_support_users_land_in_assistenza(self):
        action = self.env.ref("terasoft_portal.action_ticket")
        self.assertEqual((self.support | self.manager).mapped("action_id").ids, action.ids)

    def test_user_added_to_support_group_gets_the_home_action(self):
        group = self.env.ref("terasoft_portal.group_terasoft_portal_user")
        agent = new_test_user(self.env, "new.agent", groups="base.group_user")
        self.assertFalse(agent.action_id)
        agent.write({"group_ids": [(4, group.id)]})
        self.assertEqual(agent.action_id.id, self.env.ref("terasoft_portal.action_ticket").id)
        created = new_test_user(
            self.env, "new.agent2", groups="base.group_user,terasoft_portal.group_terasoft_portal_user"
        )
        self.assertEqual(created.action_id.id, self.env.ref("terasoft_portal.action_ticket").id)

    def test_home_action_chosen_by_admin_is_kept(self):
        other = self.env["ir.actions.actions"].browse(self.env.ref("base.action_res_users").id)
        agent = new_test_user(self.env, "new.agent3", groups="base.group_user")
        agent.action_id = other
        agent.write({"group_ids": [(4, self.env.ref("terasoft_portal.group_terasoft_portal_manager").id)]})
        self.assertEqual(agent.action_id, other)
        portal = new_test_user(self.env, "new.portal", groups="base.group_portal")
        self.assertFalse(portal.action_id)

    def test_default_filter_is_not_the_open_state(self):
        view = self.env.ref("terasoft_portal.view_ticket_search").with_context(lang="it_IT")
        arch = view.get_combined_arch()
        label = re.search(r'<filter name="open" string="([^"]+)"', arch).group(1)
        self.assertEqual(label, "Da lavorare")
        states = dict(
            self.Ticket.with_context(lang="it_IT")
            ._fields["state"]
            ._description_selection(self.env(context={"lang": "it_IT"}))
        )
        self.assertNotIn(label, states.values())
        self.assertIn("search_default_open", self.env.ref("terasoft_portal.action_ticket").context)

    def test_make_run_prints_every_demo_login_of_the_readme(self):
        readme = (ROOT / "README.rst").read_text(encoding="utf-8")
        table = readme.split("Demo logins", 1)[1].split("Where Odoo comes from", 1)[0]
        logins = re.findall(r"^``([^`]+)``\s+``([^`]+)``", table, re.M)
        self.assertGreaterEqual(len(logins), 8)
        setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
        printed = setup.split("demo_logins() {", 1)[1].split("\n}\n", 1)[0]
        for login, password in logins:
            self.assertRegex(printed, rf"{re.escape(login)} / {re.escape(password)}\b")
