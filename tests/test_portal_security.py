"""Portal's /my/security with the IP allow-list (issue 12): Odoo checks the credentials of
``self.env.user`` on an empty ``res.users`` recordset; our allow-list check must do the same."""

from unittest.mock import patch

from odoo.exceptions import AccessDenied
from odoo.http import Request
from odoo.tools import config

from odoo.addons.http_routing.tests.common import MockRequest

from .common import TerasoftCase, TerasoftHttpCase

ENFORCED = "terasoft_portal.ip_allowlist_enforced"


class TestCheckCredentials(TerasoftCase):
    def _check(self, user, address, password="demo"):
        credential = {"login": user.login, "password": password, "type": "password"}
        with MockRequest(self.env, remote_addr=address):
            # as portal's controllers call it: an empty recordset, the user is env.user
            return self.env["res.users"].with_user(user)._check_credentials(credential, {"interactive": True})

    def test_empty_recordset_checks_env_user(self):
        self.assertEqual(self._check(self.giulia, "192.0.2.1")["uid"], self.giulia.id)  # allow-list off
        self.env["ir.config_parameter"].set_param(ENFORCED, "True")
        self.giulia.partner_id.ip_allowlist = "10.0.0.0/8"
        self.assertEqual(self._check(self.giulia, "10.1.2.3")["uid"], self.giulia.id)
        with self.assertRaises(AccessDenied) as refusal:
            self._check(self.giulia, "192.0.2.1")
        self.assertIn("192.0.2.1", str(refusal.exception))
        with self.assertRaises(AccessDenied):  # a wrong password stays a plain refusal
            self._check(self.giulia, "10.1.2.3", password="wrong")


class TestPortalSecurityPage(TerasoftHttpCase):
    """Password change and account deactivation of a portal user on /my/security."""

    def setUp(self):
        super().setUp()
        self.addCleanup(lambda: getattr(self.registry, "_login_failures", {}).clear())
        self.user = self._portal_user("sicurezza.portale", self.alfa, ip_allowlist="10.0.0.0/8")
        self.user.password = "Vecchia-Password-1"
        self.ICP = self.env["ir.config_parameter"]
        host = self.base_url().split("//", 1)[1]
        self.allowed = {"X-Forwarded-For": "10.1.2.3", "X-Forwarded-Host": host, "X-Forwarded-Proto": "http"}

    def _post(self, url, headers=None, **data):
        return self.url_open(url, headers=headers, data=dict(data, csrf_token=Request.csrf_token(self)))

    def _change_password(self, headers=None):
        return self._post(
            "/my/security",
            headers=headers,
            op="password",
            old="Vecchia-Password-1",
            new1="Nuova-Password-2",
            new2="Nuova-Password-2",
        )

    def _password_is(self, password):
        try:
            self.env["res.users"].with_user(self.user)._check_credentials(
                {"login": self.user.login, "password": password, "type": "password"}, {"interactive": False}
            )
        except AccessDenied:
            return False
        return True

    def _deactivate(self, headers=None):
        # a company's contacts do not close their own account (support does: tests/test_portal_ux.py);
        # a private customer, without a company, does
        self.user.partner_id.parent_id = False
        return self._post(
            "/my/deactivate_account", headers=headers, validation=self.user.login, password="Vecchia-Password-1"
        )

    def test_password_change_allow_list_off(self):
        self.authenticate(self.user.login, "Vecchia-Password-1")
        response = self._change_password()
        self.assertEqual(response.status_code, 200)
        self.assertTrue(self._password_is("Nuova-Password-2"))
        self.assertEqual(self.url_open("/my/security").status_code, 200)  # still logged in

    def test_deactivation_allow_list_off(self):
        self.authenticate(self.user.login, "Vecchia-Password-1")
        response = self._deactivate()
        self.assertEqual(response.status_code, 200)
        self.assertIn("/web/login", response.url)
        self.assertFalse(self.user.active)

    def test_password_change_and_deactivation_allow_list_on_from_allowed_address(self):
        self.ICP.set_param(ENFORCED, "True")
        with patch.dict(config.options, {"proxy_mode": True}):
            self.authenticate(self.user.login, "Vecchia-Password-1")
            self.assertEqual(self.url_open("/my/security", headers=self.allowed).status_code, 200)
            response = self._change_password(headers=self.allowed)
            self.assertEqual(response.status_code, 200)
            self.assertTrue(self._password_is("Nuova-Password-2"))
            self.user.password = "Vecchia-Password-1"
            self.authenticate(self.user.login, "Vecchia-Password-1")  # a new password ends the session
            response = self._deactivate(headers=self.allowed)
            self.assertEqual(response.status_code, 200)
            self.assertFalse(self.user.active)

    def test_refused_from_other_address(self):
        self.ICP.set_param(ENFORCED, "True")
        self.authenticate(self.user.login, "Vecchia-Password-1")  # the session's address: 127.0.0.1
        self.assertEqual(self._change_password().status_code, 403)
        self.assertTrue(self._password_is("Vecchia-Password-1"))
        self.authenticate(self.user.login, "Vecchia-Password-1")
        self.assertEqual(self._deactivate().status_code, 403)
        self.assertTrue(self.user.active)
