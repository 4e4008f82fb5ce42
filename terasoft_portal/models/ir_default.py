from odoo import models, tools


class IrDefault(models.Model):
    _inherit = "ir.default"

    @tools.ormcache()
    def _portal_default_partner_lang(self):
        """The default language of new contacts (the value ``http_routing`` reads on every
        frontend request to find the site's default language), cached: ``ir.default`` clears
        the registry caches whenever a default changes."""
        return self._get("res.partner", "lang")
