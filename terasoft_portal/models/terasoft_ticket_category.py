from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import sql


class TerasoftTicketCategory(models.Model):
    _name = "terasoft.ticket.category"
    _description = "Ticket Category"
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
        index="trigram",
    )
    parent_id = fields.Many2one(
        "terasoft.ticket.category",
        "Parent Category",
        index=True,
        ondelete="restrict",
    )
    parent_path = fields.Char(index=True)
    child_ids = fields.One2many("terasoft.ticket.category", "parent_id", "Sub-categories")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    user_id = fields.Many2one(
        "res.users",
        "Default Assignee",
        domain=[("share", "=", False)],
        help="Support user who receives new tickets of this category.",
    )
    description = fields.Text()
    portal_visible = fields.Boolean(
        "Offered in the Portal",
        default=True,
        help="Customers may choose this category for their new tickets. Internal categories "
        "(e.g. the triage category of email tickets) are not offered.",
    )

    @api.depends("name", "parent_id.complete_name")
    def _compute_complete_name(self):
        for category in self:
            if category.parent_id:
                category.complete_name = f"{category.parent_id.complete_name} / {category.name}"
            else:
                category.complete_name = category.name

    def _auto_init(self):
        """Databases installed before ``portal_visible`` existed: hide the triage category once,
        when the column is created (its data record is noupdate)."""
        new_column = not sql.column_exists(self.env.cr, self._table, "portal_visible")
        result = super()._auto_init()
        if new_column:
            self.env.cr.execute("""
                UPDATE terasoft_ticket_category SET portal_visible = FALSE
                 WHERE id IN (SELECT res_id FROM ir_model_data WHERE module = 'terasoft_portal'
                                 AND name = 'ticket_category_to_classify')""")
        return result

    def _portal_label(self):
        """The category as the portal shows it: the names of its ancestors and its own, in the
        user's language (``complete_name`` is stored once, untranslated)."""
        self.ensure_one()
        names = []
        category = self
        while category:
            names.insert(0, category.name)
            category = category.parent_id
        return " / ".join(names)

    @api.constrains("parent_id")
    def _check_category_recursion(self):
        if self._has_cycle():
            raise ValidationError(self.env._("A category cannot be its own parent."))
