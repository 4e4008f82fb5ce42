from odoo import fields, models

from .terasoft_ticket_portal import DEFAULT_MAX_SIZE_MB, DEFAULT_REFUSED_EXT, PARAM_MAX_SIZE, PARAM_REFUSED_EXT


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    terasoft_attachment_max_size = fields.Integer(
        "Maximum Attachment Size (MB)", config_parameter=PARAM_MAX_SIZE, default=DEFAULT_MAX_SIZE_MB,
        help="Largest file a customer may attach to a ticket in the portal.",
    )
    terasoft_attachment_refused_extensions = fields.Char(
        "Refused File Types", config_parameter=PARAM_REFUSED_EXT, default=DEFAULT_REFUSED_EXT,
        help="Comma-separated file extensions the portal refuses, e.g. exe,bat,js.",
    )
