"""The email queue sends a mail at most once when a run dies between the SMTP server's acceptance
and the commit of the outcome, and loses none in an SMTP outage (models/mail_mail.py).

The SMTP server is Odoo's test double (MockSmtplibCase); the handoff records are written through
registry cursors, which the registry test mode keeps inside the test transaction.
"""
import logging
import smtplib
from contextlib import contextmanager
from unittest.mock import patch

import psycopg2

from odoo import modules
from odoo.tools import mute_logger

from odoo.addons.base.tests.common import MockSmtplibCase
from odoo.addons.terasoft_portal.models.mail_mail import SmtpHandoffNotRecorded

from .common import TerasoftCase

MAIL_LOGGER = "odoo.addons.terasoft_portal.models.mail_mail"
ODOO_MAIL_LOGGER = "odoo.addons.mail.models.mail_mail"


class TestMailHandoff(MockSmtplibCase, TerasoftCase):

    def setUp(self):
        super().setUp()
        self.MailMail = type(self.env["mail.mail"])
        self.mail = self._mail("Ticket ricevuto")

    def _mail(self, subject, **vals):
        return self.env["mail.mail"].create({
            "subject": subject, "body_html": "<p>x</p>", "email_from": "supporto@example.com",
            "email_to": "cliente@example.com", "auto_delete": False, **vals})

    def _handoffs(self, mails=None):
        mails = mails or self.mail
        self.env.cr.execute("SELECT mail_id FROM terasoft_mail_handoff WHERE mail_id IN %s", [tuple(mails.ids)])
        return [row[0] for row in self.env.cr.fetchall()]

    def _record_handoff(self, mail):
        """The handoff record a run leaves when it dies after the SMTP server accepted ``mail``."""
        self.env.cr.execute("INSERT INTO terasoft_mail_handoff (mail_id, message_id, handoff_date) "
                            "VALUES (%s, %s, now() AT TIME ZONE 'UTC')", [mail.id, mail.message_id])

    @contextmanager
    def _smtp_server(self, **send_message):
        """Odoo's test SMTP server (``self.emails``), registry cursors in the test transaction;
        ``side_effect=`` or ``new=`` replace the server's ``send_message``."""
        with self.mock_smtplib_connection(), self.enter_registry_test_mode():
            if send_message:
                with patch.object(type(self.testing_smtp_session), "send_message", **send_message):
                    yield
            else:
                yield

    def _sent_subjects(self):
        return [email["message"].split("Subject: ", 1)[1].split("\n", 1)[0].strip() for email in self.emails]

    def test_handoff_is_recorded_before_the_smtp_exchange_and_deleted_by_the_next_queue_run(self):
        seen_during_exchange = []

        def send_and_look(session, message, *args, **kwargs):
            seen_during_exchange.extend(self._handoffs())
            self.emails.append({"message": message.as_string()})
        with self._smtp_server(new=send_and_look):
            self.mail.send()
            self.assertEqual(seen_during_exchange, [self.mail.id])
            self.assertEqual(self.mail.state, "sent")
            self.assertEqual(self._handoffs(), [self.mail.id], "harmless once the mail is no longer outgoing")
            self.env.flush_all()  # the sending transaction commits
            self.env["mail.mail"].process_email_queue()
            self.assertEqual(self._handoffs(), [])
        self.assertEqual(self._sent_subjects(), ["Ticket ricevuto"])

    def test_mail_accepted_but_outcome_not_committed_is_not_sent_again(self):
        # the run was killed (or PostgreSQL restarted) after the SMTP server accepted the mail:
        # its 'sent' state was never committed, its handoff record was
        self._record_handoff(self.mail)
        with self._smtp_server(), \
                self.assertLogs(MAIL_LOGGER, logging.WARNING) as logs:
            self.env["mail.mail"].process_email_queue()
        self.assertEqual(self.emails, [])
        self.assertEqual(self.mail.state, "sent")
        self.assertIn("counted as sent, not sent again", logs.output[0])

    def test_mail_left_by_a_dead_run_is_not_sent_again_after_an_smtp_outage(self):
        # found by the reliability suite: the queue ran while the SMTP server was down (the
        # whole batch is marked failed, 'mail_smtp', and queued again later)
        self._record_handoff(self.mail)
        IrMailServer = type(self.env["ir.mail_server"])
        with self._smtp_server(), mute_logger(MAIL_LOGGER, ODOO_MAIL_LOGGER):
            with patch.object(IrMailServer, "_connect__", side_effect=ConnectionRefusedError(111, "refused")):
                self.env["mail.mail"].process_email_queue()
            self.env["mail.mail"].process_email_queue()
        self.assertEqual(self.emails, [])
        self.assertEqual(self.mail.state, "sent")

    def test_unconfirmed_notification_counts_as_delivered(self):
        ticket = self._ticket(self.giulia.partner_id)
        ticket.message_post(body="Risposta", message_type="comment", subtype_xmlid="mail.mt_comment",
                            partner_ids=self.giulia.partner_id.ids)
        notification = self.env["mail.notification"].search([
            ("res_partner_id", "=", self.giulia.partner_id.id), ("notification_type", "=", "email"),
            ("mail_message_id.model", "=", "terasoft.ticket"), ("mail_message_id.res_id", "=", ticket.id)])
        mail = notification.mail_mail_id
        self.assertEqual(mail.state, "outgoing")
        self._record_handoff(mail)
        with self._smtp_server(), mute_logger(MAIL_LOGGER):
            self.env["mail.mail"].process_email_queue()
        self.assertNotIn(self.giulia.email, [to for email in self.emails for to in email["smtp_to_list"]])
        self.assertEqual(notification.notification_status, "sent")

    def test_other_mails_of_the_batch_are_still_sent(self):
        other = self._mail("Ticket risolto")
        self._record_handoff(self.mail)
        with self._smtp_server(), mute_logger(MAIL_LOGGER):
            self.env["mail.mail"].process_email_queue()
        self.assertEqual(self._sent_subjects(), ["Ticket risolto"])
        self.assertEqual((self.mail | other).mapped("state"), ["sent", "sent"])

    def test_smtp_refusal_deletes_the_handoff(self):
        with self._smtp_server(side_effect=smtplib.SMTPRecipientsRefused({"cliente@example.com": (550, b"no")})), \
                mute_logger(ODOO_MAIL_LOGGER, "odoo.addons.base.models.ir_mail_server"):
            self.mail.send()
        self.assertEqual(self.mail.state, "exception")
        self.assertEqual(self._handoffs(), [])

    def test_lost_smtp_session_leaves_the_mail_queued_for_the_next_run(self):
        with self._smtp_server(side_effect=smtplib.SMTPServerDisconnected("gone")), mute_logger(ODOO_MAIL_LOGGER):
            sending_transaction = self.env.cr.savepoint()
            with self.assertRaises(smtplib.SMTPServerDisconnected):
                self.mail.send()
            self.assertEqual(self._handoffs(), [], "deleted in its own transaction: nothing was accepted")
            sending_transaction.close(rollback=True)  # what its owner does with the exception
        self.assertEqual(self.mail.state, "outgoing")
        with self._smtp_server():
            self.env["mail.mail"].process_email_queue()
        self.assertEqual(self._sent_subjects(), ["Ticket ricevuto"])

    def test_handoff_that_cannot_be_recorded_sends_nothing(self):
        with self._smtp_server(), \
                patch.object(self.env.registry, "cursor", side_effect=psycopg2.OperationalError("server closed")), \
                mute_logger(ODOO_MAIL_LOGGER), self.assertRaises(SmtpHandoffNotRecorded), self.env.cr.savepoint():
            self.mail.send()
        self.assertEqual(self.emails, [])
        self.assertEqual(self.mail.state, "outgoing")

    def test_mail_handed_over_by_another_run_is_not_sent(self):
        # another process recorded the handoff between this run's check and its SMTP exchange
        prepare = self.MailMail._prepare_outgoing_list

        def prepare_while_another_run_hands_it_over(mails, *args, **kwargs):
            self._record_handoff(mails)
            return prepare(mails, *args, **kwargs)
        with self._smtp_server(), \
                patch.object(self.MailMail, "_prepare_outgoing_list", prepare_while_another_run_hands_it_over), \
                mute_logger(ODOO_MAIL_LOGGER), self.assertRaises(SmtpHandoffNotRecorded), self.env.cr.savepoint():
            self.mail.send()
        self.assertEqual(self.emails, [])

    def test_mail_queued_again_forgets_its_handoff(self):
        self._record_handoff(self.mail)
        self.mail.write({"state": "exception", "failure_type": "unknown"})
        with self._smtp_server():
            self.mail.action_retry()
            self.assertEqual(self._handoffs(), [])
            self.env["mail.mail"].process_email_queue()
        self.assertEqual(self._sent_subjects(), ["Ticket ricevuto"])

    def test_queue_run_deletes_handoffs_of_mails_no_longer_queued(self):
        sent = self._mail("Inviata")
        sent.state = "sent"
        self._record_handoff(sent)
        self._record_handoff(self.mail)
        self.env.cr.execute("INSERT INTO terasoft_mail_handoff (mail_id, handoff_date) "
                            "VALUES (-1, now() AT TIME ZONE 'UTC')")  # its mail was deleted
        with self._smtp_server():
            self.env["mail.mail"]._smtp_handoff_cleanup()
            self.assertEqual(self._handoffs(sent | self.mail), [self.mail.id])
        self.env.cr.execute("SELECT count(*) FROM terasoft_mail_handoff WHERE mail_id = -1")
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_failed_sending_after_commit_is_logged_not_raised(self):
        # PostgreSQL restarting while a request's notifications are sent after its commit: the
        # request is committed and must answer normally, the mails stay queued
        with self.enter_registry_test_mode(), patch.object(modules.module, "current_test", False), \
                patch.object(self.MailMail, "send", side_effect=psycopg2.OperationalError("server closed")), \
                self.assertLogs(MAIL_LOGGER, logging.WARNING) as logs:
            self.mail.send_after_commit()
            self.env.cr.postcommit.run()
        self.assertIn("stay queued", logs.output[0])
        self.assertEqual(self.mail.state, "outgoing")
