from datetime import timedelta

from odoo import api, fields, models

SMTP_RETRY_DAYS = 3


class MailMail(models.Model):
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

    @api.model
    def process_email_queue(self, email_ids=(), batch_size=1000):
        """Requeue the recent mails that failed only because the SMTP server was unreachable
        (``failure_type='mail_smtp'``, at most SMTP_RETRY_DAYS old), then send the queue."""
        self.sudo().search([
            ("state", "=", "exception"),
            ("failure_type", "=", "mail_smtp"),
            ("create_date", ">=", fields.Datetime.now() - timedelta(days=SMTP_RETRY_DAYS)),
        ]).write({"state": "outgoing", "failure_type": False})
        return super().process_email_queue(email_ids=email_ids, batch_size=batch_size)
