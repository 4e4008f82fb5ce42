from odoo.http import request

from odoo.addons.portal.controllers.web import Home


class TerasoftHome(Home):

    def _login_redirect(self, uid, redirect=None):
        """The language chosen on the login page becomes the user's language."""
        lang = request.session.pop("terasoft_lang", None)
        if lang:
            request.env["res.users"].sudo().browse(uid).lang = lang
            request.session.context = dict(request.session.context, lang=lang)
        return super()._login_redirect(uid, redirect=redirect)
