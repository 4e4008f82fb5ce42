from odoo import fields, models


class TerasoftMailHandoff(models.Model):
    """An email being handed to the SMTP server, or handed to it by a run that stopped before
    recording the outcome (see ``mail.mail._send``).

    Rows are written and deleted with SQL in their own short transactions, never in the
    transaction that sends the email: they must survive its rollback. ``mail_id`` is no
    Many2one: the row is written while the sending transaction holds the mail's row (or has not
    committed it yet), and a foreign key would tie the two transactions together.
    """
    _name = "terasoft.mail.handoff"
    _description = "Email handed to the SMTP server"
    _order = "handoff_date desc"
    _log_access = False

    mail_id = fields.Integer(string="Email ID", required=True, readonly=True)
    message_id = fields.Char(string="Message-Id", readonly=True)
    handoff_date = fields.Datetime(string="Handed Over On", required=True, readonly=True)

    _mail_id_unique = models.Constraint(
        "UNIQUE (mail_id)", "An email can be handed to the SMTP server by one process at a time.")
