from odoo import api, fields, models
from odoo.fields import Domain

DOCUMENT_CATEGORIES = [
    ("manual", "Manual"),
    ("howto", "How-to"),
    ("guide", "Guide"),
    ("release_notes", "Release Notes"),
    ("other", "Other"),
]


class TerasoftDocument(models.Model):
    _name = "terasoft.document"
    _description = "Downloadable Document"
    _order = "category, sequence, date desc, id desc"

    name = fields.Char("Title", required=True)
    description = fields.Text()
    category = fields.Selection(DOCUMENT_CATEGORIES, required=True, default="manual", index=True)
    product_id = fields.Many2one("terasoft.product", index=True)
    product_version = fields.Char()
    sequence = fields.Integer(default=10)
    date = fields.Date("Published On", default=fields.Date.context_today, required=True)
    # The file is readable only by staff: customers download it through /my/documents/<id>/download,
    # which checks visibility and counts downloads. Field groups also close /web/content for the
    # field and for its ir.attachment (res_field access check), whatever the document's visibility.
    file = fields.Binary(attachment=True, required=True, groups="base.group_user")
    file_name = fields.Char()
    file_size = fields.Integer("Size (bytes)", compute="_compute_file_info", store=True)
    mimetype = fields.Char(compute="_compute_file_info", store=True, export_string_translation=False)
    visibility = fields.Selection(
        [("all", "All customers"), ("companies", "Selected companies")],
        required=True,
        default="all",
    )
    partner_ids = fields.Many2many(
        "res.partner",
        "terasoft_document_res_partner_rel",
        "document_id",
        "partner_id",
        "Companies",
        domain=[("is_company", "=", True)],
        help="With 'Selected companies': the customer companies whose contacts see the document.",
    )
    is_published = fields.Boolean("Published", default=False, index=True)
    active = fields.Boolean(default=True)
    download_count = fields.Integer("Downloads", default=0, readonly=True, copy=False)

    @api.depends("file")
    def _compute_file_info(self):
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [  # size/mimetype of a staff-only field
                    ("res_model", "=", self._name),
                    ("res_id", "in", self.ids),
                    ("res_field", "=", "file"),
                ]
            )
        )
        by_document = {attachment.res_id: attachment for attachment in attachments}
        for document in self:
            attachment = by_document.get(document.id)
            document.file_size = attachment.file_size if attachment else 0
            document.mimetype = attachment.mimetype if attachment else False

    @api.model
    def _portal_domain(self, partner):
        """Documents ``partner`` (a portal contact) may see and download."""
        return Domain("is_published", "=", True) & (
            Domain("visibility", "=", "all") | Domain("partner_ids", "in", partner.commercial_partner_id.ids)
        )

    def _portal_stream(self):
        """The file as an http Stream, counting the download. Call on a sudo'ed document whose
        visibility the caller checked."""
        self.ensure_one()
        self.env.cr.execute(  # an increment: concurrent downloads must all count
            "UPDATE terasoft_document SET download_count = COALESCE(download_count, 0) + 1 WHERE id = %s",
            (self.id,),
        )
        self.invalidate_recordset(["download_count"])
        return self.env["ir.binary"]._get_stream_from(self, "file", filename_field="file_name")
