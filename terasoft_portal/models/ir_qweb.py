from lxml import etree

from odoo import models

# Context key of a dict in which ``ir.qweb._compile`` keeps what it compiled from inline
# (etree) templates; see mail_render_mixin.py.
QWEB_COMPILED_MEMO = "terasoft_qweb_compiled"


class IrQweb(models.AbstractModel):
    _inherit = "ir.qweb"

    def _compile(self, template):
        """Compile an inline template once per memo (see ``QWEB_COMPILED_MEMO``).

        Odoo caches what it compiles from views (by view id) but not from an etree
        element: a mail template's body is compiled again for every record it is rendered
        for, which costs more than the rendering itself. The memo lives as long as the
        caller's dict (one ``_render_template_qweb`` call); its key is the source, so two
        different sources never share a function.
        """
        memo = self.env.context.get(QWEB_COMPILED_MEMO)
        if memo is None or not isinstance(template, etree._Element):
            return super()._compile(template)
        key = (etree.tostring(template), self.env.context.get("lang"))
        if key not in memo:
            memo[key] = super()._compile(template)
        return memo[key]
