import logging
import smtplib
from datetime import timedelta

import psycopg2

from odoo import SUPERUSER_ID, api, fields, models, modules
from odoo.modules.registry import Registry
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

SMTP_RETRY_DAYS = 3
# first key of the PostgreSQL advisory locks that tell a live sender (the second is the row id)
ADVISORY_LOCK_CLASS = 0x7E4A  # "terasoft mail"


class SmtpHandoffNotRecorded(smtplib.SMTPServerDisconnected):
    """The handoff of a batch to the SMTP server could not be recorded (database unreachable):
    nothing is handed over. A subclass of SMTPServerDisconnected on purpose: ``ir.mail_server``
    would wrap any other error into a delivery failure of the mail; ``mail.mail._send`` treats
    it as Odoo treats a lost SMTP session or a database error (raised, whatever
    ``raise_exception``): the owner rolls back, the mails stay queued."""


class SmtpHandoffSession:
    """The SMTP session of one batch, as seen by ``mail.mail._send``: the handoff of the batch
    is recorded right before the first message goes to the server."""

    def __init__(self, session, record):
        self._session = session
        self._record = record
        self.handoff_id = None

    def __getattr__(self, name):
        return getattr(self._session, name)

    def send_message(self, *args, **kwargs):
        if self.handoff_id is None:
            self.handoff_id = self._record()
        return self._session.send_message(*args, **kwargs)


class MailMail(models.Model):
    """Email queue: none sent twice after a crash, none lost in an SMTP outage (opt-in addon).

    Odoo's queue is at-least-once: a mail is marked 'sent' in the transaction that sends it, so
    when that transaction cannot commit after the SMTP server accepted the mail (process killed,
    PostgreSQL restarting), the mail is still 'outgoing' and the next run sends it again. Here,
    right before the first message of a batch (one ``_send`` call, one SMTP session) is handed to
    the SMTP server, a row of ``terasoft.mail.handoff`` listing the batch's mails in sending order
    is committed in its own transaction, and the sender holds a PostgreSQL advisory lock on it
    (until its COMMIT, or for the mail queue's runs, which commit mail by mail, until the end of
    the batch; it dies with the connection). Cost: 2 queries per batch (3 for the queue's runs,
    plus one to resolve the batches of dead runs), and one short transaction after the COMMIT. Odoo's
    batching is kept: one row and one extra transaction per batch, not per mail.

    A mail still 'outgoing' in the row of a batch whose lock is free was left by a run that died.
    The mail queue's send() resolves such a batch before connecting:

    * the mail queue commits the outcome of each mail in order (``auto_commit``, the row is
      ``ordered``): only the first mail of the batch still 'outgoing' may have been handed over;
      it counts as sent (logged), the others are sent normally;
    * other senders (``send()`` of a request, after its commit) commit the batch at once: every
      mail of the batch still 'outgoing' may have been handed over; they count as sent (logged).
      A crash in the middle of such a batch can thus lose the mails not reached yet: the price
      of at-most-once without one more transaction per mail.

    Mails of a batch whose sender is alive are left to it (not sent twice by two processes).
    An error that leaves ``_send`` (lost SMTP session, database error) deletes the row: its
    owner rolls back, the mails stay queued, and are sent again as Odoo does. After a batch the
    row is deleted once its outcome is committed (post-commit); rows whose mails are no longer
    'outgoing' are deleted by the next queue run. A mail written back to 'outgoing' leaves the
    rows (it is to be sent again).

    The SMTP server unreachable: Odoo sets the whole batch to 'exception' and never sends it
    again. The mails of such a batch are marked (``terasoft_smtp_retry``, Odoo's own fields are
    left as Odoo writes them) and queued again by the next queue runs for SMTP_RETRY_DAYS.

    Mails sent with ``_disable_send`` (tests, registry loading) are sent by Odoo unchanged.
    """

    _inherit = "mail.mail"

    terasoft_smtp_retry = fields.Boolean(
        string="Retry When the SMTP Server Is Back",
        readonly=True,
        copy=False,
        help="Failed because the SMTP server could not be reached: queued again by the mail queue.",
    )

    def _postprocess_sent_message(self, success_pids, success_emails, failure_reason=False, failure_type=None):
        if failure_type == "mail_smtp":
            # send() could not connect: the whole batch is in exception, remember to retry it
            self.filtered(lambda mail: mail.state == "exception").sudo().write({"terasoft_smtp_retry": True})
        return super()._postprocess_sent_message(
            success_pids, success_emails, failure_reason=failure_reason, failure_type=failure_type
        )

    def write(self, vals):
        # a mail queued again (Retry button, or set back to 'outgoing' by code) is to be sent
        # again: drop it from the handoff of an earlier attempt, which would make it count as
        # sent. send() resolves the handoffs of dead runs before connecting, so the queue's own
        # requeue after an SMTP outage cannot resend a mail a dead run had handed over.
        if vals.get("state") == "outgoing":
            self._smtp_handoff_forget_mails()
        return super().write(vals)

    @api.model
    def process_email_queue(self, email_ids=(), batch_size=1000):
        """Requeue the recent mails that failed only because the SMTP server was unreachable,
        then send the queue."""
        self._smtp_handoff_cleanup()
        self.sudo().search(
            [
                ("state", "=", "exception"),
                ("terasoft_smtp_retry", "=", True),
                ("create_date", ">=", fields.Datetime.now() - timedelta(days=SMTP_RETRY_DAYS)),
            ]
        ).write({"state": "outgoing", "terasoft_smtp_retry": False, "failure_reason": False})
        # the queue's runs resolve the batches left by dead runs (see send())
        return super(MailMail, self.with_context(terasoft_mail_queue=True)).process_email_queue(
            email_ids=email_ids, batch_size=batch_size
        )

    def send_after_commit(self):
        """As in mail, but a failure of the sending after the commit is logged, not raised.

        The transaction that queued the mails is committed by then: raising from the post-commit
        hook turns the request's successful answer into a 500 (seen while PostgreSQL restarted)
        and skips the hooks after it. The mails stay queued for the queue's cron.
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
                _logger.warning(
                    "Sending %s email(s) after commit failed; they stay queued for the mail queue.",
                    len(email_ids),
                    exc_info=True,
                )

    def send(self, auto_commit=False, raise_exception=False, post_send_callback=None):
        # The queue's runs, before connecting: a mail handed over by a dead run must not be sent
        # again (nor go through the SMTP-outage retry), a mail another live run is sending is
        # left to it. Other senders (a request's force_send, send_after_commit) send the mails
        # they just created, which no other run holds: they skip that query.
        if self and self.env.context.get("terasoft_mail_queue") and self._smtp_handoff_enabled():
            self -= self._smtp_handoff_resolve()
        return super().send(
            auto_commit=auto_commit, raise_exception=raise_exception, post_send_callback=post_send_callback
        )

    def _send(
        self,
        auto_commit=False,
        raise_exception=False,
        smtp_session=None,
        alias_domain_id=False,
        mail_server=False,
        post_send_callback=None,
    ):
        kwargs = dict(
            auto_commit=auto_commit,
            raise_exception=raise_exception,
            alias_domain_id=alias_domain_id,
            mail_server=mail_server,
            post_send_callback=post_send_callback,
        )
        if smtp_session is None or not self._smtp_handoff_enabled():
            return super()._send(smtp_session=smtp_session, **kwargs)
        session = SmtpHandoffSession(smtp_session, lambda: self._smtp_handoff_record(ordered=auto_commit is True))
        try:
            result = super()._send(smtp_session=session, **kwargs)
        except Exception:
            if session.handoff_id:
                # the owner rolls back what was not committed: those mails stay queued
                self._smtp_handoff_forget(session.handoff_id)
            raise
        finally:
            if session.handoff_id and auto_commit is True:
                self._smtp_handoff_unlock(session.handoff_id)
        if session.handoff_id:
            # useless once the outcome is committed (the sending transaction cannot see the row:
            # it was committed after its snapshot); left behind by a crash, the next queue run
            # deletes it
            handoff_id = session.handoff_id
            self.env.cr.postcommit.add(lambda: self._smtp_handoff_forget(handoff_id))
        return result

    # ------------------------------------------------------------ SMTP handoff records
    @api.model
    def _smtp_handoff_enabled(self):
        # no mail leaves while sending is disabled (tests, registry loading): nothing to record
        return not self.env["ir.mail_server"]._disable_send()

    def _smtp_handoff_record(self, ordered):
        """Lock a new handoff id on the sending connection, then commit the handoff row of the
        batch ``self`` in its own transaction; return its id. A database error propagates: the
        batch stops before anything is handed over (SmtpHandoffNotRecorded)."""
        cr = self.env.cr
        # The lock tells the queue's runs that this sender is alive. The mail queue commits
        # mail by mail: a session lock, released in _send (or with the connection); other
        # senders commit the batch at once: a transaction lock, released by their COMMIT.
        lock = "pg_advisory_lock" if ordered else "pg_advisory_xact_lock"
        try:
            cr.execute(
                SQL(
                    "SELECT id, %s(%s, id::int) FROM (SELECT nextval('terasoft_mail_handoff_id_seq') AS id) AS handoff",
                    SQL(lock),
                    ADVISORY_LOCK_CLASS,
                )
            )
            handoff_id = cr.fetchone()[0]
        except psycopg2.Error as exc:
            raise SmtpHandoffNotRecorded(f"handoff of mail.mail {self.ids} not recorded ({exc}), not sent") from exc
        try:
            with self.env.registry.cursor() as record_cr:
                record_cr.execute(
                    SQL(
                        """
                    INSERT INTO terasoft_mail_handoff (id, mail_ids, ordered, handoff_date)
                    VALUES (%s, %s, %s, now() AT TIME ZONE 'UTC')
                """,
                        handoff_id,
                        self.ids,
                        bool(ordered),
                    )
                )
        except psycopg2.Error as exc:
            if ordered:
                self._smtp_handoff_unlock(handoff_id)
            raise SmtpHandoffNotRecorded(f"handoff of mail.mail {self.ids} not recorded ({exc}), not sent") from exc
        return handoff_id

    @api.model
    def _smtp_handoff_unlock(self, handoff_id):
        try:
            self.env.cr.execute(SQL("SELECT pg_advisory_unlock(%s, %s)", ADVISORY_LOCK_CLASS, handoff_id))
        except Exception:  # noqa: BLE001 - a dead connection released it already
            _logger.info("SMTP handoff %s: advisory lock not released (connection lost)", handoff_id)

    @api.model
    def _smtp_handoff_forget(self, handoff_id):
        """Delete a handoff row in its own transaction (best effort, called on error paths:
        never raises; a row left behind makes a still 'outgoing' mail count as sent)."""
        try:
            with self.env.registry.cursor() as cr:
                cr.execute(SQL("DELETE FROM terasoft_mail_handoff WHERE id = %s", handoff_id))
        except Exception:  # noqa: BLE001
            _logger.warning("Could not delete the SMTP handoff record %s", handoff_id, exc_info=True)

    def _smtp_handoff_forget_mails(self):
        """Drop the mails of ``self`` from the handoff rows (in the current transaction)."""
        if not self.ids:
            return
        self.env.cr.execute(
            SQL(
                """
            UPDATE terasoft_mail_handoff h
               SET mail_ids = ARRAY(SELECT u.id FROM unnest(h.mail_ids) WITH ORDINALITY AS u(id, n)
                                     WHERE u.id <> ALL(%(ids)s) ORDER BY u.n)
             WHERE h.mail_ids && %(ids)s
        """,
                ids=self.ids,
            )
        )

    @api.model
    def _smtp_handoff_cleanup(self):
        """Delete the handoff rows none of whose mails is still queued."""
        self.env.cr.execute(
            SQL("""
            DELETE FROM terasoft_mail_handoff h
             WHERE NOT EXISTS (SELECT 1 FROM mail_mail m WHERE m.id = ANY(h.mail_ids) AND m.state = 'outgoing')
        """)
        )

    def _smtp_handoff_resolve(self):
        """For the mails of ``self`` in a handoff row: the ones a live sender is handing over
        (left to it) and the ones a dead run may have handed over (marked sent, logged). Returns
        both, to be left out of this sending."""
        self.env.cr.execute(
            SQL(
                """
            SELECT id, mail_ids, ordered FROM terasoft_mail_handoff
             WHERE mail_ids && %s ORDER BY id FOR UPDATE SKIP LOCKED
        """,
                self.ids,
            )
        )
        rows = self.env.cr.fetchall()
        if not rows:
            return self.browse()
        busy, unconfirmed, resolved = [], [], []
        for handoff_id, mail_ids, ordered in rows:
            self.env.cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", ADVISORY_LOCK_CLASS, handoff_id))
            if not self.env.cr.fetchone()[0]:
                busy += mail_ids  # its sender is alive
                continue
            outgoing = set(self.browse(mail_ids).filtered(lambda mail: mail.state == "outgoing").ids)
            handed = [mail_id for mail_id in mail_ids if mail_id in outgoing]
            unconfirmed += handed[:1] if ordered else handed
            resolved.append(handoff_id)
        unconfirmed = self.browse(unconfirmed).exists()
        for mail in unconfirmed:
            _logger.warning(
                "mail.mail %s (Message-Id %s) may have been handed to the SMTP server by a run that stopped before "
                "recording the outcome: counted as sent, not sent again",
                mail.id,
                mail.message_id,
            )
        if unconfirmed:
            unconfirmed.write({"state": "sent", "failure_type": False, "failure_reason": False})
            unconfirmed._postprocess_sent_message(success_pids=[], success_emails=[])
        if resolved:
            self.env.cr.execute(SQL("DELETE FROM terasoft_mail_handoff WHERE id = ANY(%s)", resolved))
        return unconfirmed | (self & self.browse(busy))
