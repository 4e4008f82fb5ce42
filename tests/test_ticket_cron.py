"""Crons (auto-close with reminder, discarded purge, SLA scan), administrative block, batching."""

import base64
from datetime import timedelta

from odoo import fields

from .common import TerasoftCase, frozen, patch_cron_commit

RESOLVED_MONDAY = "2026-11-23 09:00:00"  # Monday 10:00 in Rome


class TestAutoclose(TerasoftCase):
    def setUp(self):
        super().setUp()
        self.ticket = self._ticket(self.giulia.partner_id, ticket_type="defect", state="in_progress")
        with frozen(self.env, RESOLVED_MONDAY):
            self.ticket.action_resolve(solution="<p>Fixed</p>")

    def _cron_at(self, moment):
        commit, calls = patch_cron_commit()
        with frozen(self.env, moment), commit:
            self.Ticket._cron_autoclose()
            self.env.flush_all()
        return calls

    def _reminders(self):
        subtype = self.env.ref("terasoft_portal.mt_ticket_reminder")
        return self.ticket.message_ids.filtered(lambda m: m.subtype_id == subtype)

    def test_not_closed_before_three_working_days(self):
        self._cron_at("2026-11-26 08:30:00")  # Thursday 9:30: 23.5 working hours later
        self.assertEqual(self.ticket.state, "resolved")

    def test_closed_after_three_working_days(self):
        self._cron_at("2026-11-26 09:30:00")  # Thursday 10:30
        self.assertEqual(self.ticket.state, "closed")
        self.assertEqual(self.ticket.state_log_ids.sorted("id")[-1].move, "autoclose")
        self.assertEqual(self.ticket.date_closed, fields.Datetime.to_datetime("2026-11-26 09:30:00"))

    def test_not_closed_when_the_customer_commented(self):
        with frozen(self.env, "2026-11-25 09:00:00"):
            self.ticket.with_user(self.giulia).message_post(
                body="It still fails", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        self.assertEqual(self.ticket.state, "waiting_support")
        self._cron_at("2026-11-27 09:30:00")
        self.assertEqual(self.ticket.state, "waiting_support")

    def test_working_days_skip_the_weekend_calendar_days_do_not(self):
        with frozen(self.env, "2026-11-27 09:00:00"):  # resolved on Friday
            friday = self._ticket(self.giulia.partner_id, ticket_type="defect", state="in_progress")
            friday.action_resolve(solution="<p>Fixed</p>")
        self._cron_at("2026-11-30 12:00:00")  # Monday: 3 calendar days, 1.3 working days
        self.assertEqual(friday.state, "resolved")
        self.env.company.ticket_autoclose_count = "calendar"
        self._cron_at("2026-11-30 12:00:00")
        self.assertEqual(friday.state, "closed")

    def test_reminder_one_working_day_before_and_only_once(self):
        self._cron_at("2026-11-24 12:00:00")  # Tuesday: too early
        self.assertFalse(self._reminders())
        self._cron_at("2026-11-25 09:30:00")  # Wednesday 10:30: 2 working days elapsed
        self.assertEqual(len(self._reminders()), 1)
        self.assertEqual(self._reminders().partner_ids, self.giulia.partner_id)
        self._cron_at("2026-11-25 14:00:00")
        self.assertEqual(len(self._reminders()), 1)
        self.assertEqual(self.ticket.state, "resolved")


class TestAdministrativeBlock(TerasoftCase):
    def test_insolvent_flag_blocks_and_unblocks_open_tickets(self):
        open_ticket = self._ticket(self.giulia.partner_id, ticket_type="defect", state="in_progress")
        new_ticket = self._ticket(self.giulia.partner_id)
        closed = self._ticket(self.giulia.partner_id, state="closed")
        other = self._ticket(self.luca.partner_id)
        self.alfa.insolvent = True
        self.assertRecordValues(
            open_ticket | new_ticket | closed | other,
            [
                {"state": "blocked", "state_before_block": "in_progress"},
                {"state": "blocked", "state_before_block": "new"},
                {"state": "closed", "state_before_block": False},
                {"state": "new", "state_before_block": False},
            ],
        )
        self.assertIn("blocco amministrativo", open_ticket.portal_block_message)
        self.alfa.insolvent = False
        self.assertRecordValues(
            open_ticket | new_ticket | closed,
            [
                {"state": "in_progress", "state_before_block": False},
                {"state": "new", "state_before_block": False},
                {"state": "closed", "state_before_block": False},
            ],
        )
        self.assertEqual(open_ticket.state_log_ids.sorted("id").mapped("move"), ["block", "unblock"])

    def test_ticket_of_insolvent_company_starts_blocked(self):
        contact = self.env["res.partner"].create({"name": "Gamma contact", "parent_id": self.gamma.id})
        ticket = self._ticket(contact)
        self.assertEqual(ticket.state, "blocked")
        self.assertRecordValues(ticket.state_log_ids, [{"from_state": "new", "to_state": "blocked", "move": "block"}])
        self.gamma.insolvent = False
        self.assertEqual(ticket.state, "new")


class TestPurgeDiscarded(TerasoftCase):
    def test_purge_removes_old_discarded_tickets_with_messages_and_attachments(self):
        with frozen(self.env, "2026-10-01 10:00:00"):
            old = self._ticket(self.giulia.partner_id)
            old.action_discard(reason="duplicate")
        with frozen(self.env, "2026-10-25 10:00:00"):
            recent = self._ticket(self.giulia.partner_id)
            recent.action_discard(reason="commercial")
        datas = base64.b64encode(b"log file")
        attachment = self.env["ir.attachment"].create(
            {"name": "log.txt", "datas": datas, "res_model": "terasoft.ticket", "res_id": old.id}
        )
        message = old.message_post(body="see the log", attachment_ids=attachment.ids)
        message_ids, number = old.message_ids.ids, old.number
        commit, _calls = patch_cron_commit()
        with frozen(self.env, "2026-11-02 10:00:00"), commit:
            self.Ticket._cron_purge_discarded()
        self.assertFalse(old.exists())
        self.assertFalse(attachment.exists())
        self.assertFalse(message.exists())
        self.assertFalse(self.env["mail.message"].browse(message_ids).exists())
        self.assertTrue(recent.exists())
        log = self.env["ir.logging"].search([("name", "=", "terasoft_portal.purge")], order="id desc", limit=1)
        self.assertIn(number, log.message)


class TestCronBatches(TerasoftCase):
    """The crons cost a few queries per batch, not per ticket."""

    def _tickets(self, count, **vals):
        Ticket = self.Ticket.with_context(tracking_disable=True, mail_create_nolog=True, mail_notrack=True)
        tickets = Ticket.create(
            [{"name": f"Bulk {i}", "category_id": self.cat_paghe.id, "user_id": False, **vals} for i in range(count)]
        )
        self.env.flush_all()
        return tickets

    def _queries(self, method, moment):
        commit, calls = patch_cron_commit()
        self.env.invalidate_all()
        with frozen(self.env, moment), commit:
            before = self.env.cr.sql_log_count
            method()
            self.env.flush_all()
            return self.env.cr.sql_log_count - before, calls

    def _compare(self, make, method, moment, check, per_ticket=0):
        """Queries of ``method`` for 50 tickets, then for 2000 more (``per_ticket``: queries
        each ticket may cost, e.g. Odoo's message_post for each notification)."""
        small = make(50)
        small_count, _calls = self._queries(method, moment)
        check(small)
        large = make(2000)
        large_count, calls = self._queries(method, moment)
        check(large)
        self.assertGreaterEqual(len(calls), 4)  # 500 tickets a batch, one commit each
        # 40 times more tickets: the difference is a few queries per batch, not one per ticket
        self.assertLess(large_count - small_count, 150 + per_ticket * 1950, (small_count, large_count))
        return small_count, large_count

    def test_sla_scan_in_batches(self):
        self.env.company.ticket_manager_id = self.manager

        def make(count):
            with frozen(self.env, "2026-11-24 08:00:00"):
                return self._tickets(count)

        def check(tickets):
            self.assertEqual(set(tickets.mapped("sla_status")), {"breached"})
            self.assertTrue(all(tickets.mapped("sla_breach_reported")))

        self._compare(make, self.Ticket._cron_sla_scan, "2026-11-26 09:00:00", check)

    def test_autoclose_in_batches(self):
        def make(count):
            return self._tickets(count, state="resolved", date_resolved=fields.Datetime.to_datetime(RESOLVED_MONDAY))

        def check(tickets):
            self.assertEqual(set(tickets.mapped("state")), {"closed"})

        # the closing notification is Odoo's message_post on each ticket (mass-post composer):
        # a few queries per ticket (issue 12: 500 tickets, 3070 queries with the former batched
        # copy of message_post, 5060 with message_post)
        self._compare(make, self.Ticket._cron_autoclose, "2026-11-27 09:00:00", check, per_ticket=6)

    def test_purge_in_batches(self):
        moment = fields.Datetime.to_datetime("2026-11-27 09:00:00")

        def make(count):
            return self._tickets(count, state="discarded", date_discarded=moment - timedelta(days=40))

        def check(tickets):
            self.assertFalse(tickets.exists())

        self._compare(make, self.Ticket._cron_purge_discarded, moment, check)
