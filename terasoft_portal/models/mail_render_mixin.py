from odoo import api, models

from .ir_qweb import QWEB_COMPILED_MEMO

# Models whose mail templates are rendered for many records at a time (crons, batches).
BATCH_RENDER_MODELS = ("terasoft.ticket",)
# Models whose mail templates are rendered in their contact's language (the template's `lang`).
CONTACT_LANG_MODELS = ("terasoft.ticket", "terasoft.access.request")


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

    def _render_lang(self, res_ids, engine="inline_template"):
        """The language of each record, as rendered from the template's ``lang``: see
        ``_active_render_langs``."""
        return self._active_render_langs(super()._render_lang(res_ids, engine=engine))

    def _render_field(self, field, res_ids, *args, **kwargs):
        """The rendered ``lang`` field (a one-record composer copies it, then lays the
        notification out in it): see ``_active_render_langs``."""
        rendered = super()._render_field(field, res_ids, *args, **kwargs)
        return self._active_render_langs(rendered) if field == "lang" else rendered

    def _active_render_langs(self, langs):
        """``langs`` ({res_id: language code}) where no language is inactive.

        Our templates render in the contact's language (``lang`` = ``{{ object.partner_id.lang }}``).
        A contact can hold a language that is not installed or no longer active (an import, a
        database restored elsewhere): Odoo would then render with it and fail ("Invalid
        language code"), stopping the cron batch that sends it. Such a record falls back to
        its company's language, else to the language of the environment (Odoo's own fallback
        for an empty ``lang``), as Odoo already does for the layout of notification emails.
        """
        if self.render_model not in CONTACT_LANG_MODELS:
            return langs
        active = {code for code, _name in self.env["res.lang"].get_installed()}
        inactive = [res_id for res_id, lang in langs.items() if res_id and lang and lang not in active]
        if inactive:
            records = self.env[self.render_model].browse(inactive)
            companies = records._mail_get_companies(default=self.env.company)
            for record in records:
                company_lang = companies[record.id].partner_id.lang
                langs[record.id] = company_lang if company_lang in active else ""
        return langs
