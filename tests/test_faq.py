"""FAQ: ranked full-text search, portal pages, votes, new-ticket link."""

from markupsafe import Markup

from .common import TerasoftCase, TerasoftHttpCase


class FaqMixin:
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Faq = cls.env["terasoft.faq"]
        cls.faq_category = cls.env["terasoft.faq.category"].create(
            {
                "name": "Test Paghe",
                "ticket_category_id": cls.cat_paghe.id,
            }
        )
        cls.faq_sub_category = cls.env["terasoft.faq.category"].create(
            {
                "name": "Test Conguagli",
                "parent_id": cls.faq_category.id,
            }
        )

    @classmethod
    def _faq(cls, name, answer="<p>Risposta.</p>", **vals):
        return cls.env["terasoft.faq"].create(
            {
                "name": name,
                "answer": answer,
                "category_id": cls.faq_category.id,
                "is_published": True,
                **vals,
            }
        )


class TestFaqSearch(FaqMixin, TerasoftCase):
    def test_exact_question_match_ranks_first(self):
        # The answer repeats the words many times: without the exact-match rule it would rank first.
        noisy = self._faq("Errori frequenti di zorblat", "<p>zorblat quadrifoglio " * 20 + "</p>")
        exact = self._faq("Zorblat quadrifoglio?", "<p>Una risposta breve.</p>")
        results = self.Faq._fts_search("zorblat quadrifoglio")
        self.assertEqual([faq for faq, _excerpt in results][:2], [exact, noisy])

    def test_question_weighs_more_than_answer(self):
        in_answer = self._faq("Domanda generica sulle stampe", "<p>Parliamo del modulo fregolino.</p>")
        in_question = self._faq("Configurare il fregolino mensile", "<p>Vedi manuale.</p>")
        results = [faq for faq, _excerpt in self.Faq._fts_search("fregolino")]
        self.assertEqual(results[:2], [in_question, in_answer])

    def test_italian_stemming_plural_finds_singular(self):
        faq = self._faq("Il cedolino di prova xqz è sbagliato")
        self.assertIn(faq, [faq for faq, _excerpt in self.Faq._fts_search("cedolini xqz")])

    def test_english_configuration_stems_english_words(self):
        faq = self._faq("Printing the yearly payslip summary wq")
        self.assertIn(faq, [faq for faq, _excerpt in self.Faq._fts_search("payslips printed wq")])

    def test_last_word_is_a_prefix(self):
        faq = self._faq("Elaborazione straordinari notturni kv")
        self.assertIn(faq, [faq for faq, _excerpt in self.Faq._fts_search("kv straordin")])

    def test_search_is_not_substring_ilike(self):
        self._faq("Rateo ferie maturate")
        self.assertFalse(self.Faq._fts_search("ateo eri"))

    def test_portal_user_does_not_find_unpublished_entries(self):
        draft = self._faq("Bozza sul conguaglio zeppelino", is_published=False)
        self.assertIn(draft, [faq for faq, _excerpt in self.Faq._fts_search("zeppelino")])  # staff
        found = self.Faq.with_user(self.giulia)._fts_search("zeppelino")
        self.assertNotIn(draft.id, [faq.id for faq, _excerpt in found])

    def test_portal_search_returns_suggestion_dicts_with_safe_excerpt(self):
        faq = self._faq(
            "Come si stampa il modello Ulisse?",
            "<p>Apri il menu &lt;script&gt;alert(1)&lt;/script&gt; e stampa il modello ulisse.</p>",
        )
        results = self.Faq.with_user(self.giulia)._portal_search("Stampa del modello ulisse non riesce", limit=3)
        self.assertEqual(results[0]["id"], faq.id)
        self.assertEqual(set(results[0]), {"id", "name", "url", "excerpt", "excerpt_parts"})
        self.assertEqual(results[0]["url"], f"/my/faq/{faq.id}")
        excerpt = results[0]["excerpt"]
        self.assertIsInstance(excerpt, Markup)
        self.assertIn("<mark>", excerpt)
        self.assertNotIn("<script>", excerpt)
        # the same excerpt as plain-text pieces (ts_headline drops tag-like text)
        text = "".join(part["text"] for part in results[0]["excerpt_parts"])
        self.assertIn("alert(1)", text)
        self.assertNotIn("&lt;", text)
        self.assertLessEqual(len(results), 3)

    def test_query_without_words_returns_nothing(self):
        self.assertEqual(self.Faq._portal_search("?! ..."), [])
        self.assertEqual(self.Faq._portal_search(""), [])

    def test_tsquery_syntax_cannot_be_injected(self):
        self._faq("Accesso negato al modulo")
        # Characters meaningful to to_tsquery are dropped, not interpreted (no SQL/tsquery error).
        self.assertIsInstance(self.Faq._fts_search("accesso & | ! ( ) ' : * negato"), list)

    def test_new_ticket_url_uses_category_mapping_of_ancestor(self):
        faq = self._faq("Domanda nella sotto-categoria", category_id=self.faq_sub_category.id)
        self.assertEqual(faq._get_new_ticket_url(), f"/my/tickets/new?faq_id={faq.id}&category_id={self.cat_paghe.id}")

    def test_vote_counts(self):
        faq = self._faq("Voto")
        faq.sudo()._portal_vote(True)
        faq.sudo()._portal_vote(False)
        faq.sudo()._portal_vote(True)
        self.assertRecordValues(faq, [{"helpful_yes_count": 2, "helpful_no_count": 1}])


class TestFaqPortal(FaqMixin, TerasoftHttpCase):
    def test_search_page_shows_ranked_results_with_excerpt(self):
        faq = self._faq("Il cedolino di gennaio non quadra yyq", "<p>Controlla il cedolino yyq del mese.</p>")
        self.authenticate("giulia.bianchi@example.com", "demo")
        response = self.url_open("/my/faq?search=cedolini+yyq")
        self.assertEqual(response.status_code, 200)
        self.assertIn(f'href="/my/faq/{faq.id}"', response.text)
        self.assertIn("<mark>", response.text)

    def test_entry_page_and_new_ticket_link(self):
        faq = self._faq("Pagina della FAQ")
        self.authenticate("giulia.bianchi@example.com", "demo")
        response = self.url_open(f"/my/faq/{faq.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn(f"/my/tickets/new?faq_id={faq.id}&amp;category_id={self.cat_paghe.id}", response.text)

    def test_unpublished_entry_is_404_for_portal_user(self):
        draft = self._faq("Bozza", is_published=False)
        self.authenticate("giulia.bianchi@example.com", "demo")
        self.assertEqual(self.url_open(f"/my/faq/{draft.id}").status_code, 404)
        self.assertEqual(self.url_open("/my/faq/999999").status_code, 404)

    def test_public_user_is_sent_to_login(self):
        faq = self._faq("Pubblica")
        for url in ("/my/faq", f"/my/faq/{faq.id}"):
            # followed: with English active, a public visitor may first get the /en/ prefix
            response = self.url_open(url)
            self.assertIn("/web/login", response.url, url)

    def test_vote_once_per_session(self):
        faq = self._faq("Votami")
        self.authenticate("giulia.bianchi@example.com", "demo")
        page = self.url_open(f"/my/faq/{faq.id}")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        for _ in range(2):
            self.url_open(f"/my/faq/{faq.id}/vote", data={"helpful": "yes", "csrf_token": token})
        faq.invalidate_recordset()
        self.assertEqual(faq.helpful_yes_count, 1)

    def test_vote_without_csrf_token_is_refused(self):
        faq = self._faq("CSRF")
        self.authenticate("giulia.bianchi@example.com", "demo")
        response = self.url_open(f"/my/faq/{faq.id}/vote", data={"helpful": "yes"})
        self.assertEqual(response.status_code, 400)
        faq.invalidate_recordset()
        self.assertEqual(faq.helpful_yes_count, 0)
