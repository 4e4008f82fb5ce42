from odoo import fields, models
from odoo.tools import SQL


class TerasoftMailHandoff(models.Model):
    """A batch of emails being handed to the SMTP server, or handed to it by a run that stopped
    before recording the outcome (see ``mail.mail._send``): one row per batch (SMTP session).

    Rows are written and deleted with SQL in their own short transactions, never in the
    transaction that sends the emails: they must survive its rollback. ``mail_ids`` (an SQL
    ``integer[]``, in sending order) holds no foreign key: the row is written while the sending
    transaction holds the mails' rows, and a foreign key would tie the two transactions together.
    """

    _name = "terasoft.mail.handoff"
    _description = "Emails handed to the SMTP server"
    _order = "handoff_date desc"
    _log_access = False

    handoff_date = fields.Datetime(string="Handed Over On", required=True, readonly=True)
    ordered = fields.Boolean(
        readonly=True,
        help="The outcome of each email was committed in sending order (the mail "
        "queue's runs): after a crash only the first email still queued may have been "
        "handed over.",
    )

    def init(self):
        self.env.cr.execute(
            SQL("""
            ALTER TABLE terasoft_mail_handoff ADD COLUMN IF NOT EXISTS mail_ids integer[] NOT NULL DEFAULT '{}';
            CREATE INDEX IF NOT EXISTS terasoft_mail_handoff_mail_ids_idx ON terasoft_mail_handoff USING gin (mail_ids);
        """)
        )
