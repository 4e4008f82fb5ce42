from odoo import api, models

from .ir_qweb import QWEB_COMPILED_MEMO

# Models whose mail templates are rendered for many records at a time (crons, batches).
BATCH_RENDER_MODELS = ("terasoft.ticket",)


class MailRenderMixin(models.AbstractModel):
    _inherit = "mail.render.mixin"

    @api.model
    def _render_template_qweb(self, template_src, model, res_ids, add_context=None, options=None):
        """Compile the QWeb source once for all ``res_ids`` instead of once per record.

        Odoo's loop parses and compiles the template's body for each record (it is not a view,
        so ``ir.qweb`` does not cache it): closing 500 tickets compiled it 500 times. The body
        stays the template's, editable in Settings > Technical > Email Templates; only the
        compiled function is shared within this call (same source, language and options).
        """
        if model in BATCH_RENDER_MODELS and len(res_ids) > 1:
            options = dict(options or {}, **{QWEB_COMPILED_MEMO: {}})
        return super()._render_template_qweb(template_src, model, res_ids, add_context=add_context, options=options)
