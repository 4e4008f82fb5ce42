"""Controlled portal access: access requests, approval and invitation, IP allow-list, support period."""

import re
from datetime import date, timedelta
from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tools import config

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.terasoft_portal.models.res_partner_portal_access import parse_ip_allowlist

from .common import TerasoftCase, TerasoftHttpCase

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
DONE = "o_terasoft_access_request_done"  # the "request received" page, whatever the language


def _refused(response, address="127.0.0.1"):
    """Whether the response is the allow-list refusal (its message names the address, in any language)."""
    return f"{address})" in response.text


def _request_values(**vals):
    return {
        "first_name": "Nadia",
        "last_name": "Longo",
        "email": "nadia.longo@example.com",
        "company_name": "Alfa Paghe S.r.l.",
        "vat": "IT 01234567897",
        "department": "Ufficio Paghe",
        "function": "Addetta paghe",
        "phone": "+39 02 1234 5630",
        "mobile": "+39 347 000 1111",
        "ip_addresses": "127.0.0.1, 10.0.0.0/8",
        **vals,
    }


class TestAccessRequestModel(MockEmail, TerasoftCase):
    def _request(self, **vals):
        return self.env["terasoft.access.request"].sudo()._portal_create(_request_values(**vals), "198.51.100.1")

    def test_approval_matches_company_by_vat_creates_contact_user_and_invites(self):
        access_request = self._request(company_name="Alfa Paghe (nome diverso)")
        with self.mock_mail_gateway():
            access_request.with_user(self.support).action_approve()
        self.assertEqual(access_request.state, "approved")
        self.assertEqual(access_request.company_partner_id, self.alfa)
        contact = access_request.partner_id
        self.assertRecordValues(
            contact,
            [
                {
                    "parent_id": self.alfa.id,
                    "email": "nadia.longo@example.com",
                    "first_name": "Nadia",
                    "department": "Ufficio Paghe",
                    "ip_allowlist": "127.0.0.1, 10.0.0.0/8",
                }
            ],
        )
        user = access_request.user_id
        self.assertTrue(user._is_portal())
        self.assertEqual(user.login, "nadia.longo@example.com")
        invitation = [mail for mail in self._mails if "nadia.longo@example.com" in str(mail["email_to"])]
        self.assertEqual(len(invitation), 1)
        self.assertIn("nadia.longo@example.com", invitation[0]["body"])  # the login
        self.assertIn("/web/signup?", invitation[0]["body"])  # the set-password link

    def test_approval_matches_existing_contact_by_email(self):
        marco = self.env.ref("terasoft_portal.partner_marco_rossi_demo")
        marco.user_ids.unlink()
        access_request = self._request(email="Marco.Rossi@example.com")
        with self.mock_mail_gateway():
            access_request.action_approve()
        self.assertEqual(access_request.partner_id, marco)

    def test_approval_creates_unknown_company(self):
        access_request = self._request(company_name="Delta Lavoro S.r.l.", vat="IT11122233344")
        with self.mock_mail_gateway():
            access_request.action_approve()
        self.assertRecordValues(
            access_request.company_partner_id, [{"name": "Delta Lavoro S.r.l.", "is_company": True}]
        )

    def test_approval_refused_when_contact_already_has_a_user(self):
        access_request = self._request(email="giulia.bianchi@example.com")
        with self.assertRaises(UserError), self.mock_mail_gateway():
            access_request.action_approve()
        self.assertEqual(access_request.state, "new")

    def test_rejection_sends_a_polite_email(self):
        access_request = self._request(reject_reason="ignored: not a form field")
        self.assertFalse(access_request.reject_reason)  # only the form's fields are taken
        access_request.reject_reason = "Nessun contratto di assistenza attivo"
        with self.mock_mail_gateway():
            access_request.with_user(self.support).action_reject()
        self.assertEqual(access_request.state, "rejected")
        mail = self._new_mails.filtered(lambda m: "nadia.longo@example.com" in m.email_to)
        self.assertEqual(len(mail), 1)
        self.assertIn("Nessun contratto di assistenza attivo", mail.body_html)
        self.assertFalse(access_request.user_id)
        with self.assertRaises(UserError):
            access_request.action_approve()

    def test_second_pending_request_for_same_email_is_not_created(self):
        first = self._request()
        self.assertEqual(self._request(email="NADIA.LONGO@example.com"), first)

    def test_rate_limit_per_address(self):
        AccessRequest = self.env["terasoft.access.request"]
        self.env["ir.config_parameter"].set_param("terasoft_portal.access_request_rate_limit", "2")
        self._request(email="a@example.com")
        self.assertFalse(AccessRequest._portal_rate_limited("198.51.100.1"))
        self._request(email="b@example.com")
        self.assertTrue(AccessRequest._portal_rate_limited("198.51.100.1"))
        self.assertFalse(AccessRequest._portal_rate_limited("198.51.100.2"))

    def test_invalid_ip_is_refused(self):
        with self.assertRaises(ValidationError):
            self._request(ip_addresses="300.1.1.1")

    def test_parse_ip_allowlist(self):
        networks = parse_ip_allowlist("192.0.2.10-192.0.2.12\n10.0.0.0/8; 2001:db8::1")
        self.assertEqual(
            [str(n) for n in networks], ["192.0.2.10/31", "192.0.2.12/32", "10.0.0.0/8", "2001:db8::1/128"]
        )
        with self.assertRaises(ValueError):
            parse_ip_allowlist("10.0.0.0/33")


class TestIpAllowList(TerasoftCase):
    def test_contact_list_replaces_company_list(self):
        giulia = self.giulia.partner_id
        self.alfa.ip_allowlist = "10.0.0.0/8"
        self.assertFalse(giulia._is_ip_allowed("192.0.2.1"))
        self.assertTrue(giulia._is_ip_allowed("10.20.30.40"))
        giulia.ip_allowlist = "192.0.2.0/24"
        self.assertTrue(giulia._is_ip_allowed("192.0.2.1"))
        self.assertFalse(giulia._is_ip_allowed("10.20.30.40"))
        self.assertTrue(giulia._is_ip_allowed("::ffff:192.0.2.9"))

    def test_empty_lists_mean_no_restriction(self):
        self.assertTrue(self.giulia.partner_id._is_ip_allowed("203.0.113.200"))

    def test_invalid_entry_is_refused_on_partner(self):
        with self.assertRaises(ValidationError):
            self.alfa.ip_allowlist = "10.0.0.1, not-an-ip"

    def test_only_portal_users_are_restricted_and_only_when_enforced(self):
        self.giulia.partner_id.ip_allowlist = "10.0.0.0/8"
        self.support.partner_id.ip_allowlist = "10.0.0.0/8"
        self.assertTrue(self.giulia._portal_ip_allowed("192.0.2.1"))  # setting off
        self.env["ir.config_parameter"].set_param("terasoft_portal.ip_allowlist_enforced", "True")
        self.assertFalse(self.giulia._portal_ip_allowed("192.0.2.1"))
        self.assertTrue(self.giulia._portal_ip_allowed("10.0.0.7"))
        self.assertTrue(self.support._portal_ip_allowed("192.0.2.1"))


class TestSupportPeriod(TerasoftCase):
    def setUp(self):
        super().setUp()
        self.contact = self.giulia.partner_id
        self.today = date(2026, 6, 15)
        self.contact.write({"support_start_date": date(2025, 1, 1), "support_end_date": False})
        self.alfa.write({"support_start_date": date(2024, 1, 1), "support_end_date": False})

    def test_inside_the_period(self):
        self.assertIsNone(self.contact._portal_support_period_error(self.today))

    def test_contact_period_ended(self):
        self.contact.support_end_date = date(2026, 6, 14)
        self.assertIn("ended", self.contact._portal_support_period_error(self.today))

    def test_contact_period_not_started(self):
        self.contact.support_start_date = date(2026, 7, 1)
        self.assertIn("starts", self.contact._portal_support_period_error(self.today))

    def test_company_dates_apply_when_contact_has_none(self):
        self.contact.write({"support_start_date": False, "support_end_date": False})
        self.alfa.support_end_date = date(2026, 1, 31)
        self.assertIn("ended", self.contact._portal_support_period_error(self.today))
        self.contact.support_end_date = date(2026, 12, 31)  # the contact's own date wins
        self.assertIsNone(self.contact._portal_support_period_error(self.today))

    def test_staff_warning_on_ticket(self):
        ticket = self._ticket(self.contact)
        self.assertFalse(ticket.support_period_warning)
        self.contact.support_end_date = date.today() - timedelta(days=1)
        ticket.invalidate_recordset(["support_period_warning"])
        self.assertIn("ended", ticket.support_period_warning)


class TestAccessHttp(MockEmail, TerasoftHttpCase):
    def setUp(self):
        super().setUp()
        # Failed logins put 127.0.0.1 on Odoo's login cooldown for the whole registry.
        self.addCleanup(lambda: getattr(self.registry, "_login_failures", {}).clear())
        getattr(self.registry, "_login_failures", {}).clear()
        self.ICP = self.env["ir.config_parameter"]

    def _csrf(self, url, headers=None):
        return CSRF_RE.search(self.url_open(url, headers=headers).text).group(1)

    def _login(self, login, password, headers=None):
        self.authenticate(None, None)
        token = self._csrf("/web/login", headers=headers)
        return self.url_open(
            "/web/login",
            headers=headers,
            data={"login": login, "password": password, "csrf_token": token, "redirect": "/my/faq"},
        )

    def _logged_in(self, response):
        return response.status_code == 200 and "/my/faq" in response.url and "/web/login" not in response.url

    # ------------------------------------------------------------------ login page and request form
    def test_login_page_shows_hint_reset_and_request_links(self):
        response = self.url_open("/web/login")
        self.assertIn("o_terasoft_login_hint", response.text)
        self.assertIn('href="/access/request"', response.text)
        self.assertIn("/web/reset_password", response.text)

    def test_free_signup_is_closed(self):
        self.assertNotIn('href="/web/signup', self.url_open("/web/login").text)
        self.assertEqual(self.url_open("/web/signup").status_code, 404)

    def test_request_then_approval_then_password_then_login(self):
        form = self.url_open("/access/request")
        self.assertIn("127.0.0.1", form.text)  # the detected address is prefilled
        done = self.url_open(
            "/access/request", data=dict(_request_values(), csrf_token=CSRF_RE.search(form.text).group(1))
        )
        self.assertIn(DONE, done.text)
        access_request = self.env["terasoft.access.request"].search([("email", "=", "nadia.longo@example.com")])
        self.assertRecordValues(access_request, [{"state": "new", "request_ip": "127.0.0.1"}])

        with self.mock_mail_gateway():
            access_request.with_user(self.support).action_approve()
        body = next(mail["body"] for mail in self._mails if "nadia.longo@example.com" in str(mail["email_to"]))
        link = re.search(r'href="[^"]*(/web/signup\?[^"]+)"', body).group(1).replace("&amp;", "&")

        self.authenticate(None, None)
        page = self.url_open(link)
        self.assertEqual(page.status_code, 200)
        token = re.search(r"token=([^&]+)", link).group(1)
        self.url_open(
            "/web/signup",
            data={
                "login": "nadia.longo@example.com",
                "name": "Nadia Longo",
                "token": token,
                "password": "Ciao-Portale-2026",
                "confirm_password": "Ciao-Portale-2026",
                "csrf_token": CSRF_RE.search(page.text).group(1),
            },
        )
        self.assertTrue(self._logged_in(self._login("nadia.longo@example.com", "Ciao-Portale-2026")))
        self.assertFalse(self._logged_in(self._login("nadia.longo@example.com", "wrong-password")))

    def test_honeypot_creates_nothing_but_answers_the_same(self):
        token = self._csrf("/access/request")
        response = self.url_open(
            "/access/request", data=dict(_request_values(), website_url="http://spam", csrf_token=token)
        )
        self.assertIn(DONE, response.text)
        self.assertFalse(self.env["terasoft.access.request"].search([("email", "=", "nadia.longo@example.com")]))

    def test_existing_account_is_not_revealed(self):
        token = self._csrf("/access/request")
        known = self.url_open(
            "/access/request", data=dict(_request_values(email="giulia.bianchi@example.com"), csrf_token=token)
        )
        unknown = self.url_open(
            "/access/request", data=dict(_request_values(email="nessuno@example.com"), csrf_token=token)
        )
        self.assertEqual(known.status_code, unknown.status_code)
        self.assertIn(DONE, known.text)
        self.assertIn(DONE, unknown.text)

    def test_rate_limit_per_ip(self):
        self.ICP.set_param("terasoft_portal.access_request_rate_limit", "2")
        token = self._csrf("/access/request")
        for index in range(3):
            response = self.url_open(
                "/access/request", data=dict(_request_values(email=f"r{index}@example.com"), csrf_token=token)
            )
        self.assertNotIn(DONE, response.text)
        self.assertIn("alert-danger", response.text)
        self.assertEqual(self.env["terasoft.access.request"].search_count([("request_ip", "=", "127.0.0.1")]), 2)

    def test_request_without_csrf_token_is_refused(self):
        response = self.url_open("/access/request", data=_request_values())
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.env["terasoft.access.request"].search([("email", "=", "nadia.longo@example.com")]))

    # ------------------------------------------------------------------ IP allow-list
    def test_allow_list_enforced_refuses_login_from_other_address(self):
        self.ICP.set_param("terasoft_portal.ip_allowlist_enforced", "True")
        self.giulia.partner_id.ip_allowlist = "10.0.0.0/8"
        response = self._login("giulia.bianchi@example.com", "demo")
        self.assertFalse(self._logged_in(response))
        self.assertTrue(_refused(response))
        self.giulia.partner_id.ip_allowlist = "127.0.0.0/8"
        self.assertTrue(self._logged_in(self._login("giulia.bianchi@example.com", "demo")))

    def test_company_allow_list_applies(self):
        self.ICP.set_param("terasoft_portal.ip_allowlist_enforced", "True")
        self.alfa.ip_allowlist = "10.0.0.0/8"
        self.assertTrue(_refused(self._login("giulia.bianchi@example.com", "demo")))
        self.assertTrue(self._logged_in(self._login("luca.verdi@example.com", "demo")))  # Beta: no list

    def test_allow_list_not_enforced_when_setting_is_off(self):
        self.giulia.partner_id.ip_allowlist = "10.0.0.0/8"
        self.assertTrue(self._logged_in(self._login("giulia.bianchi@example.com", "demo")))

    def test_internal_users_are_not_restricted(self):
        self.ICP.set_param("terasoft_portal.ip_allowlist_enforced", "True")
        self.support.partner_id.ip_allowlist = "10.0.0.0/8"
        self.assertTrue(self._logged_in(self._login("supporto@example.com", "demo")))

    def test_wrong_password_from_refused_address_does_not_mention_the_allow_list(self):
        self.ICP.set_param("terasoft_portal.ip_allowlist_enforced", "True")
        self.giulia.partner_id.ip_allowlist = "10.0.0.0/8"
        self.assertFalse(_refused(self._login("giulia.bianchi@example.com", "wrong")))

    def test_forwarded_address_is_used_only_with_proxy_mode(self):
        self.ICP.set_param("terasoft_portal.ip_allowlist_enforced", "True")
        self.giulia.partner_id.ip_allowlist = "10.0.0.0/8"
        host = self.base_url().split("//", 1)[1]
        headers = {"X-Forwarded-For": "10.1.2.3", "X-Forwarded-Host": host, "X-Forwarded-Proto": "http"}
        # Without proxy_mode a client could fake its address with the header: it is ignored.
        self.assertTrue(_refused(self._login("giulia.bianchi@example.com", "demo", headers=headers)))
        with patch.dict(config.options, {"proxy_mode": True}):
            self.assertTrue(self._logged_in(self._login("giulia.bianchi@example.com", "demo", headers=headers)))
            self.assertTrue(
                _refused(
                    self._login(
                        "giulia.bianchi@example.com", "demo", headers=dict(headers, **{"X-Forwarded-For": "192.0.2.1"})
                    ),
                    "192.0.2.1",
                )
            )

    def test_open_session_is_closed_from_other_address(self):
        self.authenticate("giulia.bianchi@example.com", "demo")
        self.assertEqual(self.url_open("/my/faq").status_code, 200)
        self.ICP.set_param("terasoft_portal.ip_allowlist_enforced", "True")
        self.giulia.partner_id.ip_allowlist = "10.0.0.0/8"
        response = self.url_open("/my/faq")
        self.assertEqual(response.status_code, 403)
        self.assertTrue(_refused(response))
        self.ICP.set_param("terasoft_portal.ip_allowlist_enforced", "False")
        response = self.url_open("/my/faq", allow_redirects=False)  # logged out
        self.assertEqual(response.status_code, 303)

    # ------------------------------------------------------------------ support period
    def test_portal_home_explains_support_period(self):
        self.giulia.partner_id.support_end_date = date.today() - timedelta(days=1)
        self.authenticate("giulia.bianchi@example.com", "demo")
        response = self.url_open("/my")
        self.assertIn("o_terasoft_support_period", response.text)
        self.luca.partner_id.write({"support_start_date": False, "support_end_date": False})
        self.authenticate("luca.verdi@example.com", "demo")
        self.assertNotIn("o_terasoft_support_period", self.url_open("/my").text)
