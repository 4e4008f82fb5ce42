"""The email queue sends a mail at most once when a run dies between the SMTP server's acceptance
and the commit of the outcome, and loses none in an SMTP outage (terasoft_mail_once).

The SMTP server is Odoo's test double (MockSmtplibCase); the handoff records are written through
registry cursors, which the registry test mode keeps inside the test transaction.
"""

import logging
import smtplib
from contextlib import contextmanager
from unittest.mock import patch

import psycopg2

from odoo import modules, sql_db
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.base.models.ir_mail_server import IrMail_Server
from odoo.addons.base.tests.common import MockSmtplibCase
from odoo.addons.terasoft_mail_once.models.mail_mail import ADVISORY_LOCK_CLASS, SmtpHandoffNotRecorded

MAIL_LOGGER = "odoo.addons.terasoft_mail_once.models.mail_mail"
ODOO_MAIL_LOGGER = "odoo.addons.mail.models.mail_mail"


@tagged("post_install", "-at_install")
class TestMailOnce(MockSmtplibCase, TransactionCase):
    def setUp(self):
        super().setUp()
        self.MailMail = type(self.env["mail.mail"])
        self.mail = self._mail("Ticket ricevuto")
        # rows committed by other suites' runs (a TransactionCase sending mails outside the
        # registry test mode records its handoffs through a real cursor) are not this test's
        self.env.cr.execute("SELECT COALESCE(max(id), 0) FROM terasoft_mail_handoff")
        self.first_handoff_id = self.env.cr.fetchone()[0] + 1

    def _mail(self, subject, **vals):
        return self.env["mail.mail"].create(
            {
                "subject": subject,
                "body_html": "<p>x</p>",
                "email_from": "supporto@example.com",
                "email_to": "cliente@example.com",
                "auto_delete": False,
                **vals,
            }
        )

    def _handoffs(self):
        self.env.cr.execute(
            "SELECT id, mail_ids, ordered FROM terasoft_mail_handoff WHERE id >= %s ORDER BY id",
            [self.first_handoff_id],
        )
        return self.env.cr.fetchall()

    def _record_handoff(self, mails, ordered=False):
        """The handoff record a run leaves when it dies after handing ``mails`` over."""
        self.env.cr.execute(
            "INSERT INTO terasoft_mail_handoff (mail_ids, ordered, handoff_date) "
            "VALUES (%s, %s, now() AT TIME ZONE 'UTC') RETURNING id",
            [mails.ids, ordered],
        )
        return self.env.cr.fetchone()[0]

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

    def test_one_handoff_per_batch_recorded_before_the_smtp_exchange(self):
        mails = self.mail | self._mail("Ticket risolto") | self._mail("Ticket chiuso")
        seen_during_exchange = []

        def send_and_look(session, message, *args, **kwargs):
            seen_during_exchange.append(self._handoffs())
            self.emails.append({"message": message.as_string()})

        with self._smtp_server(new=send_and_look):
            mails.send()
        self.assertEqual(len(seen_during_exchange), 3)
        self.assertEqual(len(seen_during_exchange[0]), 1, "one handoff for the batch, not one per mail")
        self.assertEqual(seen_during_exchange[0][0][1], mails.ids, "the batch's mails, in sending order")
        self.assertEqual(seen_during_exchange[0], seen_during_exchange[2])
        self.assertEqual(mails.mapped("state"), ["sent"] * 3)
        self.env["mail.mail"]._smtp_handoff_cleanup()  # or after the commit (post-commit hook)
        self.assertEqual(self._handoffs(), [])

    def test_batching_kept_with_a_constant_cost_per_batch(self):
        """One SMTP session per batch as in Odoo, and a cost per batch, not per mail."""

        def queries(count, enabled=True):
            mails = self.env["mail.mail"].concat(*(self._mail(f"Lotto {i}") for i in range(count)))
            self.env.flush_all()
            self.env.invalidate_all()
            with self._smtp_server(), patch.object(self.MailMail, "_smtp_handoff_enabled", lambda _: enabled):
                before = self.env.cr.sql_log_count
                mails.send()
                self.env.flush_all()
                self.assertEqual(self.connect_mocked.call_count, 1, "one SMTP session for the batch")
                return self.env.cr.sql_log_count - before

        one, one_odoo = queries(1), queries(1, enabled=False)
        ten, ten_odoo = queries(10), queries(10, enabled=False)
        # resolve, nextval, lock, INSERT (its own transaction: savepoints in the test mode), unlock
        self.assertLessEqual(one - one_odoo, 15, (one, one_odoo))
        self.assertLessEqual(ten - ten_odoo, one - one_odoo + 1, (ten, ten_odoo, one, one_odoo))

    def test_queue_run_left_by_a_dead_run_counts_only_the_mail_in_flight(self):
        # the queue commits each mail's outcome in order: after a crash, only the first mail
        # still queued may have been accepted by the SMTP server
        done, second, third = self._mail("Inviata"), self._mail("Seconda"), self._mail("Terza")
        done.state = "sent"
        self._record_handoff(done | self.mail | second | third, ordered=True)
        with self._smtp_server(), self.assertLogs(MAIL_LOGGER, logging.WARNING) as logs:
            self.env["mail.mail"].process_email_queue()
        self.assertEqual(sorted(self._sent_subjects()), ["Seconda", "Terza"])
        self.assertEqual((self.mail | second | third).mapped("state"), ["sent"] * 3)
        self.assertEqual(len(logs.output), 1)
        self.assertIn(f"mail.mail {self.mail.id} ", logs.output[0])
        self.assertIn("counted as sent, not sent again", logs.output[0])
        self.env["mail.mail"]._smtp_handoff_cleanup()  # this run's own row (deleted post-commit)
        self.assertEqual(self._handoffs(), [])

    def test_batch_committed_at_once_left_by_a_dead_run_counts_all_as_sent(self):
        other = self._mail("Ticket risolto")
        self._record_handoff(self.mail | other)
        with self._smtp_server(), mute_logger(MAIL_LOGGER):
            self.env["mail.mail"].process_email_queue()
        self.assertEqual(self.emails, [])
        self.assertEqual((self.mail | other).mapped("state"), ["sent", "sent"])

    def test_batch_of_a_live_sender_is_left_to_it(self):
        handoff_id = self._record_handoff(self.mail)
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other_process:
            other_process.execute("SELECT pg_advisory_lock(%s, %s)", [ADVISORY_LOCK_CLASS, handoff_id])
            try:
                with self._smtp_server():
                    self.env["mail.mail"].process_email_queue()
            finally:
                other_process.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_LOCK_CLASS, handoff_id])
        self.assertEqual(self.emails, [])
        self.assertEqual(self.mail.state, "outgoing")
        self.assertEqual(len(self._handoffs()), 1)

    def test_mail_left_by_a_dead_run_is_not_sent_again_after_an_smtp_outage(self):
        # found by the reliability suite: the queue ran while the SMTP server was down (the
        # whole batch is marked failed and queued again later)
        self._record_handoff(self.mail)
        with self._smtp_server(), mute_logger(MAIL_LOGGER, ODOO_MAIL_LOGGER):
            with patch.object(IrMail_Server, "_connect__", side_effect=ConnectionRefusedError(111, "refused")):
                self.env["mail.mail"].process_email_queue()
            self.env["mail.mail"].process_email_queue()
        self.assertEqual(self.emails, [])
        self.assertEqual(self.mail.state, "sent")

    def test_unconfirmed_notification_counts_as_delivered(self):
        partner = self.env["res.partner"].create({"name": "Cliente", "email": "cliente.notifica@example.com"})
        record = self.env["res.partner"].create({"name": "Pratica"})
        record.message_post(
            body="Risposta", message_type="comment", subtype_xmlid="mail.mt_comment", partner_ids=partner.ids
        )
        notification = self.env["mail.notification"].search(
            [("res_partner_id", "=", partner.id), ("notification_type", "=", "email")]
        )
        mail = notification.mail_mail_id
        self.assertEqual(mail.state, "outgoing")
        self._record_handoff(mail)
        with self._smtp_server(), mute_logger(MAIL_LOGGER):
            self.env["mail.mail"].process_email_queue()
        self.assertNotIn(partner.email, [to for email in self.emails for to in email["smtp_to_list"]])
        self.assertEqual(notification.notification_status, "sent")

    def test_smtp_refusal_is_recorded_as_odoo_does_and_raises_nothing(self):
        with (
            self._smtp_server(side_effect=smtplib.SMTPRecipientsRefused({"cliente@example.com": (550, b"no")})),
            mute_logger(ODOO_MAIL_LOGGER, "odoo.addons.base.models.ir_mail_server"),
        ):
            self.mail.send(raise_exception=False)
        self.assertEqual(self.mail.state, "exception")
        self.assertFalse(self.mail.terasoft_smtp_retry)
        self.env["mail.mail"]._smtp_handoff_cleanup()
        self.assertEqual(self._handoffs(), [])

    def test_lost_smtp_session_leaves_the_mail_queued_for_the_next_run(self):
        with self._smtp_server(side_effect=smtplib.SMTPServerDisconnected("gone")), mute_logger(ODOO_MAIL_LOGGER):
            sending_transaction = self.env.cr.savepoint()
            with self.assertRaises(smtplib.SMTPServerDisconnected):  # as Odoo does
                self.mail.send()
            self.assertEqual(self._handoffs(), [], "deleted: nothing was accepted")
            sending_transaction.close(rollback=True)  # what its owner does with the exception
        self.assertEqual(self.mail.state, "outgoing")
        with self._smtp_server():
            self.env["mail.mail"].process_email_queue()
        self.assertEqual(self._sent_subjects(), ["Ticket ricevuto"])

    def test_handoff_that_cannot_be_recorded_sends_nothing(self):
        with (
            self._smtp_server(),
            patch.object(self.env.registry, "cursor", side_effect=psycopg2.OperationalError("server closed")),
            mute_logger(ODOO_MAIL_LOGGER),
            self.assertRaises(SmtpHandoffNotRecorded),
            self.env.cr.savepoint(),
        ):
            self.mail.send()  # a database error: Odoo raises it too
        self.assertEqual(self.emails, [])
        self.assertEqual(self.mail.state, "outgoing")

    def test_sent_mail_set_back_to_outgoing_is_sent_again(self):
        with self._smtp_server():
            self.mail.send(raise_exception=False)
            self.mail.write({"state": "outgoing"})
            self.mail.send(raise_exception=False)
        self.assertEqual(self._sent_subjects(), ["Ticket ricevuto", "Ticket ricevuto"])

    def test_mail_queued_again_forgets_its_handoff(self):
        other = self._mail("Altra")
        self._record_handoff(self.mail | other)
        self.mail.write({"state": "exception", "failure_type": "unknown"})
        with self._smtp_server(), mute_logger(MAIL_LOGGER):
            self.mail.action_retry()
            self.assertEqual(self._handoffs()[0][1], other.ids)
            self.env["mail.mail"].process_email_queue()
        self.assertEqual(self._sent_subjects(), ["Ticket ricevuto"])

    def test_queue_run_deletes_handoffs_of_mails_no_longer_queued(self):
        sent = self._mail("Inviata")
        sent.state = "sent"
        self._record_handoff(sent)
        kept = self._record_handoff(self.mail)
        self.env.cr.execute(
            "INSERT INTO terasoft_mail_handoff (mail_ids, handoff_date) VALUES ('{-1}', now() AT TIME ZONE 'UTC')"
        )  # its mail was deleted
        with self._smtp_server():
            self.env["mail.mail"]._smtp_handoff_cleanup()
        self.assertEqual([row[0] for row in self._handoffs()], [kept])

    def test_failed_sending_after_commit_is_logged_not_raised(self):
        # PostgreSQL restarting while a request's notifications are sent after its commit: the
        # request is committed and must answer normally, the mails stay queued
        with (
            self.enter_registry_test_mode(),
            patch.object(modules.module, "current_test", False),
            patch.object(self.MailMail, "send", side_effect=psycopg2.OperationalError("server closed")),
            self.assertLogs(MAIL_LOGGER, logging.WARNING) as logs,
        ):
            self.mail.send_after_commit()
            self.env.cr.postcommit.run()
        self.assertIn("stay queued", logs.output[0])
        self.assertEqual(self.mail.state, "outgoing")


@tagged("post_install", "-at_install")
class TestMailQueueAfterSmtpOutage(TransactionCase):
    def _mail(self):
        return self.env["mail.mail"].create(
            {"subject": "Ticket", "body_html": "<p>x</p>", "email_to": "cliente@example.com", "auto_delete": False}
        )

    def test_mail_queued_during_smtp_outage_is_sent_when_smtp_is_back(self):
        mail = self._mail()
        with (
            patch.object(IrMail_Server, "_connect__", side_effect=ConnectionRefusedError(111, "refused")),
            mute_logger(ODOO_MAIL_LOGGER),
        ):
            self.env["mail.mail"].process_email_queue()
        # Odoo's own fields as Odoo writes them (no failure_type on the mail)
        self.assertRecordValues(mail, [{"state": "exception", "failure_type": False, "terasoft_smtp_retry": True}])
        sent = []
        with patch.object(type(self.env["mail.mail"]), "send", lambda mails, **kw: sent.extend(mails.ids)):
            self.env["mail.mail"].process_email_queue()
        self.assertIn(mail.id, sent)
        self.assertRecordValues(mail, [{"state": "outgoing", "terasoft_smtp_retry": False}])

    def test_mail_failed_for_another_reason_is_not_retried(self):
        mail = self._mail()
        mail.write({"state": "exception", "failure_type": "mail_email_invalid"})
        self.env["mail.mail"].process_email_queue()
        self.assertEqual(mail.state, "exception")
