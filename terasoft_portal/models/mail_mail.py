import logging
import smtplib
from datetime import timedelta

import psycopg2

from odoo import SUPERUSER_ID, api, fields, models, modules
from odoo.modules.registry import Registry
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

SMTP_RETRY_DAYS = 3


class SmtpHandoffNotRecorded(smtplib.SMTPServerDisconnected):
    """The handoff of a mail to the SMTP server could not be recorded (database unreachable), or
    another process is handing it over: the mail is not handed to the SMTP server.

    A subclass of SMTPServerDisconnected on purpose: ``mail.mail._send`` and
    ``ir.mail_server.send_email`` then treat it as Odoo treats a lost SMTP session. The batch
    stops, the transaction is rolled back by its owner, and the mails stay queued.
    """


class SmtpHandoffSession:
    """The SMTP session, as seen by the sending of one mail: the handoff is recorded right
    before the first message of the mail goes to the server, and forgotten when the server
    did not accept any of them."""

    def __init__(self, session, mail):
        self._session = session
        self._mail = mail
        self._recorded = False
        self._accepted = False

    def __getattr__(self, name):
        return getattr(self._session, name)

    def send_message(self, *args, **kwargs):
        if not self._recorded:
            self._mail._smtp_handoff_record()
            self._recorded = True
        try:
            result = self._session.send_message(*args, **kwargs)
        except Exception:
            if not self._accepted:
                self._mail._smtp_handoff_forget(self._mail.ids)
            raise
        self._accepted = True
        return result


class MailMail(models.Model):
    """Email queue: no mail lost in an SMTP outage, none sent twice after a crash.

    Odoo's queue is at-least-once: a mail is marked 'sent' in the transaction that sends it, so
    when that transaction cannot commit after the SMTP server accepted the mail (process killed,
    PostgreSQL restarting), the mail is still 'outgoing' and the next run sends it again. Here a
    row of ``terasoft.mail.handoff`` is committed, in its own transaction, right before a mail is
    handed to the SMTP server. A mail still 'outgoing' with such a row was handed over by a run
    that never recorded the outcome: send() counts it as sent and logs it, never sends it again
    (at-most-once on that window). Once the outcome is committed, the row is useless but
    harmless (its mail is no longer 'outgoing'): process_email_queue deletes such rows in one
    statement, rather than one more transaction (and disk flush) per mail sent.

    Every crash point of one mail, in order:

    1. before the handoff row is committed (rendering, building the message; kill -9 or
       PostgreSQL down): nothing was sent, no row; the mail stays 'outgoing' and the next run
       sends it. Not lost, not twice.
    2. the handoff row cannot be committed (PostgreSQL down) or another process holds it:
       SmtpHandoffNotRecorded, nothing is handed over; as 1.
    3. between the committed row and the server's acceptance (the SMTP exchange itself):
       - the server refuses or the session breaks (exception): the row is deleted, Odoo records
         the failure (or rolls back on a lost session): retried as Odoo does;
       - the process dies or that delete fails as well (two faults at once): the mail counts as
         sent without having been accepted. The only loss, logged as a warning for review.
    4. accepted, outcome not committed (kill -9, PostgreSQL restart, commit failure): the row
       and the 'outgoing' state remain; the next run counts the mail as sent and logs it. Not
       twice (this was the duplicate the reliability suite found).
    5. outcome committed: the row stays until the next queue run deletes it; the mail is no
       longer 'outgoing', and a mail queued again (Retry) drops its row first.
    6. SMTP server unreachable: the connection fails before any handoff; Odoo marks the batch
       failed with failure_type 'mail_smtp' and process_email_queue queues it again. send()
       counts the mails of the batch left by a dead run (case 4) as sent before connecting,
       so they never enter that retry loop.
    7. two processes on the same mail (post-commit sending of a request and the queue's cron):
       the sender locks the mail's row before recording, and the row is unique per mail, so
       the second one stops before the SMTP exchange.

    A message with several recipients is handed over once per recipient: after a crash in the
    middle, the recipients not reached yet are not retried (at-most-once per mail).
    Mails sent with ``_disable_send`` (tests, registry loading) or without a pre-opened SMTP
    session are sent by Odoo unchanged.
    """
    _inherit = "mail.mail"

    def _postprocess_sent_message(self, success_pids, success_emails, failure_reason=False, failure_type=None):
        # When the SMTP server cannot be reached, Odoo sets the whole batch to 'exception' and
        # the queue never sends 'exception' mails again: remember the cause, so that
        # process_email_queue can retry them once the server is back (found by the
        # reliability suite: mails queued during an SMTP outage were lost).
        if failure_type == "mail_smtp":
            self.filtered(lambda mail: mail.state == "exception").sudo().write({"failure_type": "mail_smtp"})
        return super()._postprocess_sent_message(
            success_pids, success_emails, failure_reason=failure_reason, failure_type=failure_type)

    def mark_outgoing(self):
        # a mail queued again by hand (Retry button) is to be sent again: forget the handoff of
        # an earlier attempt, which would make it count as sent. Not in write(): the queue's
        # own requeue after an SMTP outage must keep it (see send()).
        if self._smtp_handoff_enabled():
            self._smtp_handoff_forget(self.ids)
        return super().mark_outgoing()

    @api.model
    def process_email_queue(self, email_ids=(), batch_size=1000):
        """Requeue the recent mails that failed only because the SMTP server was unreachable
        (``failure_type='mail_smtp'``, at most SMTP_RETRY_DAYS old), then send the queue."""
        self._smtp_handoff_cleanup()
        self.sudo().search([
            ("state", "=", "exception"),
            ("failure_type", "=", "mail_smtp"),
            ("create_date", ">=", fields.Datetime.now() - timedelta(days=SMTP_RETRY_DAYS)),
        ]).write({"state": "outgoing", "failure_type": False})
        return super().process_email_queue(email_ids=email_ids, batch_size=batch_size)

    def send_after_commit(self):
        """As in mail, but a failure of the sending after the commit is logged, not raised.

        The transaction that queued the mails is committed by then: raising from the post-commit
        hook turns the request's successful answer into a 500 (seen while PostgreSQL restarted)
        and skips the hooks after it. The mails stay queued for the queue's cron; their handoff
        rows keep it from sending twice what the failed run had handed over.
        """
        if modules.module.current_test:
            return super().send_after_commit()
        email_ids = self.ids
        dbname = self.env.cr.dbname
        context = self.env.context

        @self.env.cr.postcommit.add
        def send_emails_with_new_cursor():
            try:
                with Registry(dbname).cursor() as cr:
                    api.Environment(cr, SUPERUSER_ID, context)["mail.mail"].browse(email_ids).send()
            except Exception:
                _logger.warning("Sending %s email(s) after commit failed; they stay queued for the mail queue.",
                                len(email_ids), exc_info=True)

    def send(self, auto_commit=False, raise_exception=False, post_send_callback=None):
        # Before connecting: when the SMTP server is unreachable, Odoo marks the whole batch
        # failed ('mail_smtp', queued again later), and a mail handed over by a dead run must
        # not go through that and be sent again.
        if self and self._smtp_handoff_enabled():
            self -= self._smtp_handoff_count_unconfirmed_as_sent()
        return super().send(auto_commit=auto_commit, raise_exception=raise_exception,
                            post_send_callback=post_send_callback)

    def _send(self, auto_commit=False, raise_exception=False, smtp_session=None, alias_domain_id=False,
              mail_server=False, post_send_callback=None):
        kwargs = dict(auto_commit=auto_commit, raise_exception=raise_exception, alias_domain_id=alias_domain_id,
                      mail_server=mail_server, post_send_callback=post_send_callback)
        if smtp_session is None or not self._smtp_handoff_enabled():
            return super()._send(smtp_session=smtp_session, **kwargs)
        # one mail at a time, so that the session knows which mail it hands over
        for mail in self:
            super(MailMail, mail)._send(smtp_session=SmtpHandoffSession(smtp_session, mail), **kwargs)
        return True

    # ------------------------------------------------------------ SMTP handoff records
    @api.model
    def _smtp_handoff_enabled(self):
        # no mail leaves while sending is disabled (tests, registry loading): nothing to record
        return not self.env["ir.mail_server"]._disable_send()

    def _smtp_handoff_record(self):
        """Commit, in its own transaction, that this mail is being handed to the SMTP server,
        after locking its row in the sending transaction. Raises SmtpHandoffNotRecorded when the
        record cannot be written or another process holds one."""
        self.ensure_one()
        try:
            # the lock tells _smtp_handoff_count_unconfirmed_as_sent that this sender is alive
            self.env.cr.execute(SQL("SELECT id FROM mail_mail WHERE id = %s FOR NO KEY UPDATE", self.id))
            with self.env.registry.cursor() as cr:
                cr.execute(SQL("""
                    INSERT INTO terasoft_mail_handoff (mail_id, message_id, handoff_date)
                    VALUES (%s, %s, now() AT TIME ZONE 'UTC')
                    ON CONFLICT (mail_id) DO NOTHING
                    RETURNING mail_id
                """, self.id, self.message_id))
                recorded = cr.fetchone()
        except psycopg2.Error as exc:
            raise SmtpHandoffNotRecorded(f"mail.mail {self.id}: handoff not recorded ({exc}), not sent") from exc
        if not recorded:
            raise SmtpHandoffNotRecorded(f"mail.mail {self.id} is being handed to the SMTP server by another run")

    @api.model
    def _smtp_handoff_forget(self, mail_ids):
        """Delete the handoff records of ``mail_ids`` in their own transaction (best effort:
        a record left behind makes a still 'outgoing' mail count as sent)."""
        if not mail_ids:
            return
        try:
            with self.env.registry.cursor() as cr:
                cr.execute(SQL("DELETE FROM terasoft_mail_handoff WHERE mail_id IN %s", tuple(mail_ids)))
        except Exception:  # noqa: BLE001 - called from error paths and post-commit hooks: never raise
            _logger.warning("Could not delete the SMTP handoff records of mail.mail %s", mail_ids, exc_info=True)

    @api.model
    def _smtp_handoff_cleanup(self):
        """Delete the handoff records whose mail is no longer queued (sent, failed or deleted)."""
        if not self._smtp_handoff_enabled():
            return
        try:
            with self.env.registry.cursor() as cr:
                cr.execute(SQL("""
                    DELETE FROM terasoft_mail_handoff h
                     WHERE NOT EXISTS (SELECT 1 FROM mail_mail m WHERE m.id = h.mail_id AND m.state = 'outgoing')
                """))
        except psycopg2.Error:
            _logger.warning("Could not clean up the SMTP handoff records", exc_info=True)

    def _smtp_handoff_count_unconfirmed_as_sent(self):
        """Mark as sent the mails of ``self`` handed to the SMTP server by a run that stopped
        before recording the outcome (still 'outgoing', handoff record, row not locked by a live
        sender); return them."""
        self.env.cr.execute(SQL("""
            SELECT m.id FROM mail_mail m
              JOIN terasoft_mail_handoff h ON h.mail_id = m.id
             WHERE m.id IN %s AND m.state = 'outgoing'
               FOR NO KEY UPDATE OF m SKIP LOCKED
        """, tuple(self.ids)))
        unconfirmed = self.browse([row[0] for row in self.env.cr.fetchall()])
        if not unconfirmed:
            return unconfirmed
        for mail in unconfirmed:
            _logger.warning(
                "mail.mail %s (Message-Id %s) was handed to the SMTP server by a run that stopped before "
                "recording the outcome: counted as sent, not sent again", mail.id, mail.message_id)
        unconfirmed.write({"state": "sent", "failure_type": False, "failure_reason": False})
        unconfirmed._postprocess_sent_message(success_pids=[], success_emails=[])
        return unconfirmed
