"""Merging duplicate tickets (wizard terasoft.ticket.merge): nothing is lost, the duplicates
are discarded through the workflow, the customer is told once, only one customer company."""

import base64
import re

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MailCommon

from .common import TerasoftHttpCase, TerasoftMixin, frozen, patch_cron_commit


class MergeMixin:
    @classmethod
    def _merge_fixture(cls):
        """Three tickets of Alfa Paghe: the kept one (Giulia) and two duplicates, one of
        them opened by Ornella, who sees only her own tickets."""
        cls.ornella = cls._portal_user("ornella.merge", cls.alfa, ticket_scope="own", lang="it_IT")
        cls.watcher = cls.env["res.partner"].create({"name": "Watcher", "email": "watcher@example.com"})
        Ticket = cls.env["terasoft.ticket"].with_context(mail_notrack=False, tracking_disable=False)
        cls.keep = Ticket.create(
            {"name": "Cedolino errato", "partner_id": cls.giulia.partner_id.id, "category_id": cls.cat_paghe.id}
        )
        cls.dup1 = Ticket.create(
            {"name": "Cedolino sbagliato", "partner_id": cls.ornella.partner_id.id, "category_id": cls.cat_paghe.id}
        )
        cls.dup2 = Ticket.create(
            {"name": "Ancora il cedolino", "partner_id": cls.giulia.partner_id.id, "category_id": cls.cat_paghe.id}
        )
        cls.duplicates = cls.dup1 | cls.dup2
        cls._fill(cls.dup1, 3)
        cls._fill(cls.dup2, 2)
        cls.dup1.message_subscribe(partner_ids=cls.watcher.ids)
        cls.dup1.with_user(cls.support).action_take_in_charge()
        cls.env.flush_all()
        cls.env.cr.precommit.run()  # the tracking messages, now: they are the tickets' past

    @classmethod
    def _fill(cls, ticket, count):
        """``count`` customer comments with an attachment each, a staff note, a plain
        attachment and an activity on ``ticket``."""
        for index in range(count):
            attachment = cls.env["ir.attachment"].create(
                {
                    "name": f"schermata{index}.txt",
                    "datas": base64.b64encode(b"errore"),
                    "res_model": "terasoft.ticket",
                    "res_id": ticket.id,
                }
            )
            ticket.with_user(cls.support).sudo().message_post(
                body=f"Commento {index}",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                author_id=ticket.partner_id.id,
                attachment_ids=attachment.ids,
            )
        ticket.with_user(cls.support).message_post(body="Nota interna", subtype_xmlid="mail.mt_note")
        cls.env["ir.attachment"].create(
            {"name": "log.txt", "datas": base64.b64encode(b"log"), "res_model": "terasoft.ticket", "res_id": ticket.id}
        )
        ticket.activity_schedule("mail.mail_activity_data_todo", user_id=cls.support.id, summary="Richiamare")

    def _of(self, model, tickets, field="res_id"):
        domain = [(field, "in", tickets.ids)]
        if field == "res_id":
            domain.append(("res_model" if model != "mail.message" else "model", "=", "terasoft.ticket"))
        return self.env[model].sudo().search(domain)

    def _merge(self, keep, duplicates, user=None, lang="en_US"):
        Merge = self.env["terasoft.ticket.merge"].with_user(user or self.support).with_context(lang=lang)
        wizard = Merge.with_context(active_model="terasoft.ticket", active_ids=(keep | duplicates).ids).create(
            {"keep_ticket_id": keep.id}
        )
        return wizard.action_merge()


@tagged("standard", "post_install", "-at_install")
class TestTicketMerge(MergeMixin, TerasoftMixin, MailCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._merge_fixture()

    def test_wizard_defaults_to_the_selection_and_its_oldest_ticket(self):
        wizard = (
            self.env["terasoft.ticket.merge"]
            .with_user(self.support)
            .with_context(active_model="terasoft.ticket", active_ids=(self.dup2 | self.keep | self.dup1).ids)
            .create({})
        )
        self.assertEqual(wizard.ticket_ids, self.keep | self.duplicates)
        self.assertEqual(wizard.keep_ticket_id, self.keep)
        self.assertEqual(wizard.duplicate_ids, self.duplicates)

    def test_wizard_form_from_the_ticket_form(self):
        """Opened from one ticket's form (Actions menu): the agent adds the duplicates."""
        context = {"active_model": "terasoft.ticket", "active_ids": self.keep.ids, "active_id": self.keep.id}
        with Form(self.env["terasoft.ticket.merge"].with_user(self.support).with_context(**context)) as form:
            self.assertEqual(form.keep_ticket_id, self.keep)
            form.ticket_ids.add(self.dup2)
        form.record.action_merge()
        self.assertEqual(self.dup2.duplicate_of_id, self.keep)

    def test_nothing_is_lost(self):
        tickets = self.keep | self.duplicates
        messages = self._of("mail.message", tickets)
        attachments = self._of("ir.attachment", tickets)
        activities = self._of("mail.activity", tickets)
        logs = self._of("terasoft.ticket.state.log", tickets, "ticket_id")
        dup_logs = self._of("terasoft.ticket.state.log", self.duplicates, "ticket_id")
        partners = tickets.message_partner_ids
        self.assertIn(self.watcher, partners)
        self.assertEqual(len(self._of("mail.followers", tickets)), 7, "contact and assignee; the watcher")
        message_attachments = messages.attachment_ids
        self.assertEqual(len(message_attachments), 5)

        action = self._merge(self.keep, self.duplicates)

        self.assertEqual(action["res_id"], self.keep.id)
        kept_messages = self._of("mail.message", self.keep)
        self.assertLessEqual(messages, kept_messages, "every message, notes and tracking included")
        self.assertEqual(self._of("ir.attachment", self.keep), attachments)
        self.assertEqual(kept_messages.attachment_ids, message_attachments)
        self.assertEqual(self._of("mail.activity", self.keep), activities)
        self.assertEqual(self.keep.message_partner_ids, partners, "every follower, once")
        followers = self._of("mail.followers", self.keep)
        self.assertEqual(len(followers), len(followers.partner_id))
        self.assertEqual(self._of("terasoft.ticket.state.log", self.keep, "ticket_id"), logs)
        self.assertEqual(dup_logs.merged_from_id, self.dup1, "the history says where it comes from")
        self.assertEqual(dup_logs.mapped("merged_from_number"), [self.dup1.number])
        self.assertFalse(self._of("mail.followers", self.duplicates))
        self.assertFalse(self._of("ir.attachment", self.duplicates))

    def test_duplicates_are_discarded_through_the_workflow(self):
        self._merge(self.keep, self.duplicates)
        self.flush_tracking()
        self.assertRecordValues(
            self.duplicates,
            [
                {
                    "state": "discarded",
                    "duplicate_of_id": self.keep.id,
                    "discard_reason": f"Duplicate of {self.keep.number}",
                }
            ]
            * 2,
        )
        for duplicate, from_state in ((self.dup1, "waiting_support"), (self.dup2, "new")):
            log = self._of("terasoft.ticket.state.log", duplicate, "ticket_id")
            self.assertRecordValues(
                log,
                [{"move": "discard", "from_state": from_state, "to_state": "discarded", "user_id": self.support.id}],
            )
            self.assertTrue(duplicate.message_ids, "the discard's tracking stays on the duplicate")
        self.assertEqual(self.keep.state, "new")

    def test_time_in_status_of_the_kept_ticket_ignores_the_merged_history(self):
        with frozen(self.env, "2026-12-01 08:00:00"):
            keep = self._ticket(self.giulia.partner_id)
        with frozen(self.env, "2026-12-01 10:00:00"):
            duplicate = self._ticket(self.giulia.partner_id)
            duplicate.with_user(self.support).action_take_in_charge()
        with frozen(self.env, "2026-12-01 12:00:00"):
            self._merge(keep, duplicate)
            keep.with_user(self.support).action_take_in_charge()
        log = keep.state_log_ids.filtered(lambda log: not log.merged_from_number)
        self.assertEqual(log.duration_hours, 4.0, "since its creation, not since the duplicate's move")
        self.assertEqual(len(keep.state_log_ids - log), 1)

    def test_reason_in_italian_for_an_italian_agent(self):
        self._merge(self.keep, self.dup1, lang="it_IT")
        self.assertEqual(self.dup1.discard_reason, f"Duplicato di {self.keep.number}")

    def test_customer_is_told_once(self):
        colleague = self.env["res.partner"].create(
            {"name": "Collega", "email": "collega@example.com", "parent_id": self.alfa.id}
        )
        self.dup2.message_subscribe(partner_ids=colleague.ids)
        with self.mock_mail_gateway():
            self._merge(self.keep, self.duplicates)
        for partner in (self.giulia.partner_id, self.ornella.partner_id, colleague, self.watcher):
            mails = self._new_mails.filtered(lambda mail, partner=partner: partner in mail.recipient_ids)
            self.assertEqual(len(mails), 1, f"one email to {partner.name}")
            self.assertIn(self.dup1.number, mails.body_html)
            self.assertIn(self.dup2.number, mails.body_html)
            self.assertIn(f"/my/tickets/{self.keep.id}?access_token={self.keep.access_token}", mails.body_html)
        self.assertEqual(
            self._new_mails.mapped("res_id"), [self.keep.id] * len(self._new_mails), "none about a duplicate"
        )
        # one message on the kept ticket, public, visible in the portal
        merge_message = self.keep.message_ids[0]
        self.assertFalse(merge_message.is_internal)
        self.assertIn(self.dup1.number, merge_message.body)

    def test_customer_companies_cannot_be_mixed(self):
        beta_ticket = self._ticket(self.luca.partner_id)
        no_contact = self.Ticket.create({"name": "Email", "category_id": self.cat_paghe.id})
        for other in (beta_ticket, no_contact):
            with self.subTest(other=other.number), self.assertRaisesRegex(UserError, "same customer company"):
                self._merge(self.keep, self.dup1 | other)
        self.assertEqual(self.dup1.state, "waiting_support")
        self.assertEqual(beta_ticket.state, "new")
        self.assertTrue(self._of("mail.message", self.dup1))

    def test_refusals(self):
        with self.assertRaisesRegex(UserError, "at least one other ticket"):
            self.env["terasoft.ticket.merge"].with_user(self.support)._merge(self.keep, self.keep)
        self.dup2.with_user(self.support).action_discard(reason="Prova")
        with self.assertRaisesRegex(UserError, "keep an open one"):
            self._merge(self.dup2, self.dup1)
        with self.assertRaisesRegex(UserError, "cannot do"):  # a discarded duplicate cannot be discarded again
            self._merge(self.keep, self.dup2)
        self.assertEqual(self.dup1.state, "waiting_support")

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_portal_users_never_merge(self):
        for user in (self.giulia, self.ornella):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self._merge(self.keep, self.duplicates, user=user)
                with self.assertRaises(AccessError):
                    self.env["terasoft.ticket.merge"].with_user(user)._merge(self.keep, self.duplicates)
        self.assertEqual(self.dup2.state, "new")

    def test_action_is_bound_to_the_list_and_form_for_support_users_only(self):
        action = self.env.ref("terasoft_portal.action_ticket_merge")
        self.assertEqual(action.binding_model_id.model, "terasoft.ticket")
        self.assertEqual(set(action.binding_view_types.split(",")), {"list", "form"})
        self.assertEqual(action.group_ids, self.env.ref("terasoft_portal.group_terasoft_portal_user"))

    def test_merging_more_tickets_costs_no_query_per_message(self):
        """Set-based moves: the same queries for 2 duplicates with 2 messages each as for 20
        duplicates with 10 messages each (measured: 62 and 66 after a first merge warmed the
        caches; about 15 more since the SLA rows, the CC and the rating joined the ticket)."""

        def merge(count, messages, max_queries):
            keep = self._ticket(self.giulia.partner_id)
            duplicates = self.Ticket
            for _index in range(count):
                duplicate = self._ticket(self.giulia.partner_id)
                self._fill(duplicate, messages)
                duplicates |= duplicate
            moved = self._of("mail.message", duplicates)
            self.env.invalidate_all()
            with self.mock_mail_gateway(), self.assertQueryCount(max_queries):
                before = self.env.cr.sql_log_count
                self._merge(keep, duplicates)
                used = self.env.cr.sql_log_count - before
            self.assertEqual(duplicates.mapped("state"), ["discarded"] * count)
            self.assertEqual(moved.mapped("res_id"), [keep.id] * len(moved))
            return used

        merge(2, 2, 150)  # warm-up: first use of templates, subtypes, ...
        few = merge(2, 2, 95)
        many = merge(20, 10, 95)
        self.assertLessEqual(many - few, 10, (few, many))


@tagged("standard", "post_install", "-at_install")
class TestTicketMergeHttp(MergeMixin, TerasoftHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._merge_fixture()

    def _call_kw(self, model, method, args, kwargs=None):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_portal_user_cannot_merge_by_rpc(self):
        self.authenticate(self.giulia.login, "demo")
        with self.assertRaisesRegex(JsonRpcException, "AccessError"):
            self._call_kw(
                "terasoft.ticket.merge",
                "create",
                [{"ticket_ids": [[6, 0, (self.keep | self.dup2).ids]], "keep_ticket_id": self.keep.id}],
            )
        with self.assertRaisesRegex(JsonRpcException, "(?i)private method|AccessError"):
            self._call_kw("terasoft.ticket.merge", "_merge", [self.keep.id, self.dup2.ids])
        self.assertEqual(self.dup2.state, "new")

    def test_support_user_merges_by_rpc(self):
        self.authenticate(self.support.login, "demo")
        wizard_id = self._call_kw(
            "terasoft.ticket.merge",
            "create",
            [{"ticket_ids": [[6, 0, (self.keep | self.dup2).ids]], "keep_ticket_id": self.keep.id}],
        )
        self._call_kw("terasoft.ticket.merge", "action_merge", [[wizard_id]])
        self.assertEqual(self.dup2.state, "discarded")

    def test_colleagues_in_cc_follow_the_request_to_the_kept_ticket(self):
        """A colleague in CC on a duplicate (own tickets only) is in CC on the kept ticket:
        without it the merge would take the request out of their portal."""
        colleague = self._portal_user("cc.merge", self.alfa, ticket_scope="own").partner_id
        self.dup2.cc_partner_ids = colleague
        self._merge(self.keep, self.duplicates)
        self.assertIn(colleague, self.keep.cc_partner_ids)
        self.assertIn(colleague, self.keep.message_partner_ids)

    def test_contact_of_a_duplicate_still_reaches_the_kept_ticket(self):
        """Ornella sees only her own tickets: she follows the kept ticket after the merge and
        opens it from the merge email's link."""
        commit, _calls = patch_cron_commit()
        self._merge(self.keep, self.duplicates)
        self.assertIn(self.ornella.partner_id, self.keep.message_partner_ids)
        message = self.keep.message_ids[0]
        self.assertIn(self.ornella.partner_id, message.partner_ids)
        link = re.search(r"href=['\"]([^'\"]+)['\"]", message.body).group(1)
        self.authenticate(self.ornella.login, self.ornella.login)
        response = self.url_open(link.replace(self.keep.get_base_url(), ""))
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.keep.number, response.text)
        # her own duplicate says where the request went on
        response = self.url_open(f"/my/tickets/{self.dup1.id}")
        self.assertEqual(response.status_code, 200)
