"""Customer experience of the portal (issue 13, first half): home, preferences, branding, ticket
list, new ticket, ticket page and error pages, as Giulia Bianchi (Alfa Paghe) and Franco Neri
(the insolvent Gamma) see them, in Italian. Run with --odoo-http."""

import re
from datetime import timedelta

from odoo import fields
from odoo.tools import mute_logger

from .common import TerasoftCase, frozen, patch_cron_commit
from .test_portal_routes import PortalCase


class TestPortalHome(PortalCase):
    def test_home_entries_in_the_manuals_order_and_wording(self):
        self._login(self.giulia)
        page = self.url_open("/my").text
        positions = [
            page.index(f'href="{url}"')
            for url in ("/my/tickets", "/my/faq", "/my/documents", "/my/contacts", "/my/company")
        ]
        self.assertEqual(positions, sorted(positions))
        for text in (
            "Assistenza Clienti",
            "Apri o modifica un ticket",
            "Cerca risposte alle tue domande",
            "Scarica i tuoi file",
            "Mostra contatti",
            "Preferenze propria azienda",
        ):
            self.assertIn(text, page)

    def test_home_entries_have_their_own_icons(self):
        self._login(self.giulia)
        page = self.url_open("/my").text
        support = page[page.index('href="/my/tickets"') : page.index('href="/my/faq"')]
        self.assertIn("portal-support.svg", support)
        self.assertNotIn("portal-connection.svg", support)
        icons = re.findall(r'src="(/terasoft_portal/static/src/img/portal-[a-z]+\.svg)"', page)
        self.assertEqual(len(icons), len(set(icons)))
        self.assertGreaterEqual(len(icons), 5)

    def test_one_language_switch(self):
        self._login(self.giulia)
        page = self.url_open("/my").text
        self.assertEqual(page.count("o_terasoft_language"), 1)
        self.assertNotIn("js_language_selector", page)  # Odoo's footer selector

    def test_insolvent_customer_is_told_on_the_home_page(self):
        franco = self.env.ref("terasoft_portal.user_franco_neri_demo")
        self._login(franco)
        page = self.url_open("/my").text
        self.assertIn("o_terasoft_blocked_home", page)
        self.assertIn("reparto amministrativo", page)
        self._login(self.giulia)
        self.assertNotIn("o_terasoft_blocked_home", self.url_open("/my").text)


class TestPortalBranding(PortalCase):
    def test_login_page_shows_the_company_not_odoo(self):
        page = self.url_open("/web/login").text
        company = self.env.company.name
        title = re.search(r"<title>(.*?)</title>", page, re.DOTALL).group(1)
        self.assertIn(company, title)
        self.assertNotEqual(title.strip(), "Odoo")
        self.assertIn("o_terasoft_login_brand", page)
        self.assertIn("favicon.png", page)

    def test_no_database_manager_link(self):
        for url in ("/web/login", "/access/request"):
            page = self.url_open(url).text
            self.assertNotIn("/web/database/manager", page, url)

    def test_portal_tab_title_and_header(self):
        self._login(self.giulia)
        page = self.url_open("/my/tickets").text
        title = re.search(r"<title>(.*?)</title>", page, re.DOTALL).group(1)
        self.assertEqual(title, f"Portale Clienti – {self.env.company.name}")
        self.assertIn("o_terasoft_brand", page)

    def test_demo_company_has_its_logo(self):
        company = self.env.ref("base.main_company")
        self.assertTrue(company.logo)
        self.assertFalse(company.uses_default_logo)


class TestPortalPreferences(PortalCase):
    def _address_form(self, **values):
        partner = self.giulia.partner_id
        return {
            "partner_id": str(partner.id),
            "name": partner.name,
            "email": partner.email,
            "phone": partner.phone or "02 1234",
            "street": partner.street or "Via Roma 1",
            "city": partner.city or "Milano",
            "zip": partner.zip or "20100",
            "country_id": str(partner.country_id.id or self.env.ref("base.it").id),
            "state_id": str(partner.state_id.id or ""),
            "use_delivery_as_billing": "true",
            "address_type": "billing",
            "callback": "/my",
            "required_fields": "name,email",
            **values,
        }

    def test_preferences_page_has_title_breadcrumb_and_language(self):
        self._login(self.giulia)
        page = self.url_open("/my/account").text
        self.assertIn("<h3", page)
        self.assertIn("Mie preferenze", page)
        self.assertIn('breadcrumb-item active">Mie preferenze', page)
        self.assertIn('name="lang"', page)
        self.assertNotIn('name="company_name"', page)

    def test_contact_cannot_rename_the_company(self):
        self._login(self.giulia)
        response = self._post("/my/address/submit", self._address_form(company_name="Rinominata S.p.A."))
        self.assertEqual(response.status_code, 200)
        self.assertIn("redirectUrl", response.text)
        self.alfa.invalidate_recordset(["name"])
        self.assertEqual(self.alfa.name, "Alfa Paghe S.r.l.")

    def test_language_is_saved_with_the_preferences(self):
        self._login(self.giulia)
        response = self._post("/my/address/submit", self._address_form(lang="en_US"))
        self.assertIn("redirectUrl", response.text)
        self.giulia.invalidate_recordset(["lang"])
        self.assertEqual(self.giulia.lang, "en_US")
        self.assertEqual(response.cookies.get("frontend_lang"), "en_US")

    def test_company_contact_is_not_offered_to_delete_the_account(self):
        self._login(self.giulia)
        page = self.url_open("/my/security").text
        self.assertNotIn("portal_deactivate_account_form", page)
        self.assertIn("o_terasoft_close_account", page)

    def test_company_contact_cannot_deactivate_by_post(self):
        self._login(self.giulia)
        response = self._post("/my/deactivate_account", {"validation": self.giulia.login, "password": "demo"})
        self.assertEqual(response.status_code, 303)
        self.giulia.invalidate_recordset(["active"])
        self.assertTrue(self.giulia.active)


class TestPortalTicketListUx(PortalCase):
    def test_headings_follow_mine_or_all(self):
        self._login(self.giulia)
        all_page = self._list("?show=all")
        self.assertIn("Ticket aperti dell&#39;azienda", all_page)
        self.assertNotIn("Miei ticket aperti", all_page)
        mine = self._list("?show=mine")
        self.assertIn("Miei ticket aperti", mine)

    def test_closed_state_filter_shows_only_the_closed_table(self):
        self._ticket(self.giulia.partner_id, name="Chiuso", state="closed")
        self._login(self.giulia)
        page = self._list("?filterby=closed")
        self.assertIn('id="closed_tickets"', page)
        self.assertNotIn('id="open_tickets"', page)
        page = self._list("?filterby=waiting_support")
        self.assertNotIn('id="closed_tickets"', page)

    def test_each_table_has_its_own_pager(self):
        company = self.env["res.partner"].create({"name": "Due Tabelle S.r.l.", "is_company": True})
        user = self._portal_user("two_tables", company)
        self.Ticket.create(
            [
                {"name": f"Aperto {i}", "partner_id": user.partner_id.id, "category_id": self.cat_paghe.id}
                for i in range(21)
            ]
        )
        closed = self.Ticket.create(
            [
                {
                    "name": f"Chiuso {i}",
                    "partner_id": user.partner_id.id,
                    "category_id": self.cat_paghe.id,
                    "state": "closed",
                }
                for i in range(23)
            ]
        )
        self._login(user)
        first = self._list()
        self.assertIn("o_terasoft_pager_open_tickets", first)
        self.assertIn("o_terasoft_pager_closed_tickets", first)
        self.assertIn("closed_page=2", first)
        second_closed = self._list("?closed_page=2")
        closed_part = second_closed[second_closed.index('id="closed_tickets"') :]
        open_part = second_closed[: second_closed.index('id="closed_tickets"')]
        self.assertEqual(closed_part.count("o_terasoft_ticket_row"), 3)
        self.assertEqual(open_part.count("o_terasoft_ticket_row"), 20)  # open table still on page 1
        self.assertIn(closed.sorted("id")[0].number, closed_part)

    def test_newest_sorts_by_creation_date(self):
        older = self._ticket(self.giulia.partner_id, name="Creato dopo ma datato")
        newer = self._ticket(self.giulia.partner_id, name="Creato prima")
        # the higher id is the older ticket (imported, backdated)
        self.env.cr.execute(
            "UPDATE terasoft_ticket SET create_date = create_date - interval '30 days' WHERE id = %s",
            [max(older.id, newer.id)],
        )
        backdated, recent = (older, newer) if older.id > newer.id else (newer, older)
        self._login(self.giulia)
        page = self._list("?sortby=newest")
        self.assertLess(page.index(recent.number), page.index(backdated.number))

    def test_status_sorting_follows_the_workflow(self):
        company = self.env["res.partner"].create({"name": "Stati S.r.l.", "is_company": True})
        user = self._portal_user("states_user", company)
        planned = self._ticket(user.partner_id, name="P", state="planned", ticket_type="defect")
        new = self._ticket(user.partner_id, name="N")
        blocked_like = self._ticket(user.partner_id, name="W", state="waiting_customer")
        self._login(user)
        page = self._list("?sortby=state")
        # Aperto, Attesa cliente, Pianificato (the order of the states, not of their codes)
        self.assertLess(page.index(new.number), page.index(blocked_like.number))
        self.assertLess(page.index(blocked_like.number), page.index(planned.number))

    def test_search_matches_italian_word_forms(self):
        ticket = self._ticket(self.giulia.partner_id, name="Timbrature mancanti del turno di notte")
        described = self._ticket(
            self.giulia.partner_id, name="Reparto", description="<p>Le <b>giustificazioni</b> non compaiono</p>"
        )
        self._login(self.giulia)
        self.assertIn(ticket.number, self._list("?search=timbratura"))
        self.assertIn(ticket.number, self._list("?search=timbratura&search_in=name"))
        page = self._list("?search=giustificazione&search_in=description")
        self.assertIn(described.number, page)
        self.assertNotIn(ticket.number, page)
        # partial codes still match with ILIKE
        self.assertIn(ticket.number, self._list(f"?search={ticket.number[-3:]}"))
        # the title-only search does not look into descriptions
        self.assertNotIn(described.number, self._list("?search=giustificazione&search_in=name"))

    def test_search_query_count_does_not_grow_with_tickets(self):
        company = self.env["res.partner"].create({"name": "Cerca S.r.l.", "is_company": True})
        user = self._portal_user("search_user", company)

        def add(count):
            self.Ticket.create(
                [
                    {
                        "name": f"Timbrature perse {i}",
                        "partner_id": user.partner_id.id,
                        "category_id": self.cat_presenze.id,
                    }
                    for i in range(count)
                ]
            )

        add(3)
        self._login(user)
        url = "/my/tickets?search=timbratura"
        self.url_open(url)
        before = self.cr.sql_log_count
        self.assertEqual(self.url_open(url).text.count("o_terasoft_ticket_row"), 3)
        small = self.cr.sql_log_count - before
        add(30)
        self.url_open(url)
        with self.assertQueryCount(small):
            self.url_open(url)


class TestPortalNewTicketUx(PortalCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Faq = cls.env["terasoft.faq"]
        cls.faq_category = cls.env["terasoft.faq.category"].create(
            {"name": "Paghe FAQ", "ticket_category_id": cls.cat_paghe.id}
        )
        cls.faq = Faq.create(
            {
                "name": "Come si imposta la tredicesima?",
                "answer": "<p>Vai in <strong>Tabelle &gt; Contratti</strong> e usa <em>Ristampa</em> "
                "per l'utente del contratto.</p>",
                "category_id": cls.faq_category.id,
                "product_id": cls.product_paghe.id,
                "is_published": True,
            }
        )

    def test_faq_search_excerpt_is_clean(self):
        self._login(self.giulia)
        page = self.url_open("/my/faq?search=contratti").text
        excerpt = page[page.index("o_terasoft_faq_excerpt") :]
        excerpt = excerpt[: excerpt.index("</div>")]
        self.assertIn("<mark>", excerpt)
        self.assertNotIn("*Tabelle", excerpt)
        self.assertNotIn("/Ristampa/", excerpt)
        self.assertNotIn("&amp;gt;", excerpt)
        self.assertNotIn("&lt;mark&gt;", excerpt)

    def test_faq_suggestions_give_plain_text_parts(self):
        self._login(self.giulia)
        result = self.make_jsonrpc_request("/my/tickets/faq_suggest", {"term": "contratti tredicesima"})
        entry = next(entry for entry in result if entry["id"] == self.faq.id)
        text = "".join(part["text"] for part in entry["excerpt_parts"])
        self.assertIn("Tabelle > Contratti", text)
        self.assertIn("l'utente", text)
        for bad in ("<mark>", "&gt;", "&#39;", "*Tabelle", "/Ristampa/"):
            self.assertNotIn(bad, text)
        self.assertTrue(any(part["mark"] for part in entry["excerpt_parts"]))

    def test_faq_link_prefills_the_form(self):
        self._login(self.giulia)
        page = self.url_open(self.faq._get_new_ticket_url()).text
        self.assertIn('value="Come si imposta la tredicesima?"', page)
        self.assertIn(f'value="{self.cat_paghe.id}" selected', page)
        self.assertIn(f'value="{self.product_paghe.id}" selected', page)

    def test_required_fields_are_marked(self):
        self._login(self.giulia)
        page = self.url_open("/my/tickets/new").text
        for field in ("ticket_name", "ticket_category"):
            label = page[page.index(f'for="{field}"') :]
            self.assertIn("text-danger", label[: label.index("</label>")])

    def test_triage_category_is_not_offered(self):
        triage = self.env.ref("terasoft_portal.ticket_category_to_classify")
        self.assertFalse(triage.portal_visible)
        self._login(self.giulia)
        page = self.url_open("/my/tickets/new").text
        select = page[page.index('name="category_id"') :]
        select = select[: select.index("</select>")]
        self.assertIn(f'<option value="{self.cat_paghe.id}"', select)
        self.assertNotIn(f'<option value="{triage.id}"', select)
        response = self._post("/my/tickets/new", {"name": "Smistami", "category_id": str(triage.id)})
        self.assertIn('data-error-for="category_id"', response.text)
        self.assertFalse(self.Ticket.search([("name", "=", "Smistami")]))

    def test_category_names_are_in_the_users_language(self):
        self.cat_paghe.with_context(lang="en_US").name = "Payroll"
        self.cat_paghe.with_context(lang="it_IT").name = "Paghe"
        self._login(self.giulia)
        self.assertEqual(self.giulia.lang, "it_IT")
        page = self.url_open("/my/tickets/new").text
        self.assertIn(f'<option value="{self.cat_paghe.id}">Paghe</option>', page)

    def test_insolvent_customer_is_told_before_writing(self):
        franco = self.env.ref("terasoft_portal.user_franco_neri_demo")
        self._login(franco)
        page = self.url_open("/my/tickets/new").text
        self.assertLess(page.index("o_terasoft_blocked"), page.index('name="name"'))

    def test_ended_support_period_is_said_before_writing(self):
        company = self.env["res.partner"].create(
            {"name": "Scaduta S.r.l.", "is_company": True, "support_end_date": fields.Date.today() - timedelta(days=10)}
        )
        user = self._portal_user("ended_support", company)
        self._login(user)
        page = self.url_open("/my/tickets/new").text
        self.assertIn("o_terasoft_support_period", page)
        self.assertLess(page.index("o_terasoft_support_period"), page.index('name="name"'))
        self.assertIn("<fieldset disabled", page)
        home = self.url_open("/my").text
        self.assertIn("o_terasoft_support_period", home)


class TestPortalTicketPageUx(PortalCase):
    def test_manual_buttons_at_the_top(self):
        self._login(self.giulia)
        page = self.url_open(f"/my/tickets/{self.alfa_ticket.id}").text
        buttons = [
            page.index(marker) for marker in ("o_terasoft_back", "o_terasoft_new_ticket", "o_terasoft_close_ticket")
        ]
        self.assertEqual(buttons, sorted(buttons))
        self.assertLess(buttons[-1], page.index("o_terasoft_state_badge"))
        self.assertIn("o_terasoft_confirm_close", page)

    def test_solution_block_always_there(self):
        self._login(self.giulia)
        page = self.url_open(f"/my/tickets/{self.alfa_ticket.id}").text
        self.assertIn("Informazioni Soluzione", page)
        self.assertIn("Nessuna soluzione ancora", page)

    def test_each_state_explains_itself(self):
        self._login(self.giulia)
        page = self.url_open(f"/my/tickets/{self.alfa_ticket.id}").text
        self.assertIn("Nuova richiesta di assistenza", page)

    def test_resolved_tells_what_to_do_and_when_it_closes(self):
        ticket = self._ticket(self.giulia.partner_id, name="Da chiudere", ticket_type="defect", state="in_progress")
        ticket.action_resolve(solution="<p>Corretto</p>")
        self._login(self.giulia)
        page = self.url_open(f"/my/tickets/{ticket.id}").text
        self.assertIn("o_terasoft_resolved_help", page)
        date_text = ticket.with_user(self.giulia).sudo()._portal_format_datetime(ticket._get_autoclose_date())
        self.assertIn(date_text, page)

    def test_waiting_customer_shows_the_last_question(self):
        ticket = self._ticket(self.giulia.partner_id, name="Domanda")
        ticket.with_user(self.support).action_take_in_charge()
        ticket.with_user(self.support).action_ask_customer("<p>Quale versione usate?</p>")
        self._login(self.giulia)
        page = self.url_open(f"/my/tickets/{ticket.id}").text
        question = page[page.index("o_terasoft_last_question") :]
        self.assertIn("Quale versione usate?", question[:600])

    def test_rejected_comment_keeps_url_and_text(self):
        self._login(self.giulia)
        url = f"/my/tickets/{self.alfa_ticket.id}"
        response = self._post(f"{url}/comment", {"comment": "  "})
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].split("#")[0].endswith(url))
        page = self.url_open(url).text
        self.assertIn("o_terasoft_comment_error", page)
        # a refused file keeps the typed text
        response = self._post(
            f"{url}/comment",
            {"comment": "Testo da non perdere"},
            files=[("attachments", ("virus.exe", b"MZ", "application/octet-stream"))],
        )
        self.assertEqual(response.status_code, 303)
        page = self.url_open(url).text
        self.assertIn("Testo da non perdere", page)
        self.assertIn("virus.exe", page)
        # shown once: a reload is the plain page, never a 405
        again = self.url_open(url)
        self.assertEqual(again.status_code, 200)
        self.assertNotIn("o_terasoft_comment_error", again.text)


class TestAutocloseDate(TerasoftCase):
    def test_cron_closes_at_the_date_the_portal_shows(self):
        ticket = self._ticket(self.giulia.partner_id, ticket_type="defect", state="in_progress")
        with frozen(self.env, "2026-11-23 09:00:00"):
            ticket.action_resolve(solution="<p>Fixed</p>")
        closes = ticket._get_autoclose_date()
        self.assertTrue(closes)
        commit, _calls = patch_cron_commit()
        with frozen(self.env, closes - timedelta(minutes=5)), commit:
            self.Ticket._cron_autoclose()
        self.assertEqual(ticket.state, "resolved")
        with frozen(self.env, closes + timedelta(minutes=5)), commit:
            self.Ticket._cron_autoclose()
        self.assertEqual(ticket.state, "closed")


class TestPortalErrorPages(PortalCase):
    @mute_logger("odoo.http")
    def test_404_in_italian_back_to_the_portal(self):
        self._login(self.giulia)
        response = self.url_open("/my/pagina-inesistente")
        self.assertEqual(response.status_code, 404)
        self.assertIn("Pagina non trovata", response.text)
        self.assertIn('href="/my"', response.text)
        self.assertNotIn("/contactus", response.text)

    @mute_logger("odoo.http")
    def test_other_company_ticket_404_leads_home(self):
        self._login(self.giulia)
        response = self.url_open(f"/my/tickets/{self.beta_ticket.id}")
        self.assertEqual(response.status_code, 404)
        self.assertIn('href="/my"', response.text)
