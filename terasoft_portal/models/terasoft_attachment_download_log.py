from odoo import fields, models


class TerasoftAttachmentDownloadLog(models.Model):
    _name = "terasoft.attachment.download.log"
    _description = "Ticket Attachment Download"
    _order = "date desc, id desc"
    _log_access = False  # the record is its own log: who and when are fields

    user_id = fields.Many2one("res.users", required=True, index=True, ondelete="cascade")
    date = fields.Datetime("Downloaded On", required=True, default=fields.Datetime.now)
    attachment_id = fields.Many2one("ir.attachment", index=True, ondelete="set null")
    attachment_name = fields.Char("File", required=True)
    ticket_id = fields.Many2one("terasoft.ticket", required=True, index=True, ondelete="cascade")
