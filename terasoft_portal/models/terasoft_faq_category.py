from odoo import api, fields, models
from odoo.exceptions import ValidationError


class TerasoftFaqCategory(models.Model):
    _name = "terasoft.faq.category"
    _description = "FAQ Category"
    _parent_name = "parent_id"
    _parent_store = True
    _rec_name = "complete_name"
    _order = "sequence, complete_name"

    name = fields.Char("Category", required=True, translate=True)
    complete_name = fields.Char(
        "Full Name",
        compute="_compute_complete_name",
        recursive=True,
        store=True,
    )
    parent_id = fields.Many2one("terasoft.faq.category", "Parent Category", index=True, ondelete="restrict")
    parent_path = fields.Char(index=True)
    child_ids = fields.One2many("terasoft.faq.category", "parent_id", "Sub-categories")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True)
    ticket_category_id = fields.Many2one(
        "terasoft.ticket.category",
        ondelete="set null",
        help="Category proposed on the new-ticket form when a customer opens a ticket from an FAQ of this category.",
    )
    faq_ids = fields.One2many("terasoft.faq", "category_id", "FAQ")
    faq_count = fields.Integer("FAQ Count", compute="_compute_faq_count")

    @api.depends("name", "parent_id.complete_name")
    def _compute_complete_name(self):
        for category in self:
            if category.parent_id:
                category.complete_name = f"{category.parent_id.complete_name} / {category.name}"
            else:
                category.complete_name = category.name

    def _compute_faq_count(self):
        counts = dict(
            self.env["terasoft.faq"]._read_group(
                [("category_id", "child_of", self.ids)],
                ["category_id"],
                ["__count"],
            )
        )
        for category in self:
            prefix = category.parent_path
            category.faq_count = (
                prefix and sum(count for cat, count in counts.items() if cat.parent_path.startswith(prefix)) or 0
            )

    @api.constrains("parent_id")
    def _check_category_recursion(self):
        if self._has_cycle():
            raise ValidationError(self.env._("A category cannot be its own parent."))

    def _get_ticket_category(self):
        """The ticket category for tickets opened from this FAQ category: its own, else the
        nearest ancestor's (empty recordset when none is set)."""
        self.ensure_one()
        category = self
        while category and not category.ticket_category_id:
            category = category.parent_id
        return category.ticket_category_id
