import copy

from odoo import api, models, tools


class IrDefault(models.Model):
    _inherit = "ir.default"

    @api.model
    def _get(self, model_name, field_name, user_id=False, company_id=False, condition=False):
        # http_routing's ir.http._get_default_lang reads the contacts' default language with
        # this method on every frontend request (every portal page, the home page's counters):
        # two queries each time. The global, unconditional defaults are cached; ir.default
        # clears the registry caches whenever a default changes, so the value is super()'s.
        if user_id is False and company_id is False and condition is False:
            return copy.deepcopy(self._get_global_cached(model_name, field_name))
        return super()._get(model_name, field_name, user_id=user_id, company_id=company_id, condition=condition)

    @api.model
    @tools.ormcache("model_name", "field_name")
    def _get_global_cached(self, model_name, field_name):
        return super()._get(model_name, field_name)
