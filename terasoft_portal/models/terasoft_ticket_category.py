from odoo import api, fields, models
from odoo.exceptions import ValidationError


class TerasoftTicketCategory(models.Model):
    _name = "terasoft.ticket.category"
    _description = "Ticket Category"
    _parent_name = "parent_id"
    _parent_store = True
    _rec_name = "complete_name"
    _order = "sequence, complete_name"

    name = fields.Char("Category", required=True, translate=True)
    complete_name = fields.Char(
        "Full Name", compute="_compute_complete_name", recursive=True, store=True, index="trigram",
    )
    parent_id = fields.Many2one(
        "terasoft.ticket.category", "Parent Category", index=True, ondelete="restrict",
    )
    parent_path = fields.Char(index=True)
    child_ids = fields.One2many("terasoft.ticket.category", "parent_id", "Sub-categories")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    user_id = fields.Many2one(
        "res.users", "Default Assignee", domain=[("share", "=", False)],
        help="Support user who receives new tickets of this category.",
    )
    description = fields.Text()

    @api.depends("name", "parent_id.complete_name")
    def _compute_complete_name(self):
        for category in self:
            if category.parent_id:
                category.complete_name = f"{category.parent_id.complete_name} / {category.name}"
            else:
                category.complete_name = category.name

    @api.constrains("parent_id")
    def _check_category_recursion(self):
        if self._has_cycle():
            raise ValidationError(self.env._("A category cannot be its own parent."))
