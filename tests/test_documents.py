"""Documents: visibility per company, access-checked download, no direct access to the files."""

import base64
import re
from html import unescape

from odoo.exceptions import AccessError

from .common import TerasoftCase, TerasoftHttpCase


class DocumentMixin:
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Document = cls.env["terasoft.document"]
        cls.doc_all = Document.create(
            {
                "name": "Manuale per tutti",
                "file": base64.b64encode(b"per tutti"),
                "file_name": "tutti.txt",
                "visibility": "all",
                "is_published": True,
            }
        )
        cls.doc_beta = Document.create(
            {
                "name": "Procedura riservata Beta",
                "file": base64.b64encode(b"solo beta"),
                "file_name": "beta.txt",
                "visibility": "companies",
                "partner_ids": [(6, 0, cls.beta.ids)],
                "is_published": True,
            }
        )
        cls.doc_draft = Document.create(
            {
                "name": "Bozza non pubblicata",
                "file": base64.b64encode(b"bozza"),
                "file_name": "bozza.txt",
                "visibility": "all",
                "is_published": False,
            }
        )
        cls.attachment_beta = cls.env["ir.attachment"].search(
            [
                ("res_model", "=", "terasoft.document"),
                ("res_id", "=", cls.doc_beta.id),
                ("res_field", "=", "file"),
            ]
        )


class TestDocumentAccess(DocumentMixin, TerasoftCase):
    def test_file_size_is_computed(self):
        self.assertEqual(self.doc_beta.file_size, len(b"solo beta"))

    def test_portal_users_see_documents_of_all_customers_and_of_their_company(self):
        seen_by_giulia = self.env["terasoft.document"].with_user(self.giulia).search([])
        seen_by_luca = self.env["terasoft.document"].with_user(self.luca).search([])
        self.assertIn(self.doc_all, seen_by_giulia)
        self.assertNotIn(self.doc_beta, seen_by_giulia)
        self.assertIn(self.doc_beta, seen_by_luca)
        self.assertNotIn(self.doc_draft, seen_by_luca)

    def test_portal_domain_matches_record_rule(self):
        Document = self.env["terasoft.document"]
        for user in (self.giulia, self.luca):
            self.assertEqual(
                Document.search(Document._portal_domain(user.partner_id)), Document.with_user(user).search([]).sudo()
            )

    def test_portal_user_cannot_read_file_field_even_of_visible_document(self):
        with self.assertRaises(AccessError):
            self.doc_beta.with_user(self.luca).read(["file"])

    def test_portal_user_cannot_read_document_attachment_by_rpc(self):
        self.assertTrue(self.attachment_beta)
        for user in (self.giulia, self.luca):
            with self.assertRaises(AccessError):
                self.attachment_beta.with_user(user).read(["datas"])
            self.assertFalse(self.env["ir.attachment"].with_user(user).search([("id", "=", self.attachment_beta.id)]))

    def test_portal_user_cannot_change_documents(self):
        with self.assertRaises(AccessError):
            self.doc_all.with_user(self.giulia).write({"name": "x"})


class TestDocumentPortal(DocumentMixin, TerasoftHttpCase):
    def test_documents_page_lists_visible_documents_with_size(self):
        self.authenticate("luca.verdi@example.com", "demo")
        response = self.url_open("/my/documents")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Procedura riservata Beta", response.text)
        self.assertIn("Manuale per tutti", response.text)
        self.assertNotIn("Bozza non pubblicata", response.text)
        self.authenticate("giulia.bianchi@example.com", "demo")
        response = self.url_open("/my/documents")
        self.assertNotIn("Procedura riservata Beta", response.text)

    def test_documents_page_search(self):
        self.authenticate("luca.verdi@example.com", "demo")
        response = self.url_open("/my/documents?search=riservata")
        self.assertIn("Procedura riservata Beta", response.text)
        self.assertNotIn("Manuale per tutti", response.text)

    def test_download_counts_and_returns_the_file(self):
        self.authenticate("luca.verdi@example.com", "demo")
        response = self.url_open(f"/my/documents/{self.doc_beta.id}/download")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, b"solo beta")
        self.assertIn("beta.txt", response.headers.get("Content-Disposition", ""))
        self.doc_beta.invalidate_recordset()
        self.assertEqual(self.doc_beta.download_count, 1)

    def test_download_of_other_company_unpublished_or_guessed_document_is_404(self):
        self.authenticate("giulia.bianchi@example.com", "demo")
        for document_id in (self.doc_beta.id, self.doc_draft.id, 999999):
            response = self.url_open(f"/my/documents/{document_id}/download")
            self.assertEqual(response.status_code, 404, document_id)
        self.doc_beta.invalidate_recordset()
        self.assertEqual(self.doc_beta.download_count, 0)

    def test_files_are_not_reachable_through_web_content(self):
        self.authenticate("luca.verdi@example.com", "demo")  # even a user who may download the document
        for url in (
            f"/web/content/{self.attachment_beta.id}",
            f"/web/content/terasoft.document/{self.doc_beta.id}/file",
            f"/web/content/ir.attachment/{self.attachment_beta.id}/datas",
        ):
            response = self.url_open(url)
            self.assertIn(response.status_code, (403, 404), url)
            self.assertNotIn(b"solo beta", response.content, url)

    def test_public_user_is_sent_to_login(self):
        for url in ("/my/documents", f"/my/documents/{self.doc_all.id}/download"):
            # followed: with English active, a public visitor may first get the /en/ prefix
            response = self.url_open(url)
            self.assertIn("/web/login", response.url, url)


class TestDocumentListPresentation(TerasoftHttpCase):
    """Sizes in the user's units and number format, long descriptions cut, accessible search."""

    def test_sizes_in_italian_units(self):
        from odoo.addons.terasoft_portal.controllers.documents import format_file_size

        it = self.env(context={"lang": "it_IT"})
        en = self.env(context={"lang": "en_US"})
        self.assertEqual(format_file_size(it, 1572864), "1,5\N{NO-BREAK SPACE}MB")
        self.assertEqual(format_file_size(en, 1572864), "1.5\N{NO-BREAK SPACE}MB")
        self.assertEqual(format_file_size(it, 2048), "2\N{NO-BREAK SPACE}KB")
        self.assertEqual(format_file_size(it, 839680), "820\N{NO-BREAK SPACE}KB")
        self.assertEqual(format_file_size(it, 3 * 1024**3), "3\N{NO-BREAK SPACE}GB")
        self.assertEqual(format_file_size(it, 0), "")

    def test_documents_page_shows_human_sizes_and_cut_descriptions(self):
        long_text = "Guida completa alla chiusura dell'esercizio contabile " * 10
        self.env["terasoft.document"].create(
            {
                "name": "Guida chiusura esercizio",
                "file": base64.b64encode(b"x" * 1572864),
                "file_name": "guida.pdf",
                "visibility": "all",
                "is_published": True,
                "description": long_text,
            }
        )
        self.env["res.users"].browse(self.giulia.id).lang = "it_IT"
        self.authenticate("giulia.bianchi@example.com", "demo")
        html = self.url_open("/my/documents").text
        self.assertIn("1,5\N{NO-BREAK SPACE}MB", html)
        self.assertNotIn("Mb", html)
        shown = unescape(re.search(r'o_terasoft_ellipsis"[^>]*>([^<]*)</div>', html).group(1))
        self.assertTrue(shown.endswith("\N{HORIZONTAL ELLIPSIS}"), shown)
        self.assertLessEqual(len(shown), 160)
        self.assertRegex(html, r'<button type="submit" class="btn btn-primary" aria-label="Cerca"')
