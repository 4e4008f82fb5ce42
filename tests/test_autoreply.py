"""Auto-reply protection of the email channel: automatic emails (RFC 3834 auto-responders,
out-of-office, bounces, bulk) never create, move or acknowledge a ticket; ours say they are
automatic (``Auto-Submitted``); two auto-responders cannot loop."""

import ast

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MailCommon

from .common import TerasoftMixin, patch_cron_commit

MAIL_TEMPLATE = """Return-Path: {return_path}
To: {to}
cc: {cc}
From: {email_from}
Subject: {subject}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Date: {date}
Message-ID: {msg_id}
{extra}

Sono fuori ufficio fino al 15 dicembre, rispondero' al rientro.
"""

# A delivery status notification (RFC 3464) of a Postfix server for a notification of ours.
MAIL_BOUNCE = """Return-Path: <>
Delivered-To: {to}
Date: Mon, 07 Dec 2026 10:41:06 +0100 (CET)
From: MAILER-DAEMON@mail.example.com (Mail Delivery System)
Subject: {subject}
To: {to}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="BOUNDARY-1"
Message-Id: {msg_id}

This is a MIME-encapsulated message.

--BOUNDARY-1
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

<{email_from}>: host example.com said: 550 No such person at this address.

--BOUNDARY-1
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.com

Final-Recipient: rfc822; {email_from}
Original-Recipient: rfc822;{email_from}
Action: failed
Status: 5.0.0
Diagnostic-Code: smtp; 550 No such person at this address.

--BOUNDARY-1
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <{to}>
Message-Id: {extra}
Subject: Re: Test
To: <{email_from}>

--BOUNDARY-1--
"""

# (what it is, extra headers, subject, sender, return path): each one an automatic email
AUTOMATIC_EMAILS = [
    ("RFC 3834 auto-replied", "Auto-Submitted: auto-replied", None, None, None),
    ("RFC 3834 auto-generated", "Auto-Submitted: auto-generated", None, None, None),
    ("RFC 3834 with parameters", "Auto-Submitted: auto-replied; owner-email=x@example.com", None, None, None),
    ("X-Autoreply", "X-Autoreply: yes", None, None, None),
    ("X-Autorespond", "X-Autorespond: Vacation", None, None, None),
    ("Exchange out of office", "X-Auto-Response-Suppress: All", None, None, None),
    ("Precedence bulk", "Precedence: bulk", None, None, None),
    ("Precedence junk", "Precedence: junk", None, None, None),
    ("Precedence auto_reply", "Precedence: auto_reply", None, None, None),
    ("Precedence list", "Precedence: list", None, None, None),
    ("null Return-Path", "", None, None, "<>"),
    ("MAILER-DAEMON", "", None, "MAILER-DAEMON@mail.example.com", None),
    ("postmaster", "", None, "Postmaster <postmaster@mail.example.com>", None),
    ("Outlook Italian", "", "Risposta automatica: Cedolino errato", None, None),
    ("Italian out of office", "", "Fuori sede: Re: [TT0012] Cedolino errato", None, None),
    ("Italian, forwarded", "", "R: Risposta automatica: Cedolino errato", None, None),
    ("Out of office", "", "Out of Office: Payroll export", None, None),
    ("Outlook English", "", "Automatic reply: Payroll export", None, None),
    ("Autoreply", "", "Autoreply: Payroll export", None, None),
    ("Odoo's own out of office", "", "Auto: Payroll export", None, None),
    ("bare out of office subject", "", "Out of office", None, None),
]


@tagged("standard", "post_install", "-at_install")
class TestAutoReply(TerasoftMixin, MailCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.english = cls.env["res.partner"].create(
            {"name": "John Smith", "email": "john.smith@example.com", "lang": "en_US", "parent_id": cls.alfa.id}
        )
        cls.alias = cls.env.ref("terasoft_portal.mail_alias_ticket")
        cls.alias.alias_domain_id = cls.mail_alias_domain
        cls.alias_email = f"assistenza@{cls.alias_domain}"

    def _acknowledge(self):
        commit, _calls = patch_cron_commit()
        with commit:
            self.Ticket._cron_acknowledge()

    def _email(self, subject, extra="", email_from=None, return_path=None, template=MAIL_TEMPLATE):
        """The email ``subject`` reaches the support alias through the mail gateway, then the
        acknowledgement cron runs; returns the ticket it created (or an empty recordset)."""
        ticket = self.format_and_process(
            template,
            email_from or self.english.email_formatted,
            self.alias_email,
            subject=subject,
            extra=extra,
            return_path=return_path or "",
            target_model="terasoft.ticket",
        )
        self._acknowledge()
        return ticket

    def _headers(self, mail):
        return ast.literal_eval(mail.headers or "{}")

    def _mails_to(self, partner):
        return self._new_mails.filtered(lambda mail: partner in mail.recipient_ids)

    def _auto_reply_to(self, mail, subject, extra=""):
        """The contact's auto-responder answers ``mail`` (a reply: References its Message-Id)."""
        return self.format_and_process(
            MAIL_TEMPLATE,
            self.english.email_formatted,
            mail.reply_to,
            subject=subject,
            extra=f"References: {mail.message_id}\n{extra}",
            return_path=self.english.email,
            target_model="terasoft.ticket",
        )

    # ------------------------------------------------------------------ new emails

    @mute_logger("odoo.addons.mail.models.mail_thread", "odoo.addons.terasoft_portal.models.mail_thread")
    def test_automatic_email_creates_no_ticket_and_gets_no_answer(self):
        for index, (label, extra, subject, sender, return_path) in enumerate(AUTOMATIC_EMAILS):
            with self.subTest(label), self.mock_mail_gateway():
                tickets_before = self.Ticket.search_count([])
                ticket = self._email(
                    subject or f"Payroll export {index}", extra=extra, email_from=sender, return_path=return_path
                )
                self.assertFalse(ticket)
                self.assertEqual(self.Ticket.search_count([]), tickets_before)
                self.assertFalse(self._new_mails, "no acknowledgement, no bounce, no answer at all")

    def test_normal_email_creates_a_ticket_acknowledged_as_auto_replied(self):
        for label, extra, subject in [
            ("plain", "", "Payroll export fails"),
            ("Auto-Submitted: no (RFC 3834: a person wrote it)", "Auto-Submitted: no", "Export stops"),
            ("a subject that merely mentions out of office", "", "Timbrature fuori sede non registrate"),
            ("a subject starting with Auto…", "", "Automazione delle presenze: errore"),
        ]:
            with self.subTest(label), self.mock_mail_gateway():
                ticket = self._email(subject, extra=extra)
                self.assertEqual(len(ticket), 1)
                self.assertRecordValues(ticket, [{"partner_id": self.english.id, "state": "new", "channel": "email"}])
                ack = self._mails_to(self.english)
                self.assertEqual(len(ack), 1, "one acknowledgement")
                self.assertIn(ticket.number, ack.subject)
                headers = self._headers(ack)
                self.assertEqual(headers.get("Auto-Submitted"), "auto-replied")
                self.assertEqual(headers.get("X-Auto-Response-Suppress"), "OOF, AutoReply")

    # ------------------------------------------------------------------ replies to a ticket

    def _ticket_waiting_for_customer(self):
        with self.mock_mail_gateway():
            ticket = self._email("Payroll export fails")
            ticket.with_user(self.support).action_take_in_charge()
            ticket.with_user(self.support).action_ask_customer(message="<p>Which version do you use?</p>")
        question = self._mails_to(self.english).filtered(lambda mail: "Which version" in mail.body_html)
        self.assertEqual(len(question), 1)
        self.assertFalse(self._headers(question).get("Auto-Submitted"), "a person wrote it: no Auto-Submitted")
        return ticket, question

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_auto_reply_to_a_question_does_not_move_the_ticket(self):
        ticket, question = self._ticket_waiting_for_customer()
        last_customer_message = ticket.date_last_customer_message
        with self.mock_mail_gateway():
            self._auto_reply_to(question, f"Risposta automatica: {question.subject}", "X-Autoreply: yes")
        self.assertEqual(ticket.state, "waiting_customer", "not the customer's reply")
        self.assertEqual(ticket.date_last_customer_message, last_customer_message)
        self.assertFalse(self._new_mails, "nobody is notified of an auto-reply")
        note = ticket.message_ids[0]
        self.assertIn("fuori ufficio", note.body)
        self.assertRecordValues(
            note, [{"author_id": self.english.id, "is_internal": True, "subtype_id": self.env.ref("mail.mt_note").id}]
        )
        self.assertFalse(note.notification_ids)
        # the customer's own answer still moves it
        with self.mock_mail_gateway():
            self._auto_reply_to(question, f"Re: {question.subject}")
        self.assertEqual(ticket.state, "waiting_support")

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_auto_reply_to_a_solution_does_not_reopen_the_ticket(self):
        with self.mock_mail_gateway():
            ticket = self._email("Payroll export fails")
            ticket.with_user(self.support).action_take_in_charge()
            ticket.with_user(self.support).action_resolve(solution="<p>Use menu X</p>")
        solution = self._mails_to(self.english).filtered(lambda mail: "menu X" in mail.body_html)
        last_customer_message = ticket.date_last_customer_message
        with self.mock_mail_gateway():
            self._auto_reply_to(solution, f"Re: {solution.subject}", "Auto-Submitted: auto-replied")
        self.assertEqual(ticket.state, "resolved")
        self.assertEqual(ticket.date_last_customer_message, last_customer_message, "the auto-close countdown runs on")
        self.assertFalse(self._new_mails)

    @mute_logger("odoo.addons.mail.models.mail_thread", "odoo.addons.terasoft_portal.models.mail_thread")
    def test_two_auto_responders_do_not_loop(self):
        """The customer's auto-responder answers every email it receives, and ignores our
        Auto-Submitted header: the exchange stops after its first answer."""
        for label, extra, prefix in [
            ("headers", "Auto-Submitted: auto-replied\nX-Autoreply: yes", "Re:"),
            ("subject only", "", "Risposta automatica:"),
        ]:
            with self.subTest(label), self.mock_mail_gateway():
                ticket = self._email(f"Payroll export fails ({label})")
            tickets = self.Ticket.search_count([])
            outgoing = self._mails_to(self.english)
            self.assertEqual(len(outgoing), 1, "the acknowledgement")
            exchanged = 0
            for _round in range(5):
                if not outgoing:
                    break
                with self.mock_mail_gateway():
                    for mail in outgoing:
                        self._auto_reply_to(mail, f"{prefix} {mail.subject} {exchanged}", extra)
                        exchanged += 1
                    self._acknowledge()
                outgoing = self._mails_to(self.english) | self._new_mails.filtered(
                    lambda mail: mail.email_to and "john.smith" in mail.email_to
                )
            self.assertEqual(exchanged, 1, "one auto-reply, never answered")
            self.assertEqual(ticket.state, "new")
            self.assertEqual(self.Ticket.search_count([]), tickets, "no new ticket either")

    # ------------------------------------------------------------------ bounces: Odoo's handling

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_bounce_of_a_notification_is_handled_by_odoo(self):
        ticket, question = self._ticket_waiting_for_customer()
        messages = ticket.message_ids
        notification = self.env["mail.notification"].search(
            [("mail_message_id", "=", question.mail_message_id.id), ("res_partner_id", "=", self.english.id)]
        )
        self.assertEqual(len(notification), 1)
        with self.mock_mail_gateway():
            self.format_and_process(
                MAIL_BOUNCE,
                self.english.email,
                f"{self.alias_bounce}@{self.alias_domain}",
                subject="Undelivered Mail Returned to Sender",
                extra=question.message_id,
                target_model="terasoft.ticket",
            )
        self.assertEqual(notification.notification_status, "bounce")
        self.assertEqual(notification.failure_type, "mail_bounce")
        self.assertEqual(self.english.message_bounce, 1)
        self.assertEqual(ticket.message_ids, messages, "nothing posted on the ticket")
        self.assertEqual(ticket.state, "waiting_customer")
        self.assertFalse(self._new_mails)

    # ------------------------------------------------------------------ our automatic emails

    def test_reminder_and_system_moves_are_auto_generated(self):
        with self.mock_mail_gateway():
            ticket = self._email("Payroll export fails")
            ticket.with_user(self.support).action_take_in_charge()
            ticket.with_user(self.support).action_resolve(solution="<p>Use menu X</p>")
        with self.mock_mail_gateway():
            ticket._send_autoclose_reminder()
            ticket.sudo()._apply_move("autoclose")
        mails = self._mails_to(self.english)
        self.assertEqual(len(mails), 2)
        for mail in mails:
            self.assertEqual(self._headers(mail).get("Auto-Submitted"), "auto-generated")
