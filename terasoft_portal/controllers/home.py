from odoo import http
from odoo.http import request

from odoo.addons.portal.controllers.web import Home


class TerasoftHome(Home):
    @http.route()
    def web_login(self, redirect=None, **kw):
        """After a login, the portal speaks the user's language: the ``frontend_lang`` cookie
        (which wins over the user's preference on frontend pages) is set to it."""
        response = super().web_login(redirect=redirect, **kw)
        if request.params.get("login_success") and request.session.uid:
            lang = request.env["res.users"].sudo().browse(request.session.uid).lang
            if lang:
                response.set_cookie("frontend_lang", lang)
        return response

    def _login_redirect(self, uid, redirect=None):
        """The language chosen on the login page becomes the user's language."""
        lang = request.session.pop("terasoft_lang", None)
        if lang:
            request.env["res.users"].sudo().browse(uid).lang = lang
            request.session.context = dict(request.session.context, lang=lang)
        return super()._login_redirect(uid, redirect=redirect)
