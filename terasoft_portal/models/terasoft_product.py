from odoo import fields, models


class TerasoftProduct(models.Model):
    _name = "terasoft.product"
    _description = "Supported Software Product"
    _order = "name"

    name = fields.Char("Product", required=True, translate=False, index="trigram")
    active = fields.Boolean(default=True)
    description = fields.Text()

    _name_uniq = models.Constraint("UNIQUE(name)", "A product with this name already exists.")
