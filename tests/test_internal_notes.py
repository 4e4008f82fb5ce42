"""Issue 10: internal means internal, whatever the path (chatter route, message_post over
XML-RPC / JSON-2, activity feedback), and every channel of a customer's reply counts the same
(portal form, email, Odoo's /mail/message/post with a session or the ticket's token,
message_post by a customer contact)."""

import json
from datetime import datetime, timedelta
from xmlrpc.client import Fault

from odoo.exceptions import AccessError, UserError
from odoo.tests import JsonRpcException, get_db_name, tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MailCommon

from .common import TerasoftHttpCase, TerasoftMixin
from .test_ticket_mail import MAIL_TEMPLATE

DEMO_PASSWORD = "demo"
REFUSAL = "A customer cannot be mentioned in an internal note"


def customer_mails(env, ticket, partner):
    """Emails and notifications about ``ticket`` addressed to ``partner`` (ids)."""
    mails = (
        env["mail.mail"]
        .sudo()
        .search([("model", "=", "terasoft.ticket"), ("res_id", "=", ticket.id), ("recipient_ids", "in", partner.ids)])
    )
    notifications = (
        env["mail.notification"]
        .sudo()
        .search(
            [
                ("res_partner_id", "=", partner.id),
                ("mail_message_id.model", "=", "terasoft.ticket"),
                ("mail_message_id.res_id", "=", ticket.id),
            ]
        )
    )
    return set(mails.ids), set(notifications.ids)


@tagged("standard", "post_install", "-at_install")
class TestInternalNotes(TerasoftMixin, MailCommon):
    """message_post and activity feedback, in Python (the agent's and the system's paths)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.giulia.partner_id
        cls.outsider = cls.env["res.partner"].create({"name": "Email only", "email": "only@example.com"})

    def setUp(self):
        super().setUp()
        self.ticket = self._reset_mail_context(self.Ticket).create(
            {
                "name": "Cedolino errato",
                "partner_id": self.customer.id,
                "category_id": self.cat_paghe.id,
                "ticket_type": "defect",
            }
        )
        self.as_support = self.ticket.with_user(self.support)

    def _mails_to(self, partner):
        return self._new_mails.filtered(lambda mail: partner in mail.recipient_ids)

    def test_note_mentioning_a_customer_is_refused(self):
        messages = self.ticket.message_ids
        for values in (
            {"subtype_xmlid": "mail.mt_note", "message_type": "comment", "partner_ids": self.customer.ids},
            {"partner_ids": self.customer.ids},  # message_post's defaults: a note
            {"subtype_xmlid": "mail.mt_note", "partner_ids": self.outsider.ids},
            {"subtype_xmlid": "mail.mt_comment", "is_internal": True, "partner_ids": self.customer.ids},
            {"subtype_xmlid": "mail.mt_note", "outgoing_email_to": "someone@example.com"},
            {"subtype_id": self.env.ref("mail.mt_activities").id, "partner_ids": self.customer.ids},
        ):
            with (
                self.subTest(values=values),
                self.mock_mail_gateway(),
                self.assertRaisesRegex(UserError, f"{REFUSAL}.*Send message"),
            ):
                self.as_support.message_post(body="Internal: check the F24 module", **values)
            self.assertFalse(self._new_mails)
        self.assertEqual(self.ticket.message_ids, messages)

    def test_note_mentioning_a_colleague_reaches_the_colleague_only(self):
        with self.mock_mail_gateway():
            note = self.as_support.message_post(
                body="@Responsabile please look",
                message_type="comment",
                subtype_xmlid="mail.mt_note",
                partner_ids=self.manager.partner_id.ids,
            )
        self.assertEqual(note.notification_ids.res_partner_id, self.manager.partner_id)
        self.assertFalse(self._mails_to(self.customer))

    def test_send_message_still_reaches_the_customer(self):
        with self.mock_mail_gateway():
            self.as_support.message_post(
                body="We are on it",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                partner_ids=self.customer.ids,
            )
        self.assertEqual(len(self._mails_to(self.customer)), 1)

    def test_composer_note_to_a_customer_is_refused(self):
        composer = (
            self.env["mail.compose.message"]
            .with_user(self.support)
            .with_context(
                default_model="terasoft.ticket",
                default_res_ids=self.ticket.ids,
                default_composition_mode="comment",
                default_subtype_xmlid="mail.mt_note",
            )
            .create({"body": "internal", "partner_ids": [(6, 0, self.customer.ids)]})
        )
        with self.mock_mail_gateway(), self.assertRaisesRegex(UserError, REFUSAL):
            composer.action_send_mail()
        self.assertFalse(self._mails_to(self.customer))

    def test_activity_feedback_never_reaches_a_customer_follower(self):
        # even a customer wrongly following every subtype, internal ones included
        subtypes = self.env["mail.message.subtype"].search([])
        self.ticket.message_subscribe(partner_ids=self.customer.ids, subtype_ids=subtypes.ids)
        activity = self.ticket.activity_schedule("mail.mail_activity_data_todo", user_id=self.support.id)
        attachment = (
            self.env["ir.attachment"]
            .with_user(self.support)
            .create({"name": "feedback.txt", "raw": b"secret", "res_model": "mail.activity", "res_id": activity.id})
        )
        with self.mock_mail_gateway():
            activity.with_user(self.support).action_feedback(
                feedback="Internal feedback", attachment_ids=attachment.ids
            )
        self.assertFalse(self._mails_to(self.customer))
        feedback = self.ticket.message_ids.filtered(lambda m: m.subtype_id == self.env.ref("mail.mt_activities"))
        self.assertEqual(len(feedback), 1)
        self.assertFalse(feedback.notification_ids.filtered(lambda n: n.res_partner_id == self.customer))
        # and the portal user cannot read it (nor its attachment) by id over RPC
        with self.assertRaises(AccessError):
            feedback.with_user(self.giulia).read(["body", "attachment_ids"])
        with self.assertRaises(AccessError):
            attachment.with_user(self.giulia).read(["name"])
        visible = (
            self.env["mail.message"]
            .with_user(self.giulia)
            .search([("model", "=", "terasoft.ticket"), ("res_id", "=", self.ticket.id)])
        )
        self.assertNotIn(feedback, visible)

    def test_internal_message_notified_by_another_path_skips_customers(self):
        # message_notify does not go through message_post: the recipients' filter still holds
        with self.mock_mail_gateway():
            self.ticket.with_user(self.support).message_notify(
                body="Internal reminder",
                subtype_xmlid="mail.mt_note",
                partner_ids=(self.customer | self.manager.partner_id).ids,
            )
        self.assertFalse(self._mails_to(self.customer))
        message = self.env["mail.message"].search(
            [
                ("model", "=", "terasoft.ticket"),
                ("res_id", "=", self.ticket.id),
                ("message_type", "=", "user_notification"),
            ]
        )
        self.assertEqual(message.notification_ids.res_partner_id, self.manager.partner_id)

    def test_internal_messages_are_not_readable_by_the_portal_user(self):
        note = self.as_support.message_post(body="secret note", message_type="comment", subtype_xmlid="mail.mt_note")
        flagged = self.as_support.message_post(
            body="internal flag", message_type="comment", subtype_xmlid="mail.mt_comment", is_internal=True
        )
        public = self.as_support.message_post(
            body="public answer", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        for message in note | flagged:
            with self.subTest(body=message.body), self.assertRaises(AccessError):
                message.with_user(self.giulia).read(["body"])
        self.assertTrue(public.with_user(self.giulia).read(["body"]))

    # ------------------------------------------------------------------ customers write public comments

    def test_message_post_by_customer_with_odoo_defaults_is_a_public_reply(self):
        self.ticket.action_take_in_charge()
        self.ticket.action_ask_customer(message="<p>Which version?</p>")
        message = self.ticket.with_user(self.giulia).message_post(body="Version 6")  # Odoo's defaults: a note
        self.assertRecordValues(
            message,
            [
                {
                    "message_type": "comment",
                    "subtype_id": self.env.ref("mail.mt_comment").id,
                    "is_internal": False,
                    "author_id": self.customer.id,
                }
            ],
        )
        self.assertEqual(self.ticket.state, "waiting_support")
        self.assertTrue(self.ticket.date_last_customer_message)
        self.assertIn(message, self.ticket.sudo()._portal_public_messages())

    def test_email_of_customer_answering_a_note_is_a_public_reply(self):
        self.alias = self.env.ref("terasoft_portal.mail_alias_ticket")
        self.alias.alias_domain_id = self.mail_alias_domain
        self.ticket.action_take_in_charge()
        self.ticket.action_ask_customer(message="<p>Which version?</p>")
        note = self.ticket.message_post(body="internal", message_type="comment", subtype_xmlid="mail.mt_note")
        with self.mock_mail_gateway():
            self._gateway_mail_reply(
                MAIL_TEMPLATE,
                email={
                    "message_id": note.message_id,
                    "reply_to": note.reply_to,
                    "email_to": [self.customer.email],
                    "subject": "Cedolino errato",
                },
                force_email_from=self.customer.email_formatted,
                target_model="terasoft.ticket",
            )
        reply = self.ticket.message_ids[0]
        self.assertEqual(reply.author_id, self.customer)
        self.assertRecordValues(
            reply, [{"message_type": "email", "is_internal": False, "subtype_id": self.env.ref("mail.mt_comment").id}]
        )
        self.assertEqual(self.ticket.state, "waiting_support")


class TestInternalNotesHttp(TerasoftHttpCase):
    """The backend chatter's route, XML-RPC and JSON-2 as the support user; the portal's pages
    and Odoo's portal chatter routes as the customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.giulia.partner_id
        cls.ticket = cls._ticket(cls.customer, ticket_type="defect")
        cls.ticket.action_take_in_charge()
        cls.ticket._portal_ensure_token()

    def _chatter_post(self, post_data):
        return self.make_jsonrpc_request(
            "/mail/message/post",
            {"thread_model": "terasoft.ticket", "thread_id": self.ticket.id, "post_data": post_data},
        )

    @mute_logger("odoo.http")
    def test_backend_chatter_note_with_mention_is_refused(self):
        before = customer_mails(self.env, self.ticket, self.customer)
        messages = self.ticket.message_ids
        self.authenticate(self.support.login, DEMO_PASSWORD)
        for post_data in (
            {
                "body": "@Giulia internal",
                "message_type": "comment",
                "subtype_xmlid": "mail.mt_note",
                "partner_ids": self.customer.ids,
            },
            {"body": "@Giulia internal", "partner_ids": self.customer.ids},  # no type nor subtype: a note
        ):
            with self.subTest(post_data=post_data), self.assertRaisesRegex(JsonRpcException, "UserError"):
                self._chatter_post(post_data)
        self.ticket.invalidate_recordset()
        self.assertEqual(self.ticket.message_ids, messages)
        self.assertEqual(customer_mails(self.env, self.ticket, self.customer), before)
        # "Send message" with the same mention is the way to write to the customer
        result = self._chatter_post(
            {
                "body": "@Giulia public",
                "message_type": "comment",
                "subtype_xmlid": "mail.mt_comment",
                "partner_ids": self.customer.ids,
            }
        )
        mails, _notifications = customer_mails(self.env, self.ticket, self.customer)
        self.assertTrue(mails - before[0])
        self.assertTrue(self.env["mail.message"].browse(result["message_id"]).exists())

    @mute_logger("odoo.http", "odoo.addons.rpc.controllers.xmlrpc")
    def test_message_post_over_rpc_as_support_user_is_refused(self):
        before = customer_mails(self.env, self.ticket, self.customer)
        db = get_db_name()
        uid = self.xmlrpc_common.authenticate(db, self.support.login, DEMO_PASSWORD, {})
        for kwargs in (
            {"subtype_xmlid": "mail.mt_note", "partner_ids": self.customer.ids},
            {"subtype_xmlid": "mail.mt_comment", "is_internal": True, "partner_ids": self.customer.ids},
            {"partner_ids": self.customer.ids},
        ):
            with self.subTest(kwargs=kwargs), self.assertRaises(Fault) as caught:
                self.xmlrpc_object.execute_kw(
                    db,
                    uid,
                    DEMO_PASSWORD,
                    "terasoft.ticket",
                    "message_post",
                    [[self.ticket.id]],
                    {"body": "internal", **kwargs},
                )
            self.assertIn(REFUSAL, caught.exception.faultString)
        key = (
            self.env["res.users.apikeys"]
            .with_user(self.support)
            ._generate(scope="rpc", name="test", expiration_date=datetime.now() + timedelta(days=1))
        )
        response = self.url_open(
            "/json/2/terasoft.ticket/message_post",
            data=json.dumps(
                {
                    "ids": [self.ticket.id],
                    "body": "internal",
                    "subtype_xmlid": "mail.mt_note",
                    "partner_ids": self.customer.ids,
                }
            ),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        self.assertNotEqual(response.status_code, 200)
        self.assertIn(REFUSAL, response.json()["message"])
        self.assertEqual(customer_mails(self.env, self.ticket, self.customer), before)

    def test_notes_and_their_attachments_are_not_in_the_portal(self):
        attachment = (
            self.env["ir.attachment"]
            .with_user(self.support)
            .create({"name": "interno.pdf", "raw": b"%PDF secret", "res_model": "mail.compose.message", "res_id": 0})
        )
        self.ticket.with_user(self.support).message_post(
            body="Nota interna segreta",
            message_type="comment",
            subtype_xmlid="mail.mt_note",
            attachment_ids=attachment.ids,
        )
        activity = self.ticket.activity_schedule("mail.mail_activity_data_todo", user_id=self.support.id)
        activity.with_user(self.support).action_feedback(feedback="Feedback interno segreto")
        self.ticket.message_post(body="Risposta pubblica", message_type="comment", subtype_xmlid="mail.mt_comment")
        secrets = ("Nota interna segreta", "Feedback interno segreto", "interno.pdf")

        def assert_no_secret(text, where):
            for secret in secrets:
                self.assertNotIn(secret, text, where)

        fetch = {"thread_model": "terasoft.ticket", "thread_id": self.ticket.id}
        # a visitor with the ticket's link (token) ...
        response = self.make_jsonrpc_request("/mail/chatter_fetch", dict(fetch, token=self.ticket.access_token))
        assert_no_secret(json.dumps(response), "chatter_fetch with token")
        self.assertIn("Risposta pubblica", json.dumps(response))
        assert_no_secret(
            json.dumps(self.make_jsonrpc_request("/portal/chatter_init", dict(fetch, token=self.ticket.access_token))),
            "chatter_init with token",
        )
        page = self.url_open(f"/my/tickets/{self.ticket.id}?access_token={self.ticket.access_token}").text
        assert_no_secret(page, "ticket page with token")
        response = self.url_open(f"/web/content/{attachment.id}?access_token={self.ticket.access_token}")
        self.assertIn(response.status_code, (403, 404))
        # /web/image answers its placeholder for what it may not show
        response = self.url_open(f"/web/image/{attachment.id}?access_token={self.ticket.access_token}")
        self.assertNotIn(b"secret", response.content)
        # ... and the logged-in customer
        self.authenticate(self.giulia.login, DEMO_PASSWORD)
        response = self.make_jsonrpc_request("/mail/chatter_fetch", fetch)
        assert_no_secret(json.dumps(response), "chatter_fetch")
        self.assertIn("Risposta pubblica", json.dumps(response))
        assert_no_secret(json.dumps(self.make_jsonrpc_request("/portal/chatter_init", fetch)), "chatter_init")
        response = self.make_jsonrpc_request(
            "/mail/thread/messages", {"thread_model": "terasoft.ticket", "thread_id": self.ticket.id}
        )
        assert_no_secret(json.dumps(response), "/mail/thread/messages")
        page = self.url_open(f"/my/tickets/{self.ticket.id}").text
        assert_no_secret(page, "ticket page")
        self.assertIn("Risposta pubblica", page)
        for url in (
            f"/my/tickets/{self.ticket.id}/attachments/{attachment.id}",
            f"/web/content/{attachment.id}",
            f"/web/content/{attachment.id}?download=true",
            f"/web/content/ir.attachment/{attachment.id}/raw",
        ):
            with self.subTest(url=url):
                response = self.url_open(url)
                self.assertIn(response.status_code, (403, 404), url)
                self.assertNotIn(b"secret", response.content)


class TestCustomerReplyChannels(TerasoftHttpCase):
    """Odoo's standard route (its portal chatter's, any client's) counts as the portal form does."""

    def _waiting_ticket(self):
        ticket = self._ticket(self.giulia.partner_id, ticket_type="defect")
        ticket.action_take_in_charge()
        ticket.action_ask_customer(message="<p>Which version?</p>")
        ticket._portal_ensure_token()
        self.assertEqual(ticket.state, "waiting_customer")
        return ticket

    def _assert_reply(self, ticket, message_id, author):
        ticket.invalidate_recordset()
        message = self.env["mail.message"].browse(message_id)
        self.assertEqual(ticket.state, "waiting_support")
        self.assertTrue(ticket.date_last_customer_message)
        self.assertEqual(ticket.state_log_ids[0].move, "customer_reply")
        self.assertRecordValues(
            message,
            [
                {
                    "author_id": author.id,
                    "message_type": "comment",
                    "is_internal": False,
                    "subtype_id": self.env.ref("mail.mt_comment").id,
                }
            ],
        )
        self.assertIn(message, ticket.sudo()._portal_public_messages())

    def _post(self, ticket, post_data, **params):
        return self.make_jsonrpc_request(
            "/mail/message/post",
            {"thread_model": "terasoft.ticket", "thread_id": ticket.id, "post_data": post_data, **params},
        )

    def test_standard_route_as_logged_in_portal_user(self):
        self.authenticate(self.giulia.login, DEMO_PASSWORD)
        for post_data in (
            {"body": "Version 6"},  # what a mail client sends: Odoo's defaults (a note)
            {"body": "Version 6", "message_type": "comment"},
            {"body": "Version 6", "subtype_xmlid": "mail.mt_comment"},
            {"body": "Version 6", "message_type": "comment", "subtype_xmlid": "mail.mt_note"},
            {"body": "Version 6", "message_type": "comment", "subtype_xmlid": "mail.mt_comment"},
        ):
            with self.subTest(post_data=post_data):
                ticket = self._waiting_ticket()
                result = self._post(ticket, post_data)
                self._assert_reply(ticket, result["message_id"], self.giulia.partner_id)

    def test_standard_route_with_the_ticket_token(self):
        for signed in (False, True):
            with self.subTest(signed=signed):
                ticket = self._waiting_ticket()
                params = {"token": ticket.access_token}
                if signed:  # the link of the notification emails: pid and hash of the contact
                    params.update(pid=self.giulia.partner_id.id, hash=ticket._sign_token(self.giulia.partner_id.id))
                result = self._post(ticket, {"body": "Version 6"}, **params)
                self._assert_reply(ticket, result["message_id"], self.giulia.partner_id)

    def test_portal_form_still_counts(self):
        ticket = self._waiting_ticket()
        self.authenticate(self.giulia.login, DEMO_PASSWORD)
        from odoo import http

        response = self.url_open(
            f"/my/tickets/{ticket.id}/comment",
            allow_redirects=False,
            data={"comment": "Version 6", "csrf_token": http.Request.csrf_token(self)},
        )
        self.assertEqual(response.status_code, 303)
        ticket.invalidate_recordset()
        self.assertEqual(ticket.state, "waiting_support")
