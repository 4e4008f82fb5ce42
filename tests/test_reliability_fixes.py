"""Regression tests of the bugs the reliability suite found."""

import json

from .common import TerasoftHttpCase


class TestFaqSuggestTypes(TerasoftHttpCase):
    def test_faq_suggest_with_a_non_string_term_answers_nothing(self):
        self.authenticate("giulia.bianchi@example.com", "demo")
        for term in ([1, 2], {"a": 1}, 42, None):
            response = self.url_open(
                "/my/tickets/faq_suggest",
                data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {"term": term}}),
                headers={"Content-Type": "application/json"},
            )
            self.assertEqual(response.json().get("result"), [], term)


class TestHostileInputs(TerasoftHttpCase):
    def test_non_ascii_access_token_answers_404(self):
        ticket = self._ticket(self.luca.partner_id)
        self.authenticate("giulia.bianchi@example.com", "demo")
        response = self.url_open(f"/my/tickets/{ticket.id}?access_token=%C3%A9%F0%9F%98%80")
        self.assertEqual(response.status_code, 404)

    def test_nul_in_search_does_not_crash(self):
        self.authenticate("giulia.bianchi@example.com", "demo")
        for url in ("/my/tickets?search=a%00b", "/my/documents?search=a%00b", "/my/faq?search=a%00b"):
            self.assertEqual(self.url_open(url).status_code, 200, url)
