"""HTTP tests of the customer portal's ticket pages (run with --odoo-http)."""

import base64
import csv
import io
import zipfile
from datetime import timedelta

from odoo import fields, http
from odoo.tools import mute_logger

from .common import TerasoftHttpCase

DEMO_PASSWORD = "demo"
# the content of uploads is checked against their type: real (tiny) files
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def _zip_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("log.txt", "errore di stampa\n")
    return buffer.getvalue()


class PortalCase(TerasoftHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alfa_ticket = cls._ticket(cls.giulia.partner_id, name="Cedolino Alfa errato")
        cls.beta_ticket = cls._ticket(
            cls.luca.partner_id, name="Timbrature Beta perse", category_id=cls.cat_presenze.id
        )

    def _login(self, user):
        # demo users log in with "demo", new_test_user's users with their login
        self.authenticate(user.login, DEMO_PASSWORD if "@" in user.login else user.login)

    def _csrf(self):
        if self.session is None:
            self.authenticate(None, None)  # a public session, for the login page's forms
        return http.Request.csrf_token(self)

    def _post(self, url, data=None, files=None, csrf=True):
        data = dict(data or {"submit": "1"})  # never empty: requests would send a GET
        if csrf:
            data["csrf_token"] = self._csrf()
        return self.url_open(url, data=data, files=files, allow_redirects=False)

    def _attach(self, ticket, name="log.zip", raw=b"PK data"):
        return self.env["ir.attachment"].create(
            {
                "name": name,
                "raw": raw,
                "res_model": "terasoft.ticket",
                "res_id": ticket.id,
            }
        )

    def _list(self, query=""):
        response = self.url_open(f"/my/tickets{query}")
        self.assertEqual(response.status_code, 200)
        return response.text


class TestPortalList(PortalCase):
    def test_public_user_is_sent_to_login(self):
        response = self.url_open("/my/tickets")
        self.assertIn("/web/login", response.url)

    def test_list_shows_own_company_tickets_only(self):
        self._login(self.giulia)
        page = self._list()
        self.assertIn(self.alfa_ticket.number, page)
        self.assertNotIn(self.beta_ticket.number, page)

    def test_other_company_sees_its_own_list(self):
        self._login(self.luca)
        page = self._list()
        self.assertIn(self.beta_ticket.number, page)
        self.assertNotIn(self.alfa_ticket.number, page)

    def test_closed_ticket_is_listed_in_closed_table(self):
        closed = self._ticket(self.giulia.partner_id, name="Chiuso da tempo", state="closed")
        self._login(self.giulia)
        page = self._list()
        closed_part = page[page.index('id="closed_tickets"') :]
        open_part = page[page.index('id="open_tickets"') : page.index('id="closed_tickets"')]
        self.assertIn(closed.number, closed_part)
        self.assertNotIn(closed.number, open_part)
        self.assertIn(self.alfa_ticket.number, open_part)

    def test_show_mine_hides_colleagues_tickets(self):
        colleague = self.env.ref("terasoft_portal.partner_paolo_ferri_demo")
        theirs = self._ticket(colleague, name="Ticket di Paolo")
        self._login(self.giulia)
        self.assertIn(theirs.number, self._list("?show=all"))
        mine = self._list("?show=mine")
        self.assertNotIn(theirs.number, mine)
        self.assertIn(self.alfa_ticket.number, mine)

    def test_state_filter(self):
        planned = self._ticket(self.giulia.partner_id, name="Pianificato", state="planned", ticket_type="defect")
        self._login(self.giulia)
        page = self._list("?filterby=planned")
        self.assertIn(planned.number, page)
        self.assertNotIn(self.alfa_ticket.number, page)

    def test_search_in_title(self):
        other = self._ticket(self.giulia.partner_id, name="Altro argomento")
        self._login(self.giulia)
        page = self._list("?search=Alfa+errato&search_in=name")
        self.assertIn(self.alfa_ticket.number, page)
        self.assertNotIn(other.number, page)

    def test_search_in_number(self):
        other = self._ticket(self.giulia.partner_id, name="Altro")
        self._login(self.giulia)
        page = self._list(f"?search={self.alfa_ticket.number}&search_in=number")
        self.assertIn(self.alfa_ticket.number, page)
        self.assertNotIn(other.number, page)

    def test_search_in_description(self):
        ticket = self._ticket(
            self.giulia.partner_id, name="Con descrizione", description="<p>Il modulo zeta-quattro si blocca</p>"
        )
        self._login(self.giulia)
        page = self._list("?search=zeta-quattro&search_in=description")
        self.assertIn(ticket.number, page)
        self.assertNotIn(self.alfa_ticket.number, page)

    def test_search_in_category(self):
        ticket = self._ticket(self.giulia.partner_id, name="Contabile", category_id=self.cat_contabilita.id)
        self._login(self.giulia)
        page = self._list("?search=Contabilit&search_in=category")
        self.assertIn(ticket.number, page)
        self.assertNotIn(self.alfa_ticket.number, page)

    def test_search_in_product(self):
        ticket = self._ticket(self.giulia.partner_id, name="Prodotto", product_id=self.product_paghe.id)
        self._login(self.giulia)
        page = self._list("?search=Paghe+Web&search_in=product")
        self.assertIn(ticket.number, page)
        self.assertNotIn(self.alfa_ticket.number, page)

    def test_search_in_contact(self):
        colleague = self.env.ref("terasoft_portal.partner_paolo_ferri_demo")
        theirs = self._ticket(colleague, name="Di Paolo")
        self._login(self.giulia)
        page = self._list("?search=Ferri&search_in=contact")
        self.assertIn(theirs.number, page)
        self.assertNotIn(self.alfa_ticket.number, page)

    def test_sort_by_priority(self):
        urgent = self._ticket(self.giulia.partner_id, name="Urgente", priority="2")
        low = self._ticket(self.giulia.partner_id, name="Non urgente", priority="0")
        self._login(self.giulia)
        page = self._list("?sortby=priority")
        self.assertLess(page.index(urgent.number), page.index(low.number))
        newest = self._list("?sortby=newest")
        self.assertLess(newest.index(low.number), newest.index(urgent.number))

    def test_pagination_by_20(self):
        company = self.env["res.partner"].create({"name": "Paginata S.r.l.", "is_company": True})
        user = self._portal_user("paginated", company)
        tickets = self.Ticket.create(
            [{"name": f"P{i}", "partner_id": user.partner_id.id, "category_id": self.cat_paghe.id} for i in range(23)]
        )
        self._login(user)
        first = self._list()
        second = self._list_page(2)
        self.assertEqual(first.count("o_terasoft_ticket_row"), 20)
        self.assertEqual(second.count("o_terasoft_ticket_row"), 3)
        self.assertIn(tickets[0].number, second)  # oldest last
        self.assertIn("/my/tickets/page/2", first)

    def _list_page(self, page):
        response = self.url_open(f"/my/tickets/page/{page}")
        self.assertEqual(response.status_code, 200)
        return response.text

    def test_export_csv_is_the_filtered_list(self):
        closed = self._ticket(self.giulia.partner_id, name="Chiuso", state="closed")
        self._login(self.giulia)
        response = self.url_open("/my/tickets/export/csv?filterby=open")
        self.assertEqual(response.status_code, 200)
        # giulia writes Italian: ";" as Italian Excel expects
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
        numbers = [row[0] for row in rows[1:]]
        self.assertIn(self.alfa_ticket.number, numbers)
        self.assertNotIn(closed.number, numbers)
        self.assertNotIn(self.beta_ticket.number, numbers)

    def test_export_xlsx_is_a_workbook(self):
        self._login(self.giulia)
        response = self.url_open("/my/tickets/export/xlsx")
        self.assertEqual(response.status_code, 200)
        with zipfile.ZipFile(io.BytesIO(response.content)) as workbook:
            strings = workbook.read("xl/sharedStrings.xml").decode()
        self.assertIn(self.alfa_ticket.number, strings)
        self.assertNotIn(self.beta_ticket.number, strings)

    def test_home_counts_open_tickets(self):
        self._login(self.giulia)
        expected = self.Ticket.with_user(self.giulia).search_count([("is_done", "=", False)])
        result = self.make_jsonrpc_request("/my/counters", {"counters": ["ticket_count"]})
        self.assertEqual(result["ticket_count"], expected)

    def test_home_links_the_portal_sections(self):
        self._login(self.giulia)
        page = self.url_open("/my").text
        for url in (
            "/my/tickets",
            "/my/faq",
            "/my/documents",
            "/my/contacts",
            "/my/company",
            "/my/account",
            "/web/session/logout",
        ):
            self.assertIn(f'href="{url}', page, url)


class TestPortalScopes(PortalCase):
    def test_scope_own_lists_only_own_tickets(self):
        user = self._portal_user("scope_own", self.alfa, ticket_scope="own")
        own = self._ticket(user.partner_id, name="Mio")
        self._login(user)
        page = self._list()
        self.assertIn(own.number, page)
        self.assertNotIn(self.alfa_ticket.number, page)

    def test_scope_own_cannot_open_colleague_ticket(self):
        user = self._portal_user("scope_own2", self.alfa, ticket_scope="own")
        self._login(user)
        self.assertEqual(self.url_open(f"/my/tickets/{self.alfa_ticket.id}").status_code, 404)

    def test_scope_areas_sees_chosen_categories(self):
        user = self._portal_user(
            "scope_areas", self.alfa, ticket_scope="areas", ticket_scope_category_ids=[(6, 0, self.cat_presenze.ids)]
        )
        presenze = self._ticket(self.giulia.partner_id, name="Presenze", category_id=self.cat_presenze.id)
        self._login(user)
        page = self._list()
        self.assertIn(presenze.number, page)
        self.assertNotIn(self.alfa_ticket.number, page)  # Paghe: personal data, not their area
        self.assertEqual(self.url_open(f"/my/tickets/{self.alfa_ticket.id}").status_code, 404)

    def test_scope_company_sees_colleagues_tickets(self):
        user = self._portal_user("scope_company", self.alfa, ticket_scope="company")
        self._login(user)
        self.assertIn(self.alfa_ticket.number, self._list())


class TestPortalNewTicket(PortalCase):
    def _form(self, **overrides):
        return {
            "name": "Stampa F24 bloccata",
            "priority": "2",
            "importance": "blocking",
            "category_id": str(self.cat_paghe.id),
            "ticket_type": "defect",
            "product_id": str(self.product_paghe.id),
            "product_version": "06.07.00",
            "description": "La stampa si blocca a metà.",
            **overrides,
        }

    def _new_tickets(self):
        return self.Ticket.search([("name", "=", "Stampa F24 bloccata")])

    def test_form_has_the_field_inputs(self):
        self._login(self.giulia)
        page = self.url_open("/my/tickets/new").text
        for name in (
            "name",
            "priority",
            "importance",
            "category_id",
            "ticket_type",
            "product_id",
            "product_version",
            "description",
            "attachments",
        ):
            self.assertIn(f'name="{name}"', page, name)
        self.assertIn('action="/my/tickets/new"', page)
        self.assertIn('multiple="multiple"', page)

    def test_valid_ticket_is_created_and_opened(self):
        self._login(self.giulia)
        response = self._post(
            "/my/tickets/new",
            self._form(),
            files=[
                ("attachments", ("log.zip", _zip_bytes(), "application/zip")),
                ("attachments", ("screen.png", PNG_1PX, "image/png")),
            ],
        )
        ticket = self._new_tickets()
        self.assertEqual(len(ticket), 1)
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith(f"/my/tickets/{ticket.id}"))
        self.assertRecordValues(
            ticket,
            [
                {
                    "channel": "portal",
                    "partner_id": self.giulia.partner_id.id,
                    "priority": "2",
                    "importance": "blocking",
                    "ticket_type": "defect",
                    "category_id": self.cat_paghe.id,
                    "product_id": self.product_paghe.id,
                    "product_version": "06.07.00",
                    "state": "new",
                }
            ],
        )
        self.assertEqual(sorted(ticket.sudo()._portal_attachments().mapped("name")), ["log.zip", "screen.png"])

    def test_missing_title_keeps_input_and_shows_error(self):
        self._login(self.giulia)
        response = self._post("/my/tickets/new", self._form(name="", description="Testo da non perdere"))
        self.assertEqual(response.status_code, 200)
        self.assertIn('data-error-for="name"', response.text)
        self.assertIn("Testo da non perdere", response.text)
        self.assertIn(f'value="{self.cat_paghe.id}" selected', response.text)
        self.assertFalse(self.Ticket.search([("description", "ilike", "Testo da non perdere")]))

    def test_missing_category_is_an_error(self):
        self._login(self.giulia)
        response = self._post("/my/tickets/new", self._form(category_id=""))
        self.assertIn('data-error-for="category_id"', response.text)
        self.assertFalse(self._new_tickets())

    def test_invalid_priority_is_an_error(self):
        self._login(self.giulia)
        response = self._post("/my/tickets/new", self._form(priority="9"))
        self.assertIn('data-error-for="priority"', response.text)
        self.assertFalse(self._new_tickets())

    def test_invalid_importance_is_an_error(self):
        self._login(self.giulia)
        response = self._post("/my/tickets/new", self._form(importance="panic"))
        self.assertIn('data-error-for="importance"', response.text)
        self.assertFalse(self._new_tickets())

    def test_invalid_type_is_an_error(self):
        self._login(self.giulia)
        response = self._post("/my/tickets/new", self._form(ticket_type="wish"))
        self.assertIn('data-error-for="ticket_type"', response.text)
        self.assertFalse(self._new_tickets())

    def test_unknown_product_is_an_error(self):
        self._login(self.giulia)
        response = self._post("/my/tickets/new", self._form(product_id="999999"))
        self.assertIn('data-error-for="product_id"', response.text)
        self.assertFalse(self._new_tickets())

    def test_too_long_version_is_an_error(self):
        self._login(self.giulia)
        response = self._post("/my/tickets/new", self._form(product_version="9" * 40))
        self.assertIn('data-error-for="product_version"', response.text)
        self.assertFalse(self._new_tickets())

    def test_refused_extension_is_an_error(self):
        self._login(self.giulia)
        response = self._post(
            "/my/tickets/new", self._form(), files=[("attachments", ("setup.exe", b"MZ", "application/octet-stream"))]
        )
        self.assertIn('data-error-for="attachments"', response.text)
        self.assertFalse(self._new_tickets())

    def test_too_large_file_is_an_error(self):
        self.env["ir.config_parameter"].set_param("terasoft_portal.attachment_max_size_mb", "1")
        self._login(self.giulia)
        response = self._post(
            "/my/tickets/new",
            self._form(),
            files=[("attachments", ("big.zip", b"0" * (1024 * 1024 + 1), "application/zip"))],
        )
        self.assertIn('data-error-for="attachments"', response.text)
        self.assertFalse(self._new_tickets())

    def test_post_without_csrf_is_refused(self):
        self._login(self.giulia)
        with mute_logger("odoo.http"):
            response = self._post("/my/tickets/new", self._form(), csrf=False)
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self._new_tickets())

    def test_typed_script_is_shown_as_text(self):
        self._login(self.giulia)
        self._post("/my/tickets/new", self._form(description="<script>alert('x')</script>"))
        ticket = self._new_tickets()
        page = self.url_open(f"/my/tickets/{ticket.id}").text
        self.assertNotIn("<script>alert('x')</script>", page)
        self.assertIn("&lt;script&gt;", page)

    def test_public_user_cannot_create(self):
        response = self._post("/my/tickets/new", self._form())
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login", response.headers["Location"])
        self.assertFalse(self._new_tickets())

    def test_faq_suggestions_answer_a_list(self):
        self._login(self.giulia)
        result = self.make_jsonrpc_request("/my/tickets/faq_suggest", {"term": "cedolino"})
        self.assertIsInstance(result, list)
        self.assertLessEqual(len(result), 5)
        if "terasoft.faq" not in self.env:
            self.assertEqual(result, [])


class TestPortalTicketPage(PortalCase):
    def test_ticket_page_shows_ticket_information(self):
        self._login(self.giulia)
        response = self.url_open(f"/my/tickets/{self.alfa_ticket.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.alfa_ticket.name, response.text)
        self.assertIn(self.alfa.name, response.text)

    def test_other_company_ticket_is_not_found(self):
        self._login(self.giulia)
        self.assertEqual(self.url_open(f"/my/tickets/{self.beta_ticket.id}").status_code, 404)

    def test_guessed_unknown_id_is_not_found(self):
        self._login(self.giulia)
        self.assertEqual(self.url_open("/my/tickets/987654321").status_code, 404)

    def test_public_messages_only_oldest_first(self):
        ticket = self.alfa_ticket
        ticket.message_post(body="Prima risposta pubblica", message_type="comment", subtype_xmlid="mail.mt_comment")
        ticket.message_post(body="Nota interna segreta", message_type="comment", subtype_xmlid="mail.mt_note")
        ticket.message_post(body="Seconda risposta pubblica", message_type="comment", subtype_xmlid="mail.mt_comment")
        self._login(self.giulia)
        page = self.url_open(f"/my/tickets/{ticket.id}").text
        self.assertNotIn("Nota interna segreta", page)
        self.assertLess(page.index("Prima risposta pubblica"), page.index("Seconda risposta pubblica"))

    def test_access_token_opens_ticket_for_email_recipient(self):
        token = self.alfa_ticket.sudo()._portal_ensure_token()
        response = self.url_open(f"/my/tickets/{self.alfa_ticket.id}?access_token={token}")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.alfa_ticket.name, response.text)

    def test_wrong_access_token_is_not_found(self):
        self.alfa_ticket.sudo()._portal_ensure_token()
        response = self.url_open(f"/my/tickets/{self.alfa_ticket.id}?access_token=wrong")
        self.assertEqual(response.status_code, 404)

    def test_public_user_without_token_is_sent_to_login(self):
        response = self.url_open(f"/my/tickets/{self.alfa_ticket.id}")
        self.assertIn("/web/login", response.url)
        self.assertNotIn(self.alfa_ticket.name, response.text)

    def test_sla_promise_while_new(self):
        self.alfa_ticket.sla_deadline = fields.Datetime.now() + timedelta(hours=4)
        self._login(self.giulia)
        page = self.url_open(f"/my/tickets/{self.alfa_ticket.id}").text
        self.assertIn("o_terasoft_sla", page)

    def test_taken_date_once_taken(self):
        self.alfa_ticket.with_user(self.support).action_take_in_charge()
        self._login(self.giulia)
        page = self.url_open(f"/my/tickets/{self.alfa_ticket.id}").text
        self.assertIn("o_terasoft_taken", page)
        self.assertNotIn("o_terasoft_sla", page)

    def test_blocked_ticket_shows_administrative_block(self):
        blocked = self._ticket(self.giulia.partner_id, name="Bloccato", state="blocked")
        self._login(self.giulia)
        page = self.url_open(f"/my/tickets/{blocked.id}").text
        self.assertIn("o_terasoft_blocked", page)

    def test_close_button_only_when_workflow_allows(self):
        closed = self._ticket(self.giulia.partner_id, name="Già chiuso", state="closed")
        self._login(self.giulia)
        self.assertIn("o_terasoft_close_ticket", self.url_open(f"/my/tickets/{self.alfa_ticket.id}").text)
        self.assertNotIn("o_terasoft_close_ticket", self.url_open(f"/my/tickets/{closed.id}").text)


class TestPortalActions(PortalCase):
    def test_comment_is_posted_as_the_customer(self):
        self._login(self.giulia)
        response = self._post(f"/my/tickets/{self.alfa_ticket.id}/comment", {"comment": "Grazie, provo subito"})
        self.assertEqual(response.status_code, 303)
        message = self.alfa_ticket.sudo()._portal_public_messages()[-1:]
        self.assertIn("Grazie, provo subito", message.body)
        self.assertEqual(message.author_id, self.giulia.partner_id)
        self.assertFalse(message.is_internal)

    def test_comment_moves_ticket_waiting_for_customer(self):
        ticket = self._ticket(self.giulia.partner_id, name="In attesa", state="waiting_customer")
        self._login(self.giulia)
        self._post(f"/my/tickets/{ticket.id}/comment", {"comment": "Ecco i dati richiesti"})
        self.assertEqual(ticket.state, "waiting_support")

    def test_comment_script_is_escaped(self):
        self._login(self.giulia)
        self._post(f"/my/tickets/{self.alfa_ticket.id}/comment", {"comment": "<script>alert(1)</script>"})
        page = self.url_open(f"/my/tickets/{self.alfa_ticket.id}").text
        self.assertNotIn("<script>alert(1)</script>", page)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", page)

    def test_empty_comment_is_refused(self):
        self._login(self.giulia)
        before = len(self.alfa_ticket.sudo()._portal_public_messages())
        response = self._post(f"/my/tickets/{self.alfa_ticket.id}/comment", {"comment": "  "})
        # post/redirect/get: back to the ticket's page, which shows the error (test_portal_ux)
        self.assertEqual(response.status_code, 303)
        self.assertEqual(len(self.alfa_ticket.sudo()._portal_public_messages()), before)

    def test_comment_with_attachment_is_listed_and_downloadable(self):
        self._login(self.giulia)
        self._post(
            f"/my/tickets/{self.alfa_ticket.id}/comment",
            {"comment": "Allego il log"},
            files=[("attachments", ("errore.txt", b"stack trace", "text/plain"))],
        )
        attachment = self.alfa_ticket.sudo()._portal_attachments().filtered(lambda a: a.name == "errore.txt")
        self.assertTrue(attachment)
        response = self.url_open(f"/my/tickets/{self.alfa_ticket.id}/attachments/{attachment.id}")
        self.assertEqual(response.content, b"stack trace")

    def test_comment_on_other_company_ticket_is_not_found(self):
        self._login(self.giulia)
        before = self.beta_ticket.sudo().message_ids
        response = self._post(f"/my/tickets/{self.beta_ticket.id}/comment", {"comment": "Intruso"})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.beta_ticket.sudo().message_ids, before)

    def test_comment_without_csrf_is_refused(self):
        self._login(self.giulia)
        before = self.alfa_ticket.sudo().message_ids
        with mute_logger("odoo.http"):
            response = self._post(f"/my/tickets/{self.alfa_ticket.id}/comment", {"comment": "x"}, csrf=False)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.alfa_ticket.sudo().message_ids, before)

    def test_close_closes_the_ticket(self):
        self._login(self.giulia)
        response = self._post(f"/my/tickets/{self.alfa_ticket.id}/close")
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self.alfa_ticket.state, "closed")

    def test_close_other_company_ticket_is_not_found(self):
        self._login(self.giulia)
        response = self._post(f"/my/tickets/{self.beta_ticket.id}/close")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.beta_ticket.state, "new")

    def test_close_with_access_token_only_is_not_allowed(self):
        token = self.beta_ticket.sudo()._portal_ensure_token()
        self._login(self.giulia)
        response = self._post(f"/my/tickets/{self.beta_ticket.id}/close?access_token={token}")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.beta_ticket.state, "new")

    def test_close_without_csrf_is_refused(self):
        self._login(self.giulia)
        with mute_logger("odoo.http"):
            response = self._post(f"/my/tickets/{self.alfa_ticket.id}/close", csrf=False)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.alfa_ticket.state, "new")

    def test_download_is_logged(self):
        attachment = self._attach(self.alfa_ticket)
        self._login(self.giulia)
        response = self.url_open(f"/my/tickets/{self.alfa_ticket.id}/attachments/{attachment.id}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, b"PK data")
        log = self.alfa_ticket.download_log_ids
        self.assertRecordValues(
            log, [{"user_id": self.giulia.id, "attachment_id": attachment.id, "attachment_name": "log.zip"}]
        )

    def test_download_other_company_attachment_is_not_found(self):
        attachment = self._attach(self.beta_ticket)
        self._login(self.giulia)
        response = self.url_open(f"/my/tickets/{self.beta_ticket.id}/attachments/{attachment.id}")
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.beta_ticket.download_log_ids)

    def test_download_through_own_ticket_of_other_ticket_attachment_is_not_found(self):
        attachment = self._attach(self.beta_ticket)
        self._login(self.giulia)
        response = self.url_open(f"/my/tickets/{self.alfa_ticket.id}/attachments/{attachment.id}")
        self.assertEqual(response.status_code, 404)

    def test_internal_note_attachment_is_not_served(self):
        attachment = self._attach(self.alfa_ticket, name="interno.pdf")
        self.alfa_ticket.message_post(body="nota", subtype_xmlid="mail.mt_note", attachment_ids=attachment.ids)
        self._login(self.giulia)
        page = self.url_open(f"/my/tickets/{self.alfa_ticket.id}").text
        self.assertNotIn("interno.pdf", page)
        response = self.url_open(f"/my/tickets/{self.alfa_ticket.id}/attachments/{attachment.id}")
        self.assertEqual(response.status_code, 404)

    def test_page_view_hands_out_no_bearer_attachment_url(self):
        attachment = self._attach(self.alfa_ticket)
        self._login(self.giulia)
        self.url_open(f"/my/tickets/{self.alfa_ticket.id}")
        self.assertFalse(attachment.access_token)

    def test_public_user_cannot_download(self):
        attachment = self._attach(self.alfa_ticket)
        token = self.alfa_ticket.sudo()._portal_ensure_token()
        response = self.url_open(
            f"/my/tickets/{self.alfa_ticket.id}/attachments/{attachment.id}?access_token={token}", allow_redirects=False
        )
        self.assertEqual(response.status_code, 303)
        self.assertFalse(self.alfa_ticket.download_log_ids)

    def test_confirm_planned_date(self):
        planned = self._ticket(
            self.giulia.partner_id,
            name="Pianificato",
            state="planned",
            ticket_type="defect",
            planned_date=fields.Datetime.now() + timedelta(days=2),
        )
        self._login(self.giulia)
        response = self._post(f"/my/tickets/{planned.id}/plan", {"answer": "accept"})
        self.assertEqual(response.status_code, 303)
        self.assertEqual(planned.state, "planned")
        self.assertEqual(planned.sudo()._portal_public_messages()[-1:].author_id, self.giulia.partner_id)

    def test_propose_another_date_needs_a_message(self):
        planned = self._ticket(
            self.giulia.partner_id,
            name="Pianificato",
            state="planned",
            ticket_type="defect",
            planned_date=fields.Datetime.now() + timedelta(days=2),
        )
        self._login(self.giulia)
        before = len(planned.sudo()._portal_public_messages())
        response = self._post(f"/my/tickets/{planned.id}/plan", {"answer": "propose", "message": ""})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(planned.sudo()._portal_public_messages()), before)
        self._post(f"/my/tickets/{planned.id}/plan", {"answer": "propose", "message": "Meglio giovedì"})
        self.assertIn("Meglio giovedì", planned.sudo()._portal_public_messages()[-1:].body)

    def test_portal_user_has_no_write_access_by_rpc(self):
        from odoo.exceptions import AccessError

        with self.assertRaises(AccessError):
            self.alfa_ticket.with_user(self.giulia).write({"name": "hacked"})


class TestPortalLanguage(PortalCase):
    def test_language_choice_sets_user_language(self):
        self._login(self.giulia)
        response = self._post("/my/language", {"lang": "en_US", "redirect": "/it/my/tickets"})
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith("/my/tickets"))
        self.assertNotIn("/it/", response.headers["Location"])
        self.giulia.invalidate_recordset(["lang"])
        self.assertEqual(self.giulia.lang, "en_US")

    def test_unknown_language_is_refused(self):
        self._login(self.giulia)
        response = self._post("/my/language", {"lang": "xx_XX"})
        self.assertEqual(response.status_code, 404)
        self.giulia.invalidate_recordset(["lang"])
        self.assertEqual(self.giulia.lang, "it_IT")

    def test_login_page_choice_becomes_user_language(self):
        self.assertIn('action="/my/language"', self.url_open("/web/login").text)
        self._post("/my/language", {"lang": "en_US", "redirect": "/web/login"})
        self._post("/web/login", {"login": self.giulia.login, "password": DEMO_PASSWORD})
        self.giulia.invalidate_recordset(["lang"])
        self.assertEqual(self.giulia.lang, "en_US")

    def test_login_sets_the_users_language_for_the_portal(self):
        self.url_open("/web/login")  # a public session, like a browser's
        response = self._post("/web/login", {"login": self.giulia.login, "password": DEMO_PASSWORD})
        self.assertIn("frontend_lang=it_IT", response.headers.get("Set-Cookie", ""))
