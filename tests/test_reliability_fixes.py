"""Regression tests of the bugs the reliability suite found."""
import json
from unittest.mock import patch

from odoo.addons.base.models.ir_mail_server import IrMail_Server

from .common import TerasoftCase, TerasoftHttpCase


class TestMailQueueAfterSmtpOutage(TerasoftCase):

    def _mail(self):
        return self.env["mail.mail"].create({"subject": "Ticket", "body_html": "<p>x</p>",
                                             "email_to": "cliente@example.com", "auto_delete": False})

    def test_mail_queued_during_smtp_outage_is_sent_when_smtp_is_back(self):
        mail = self._mail()
        with patch.object(IrMail_Server, "_connect__", side_effect=ConnectionRefusedError(111, "refused")):
            self.env["mail.mail"].process_email_queue()
        self.assertRecordValues(mail, [{"state": "exception", "failure_type": "mail_smtp"}])
        sent = []
        MailMail = type(self.env["mail.mail"])
        with patch.object(MailMail, "send", lambda mails, **kw: sent.extend(mails.ids)):
            self.env["mail.mail"].process_email_queue()
        self.assertIn(mail.id, sent)
        self.assertRecordValues(mail, [{"state": "outgoing", "failure_type": False}])

    def test_mail_failed_for_another_reason_is_not_retried(self):
        mail = self._mail()
        mail.write({"state": "exception", "failure_type": "mail_email_invalid"})
        self.env["mail.mail"].process_email_queue()
        self.assertEqual(mail.state, "exception")


class TestFaqSuggestTypes(TerasoftHttpCase):

    def test_faq_suggest_with_a_non_string_term_answers_nothing(self):
        self.authenticate("giulia.bianchi@example.com", "demo")
        for term in ([1, 2], {"a": 1}, 42, None):
            response = self.url_open("/my/tickets/faq_suggest", data=json.dumps(
                {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {"term": term}}),
                headers={"Content-Type": "application/json"})
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
