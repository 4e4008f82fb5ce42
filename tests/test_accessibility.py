"""Accessibility (WCAG 2.1 A/AA) of every portal page, checked with axe-core in the headless
Chromium of Odoo's browser tests.

axe-core comes from npm into the git-ignored ``.local/node_modules`` (``scripts/setup.sh``
installs it for ``make test``; ``AXE_CORE_JS`` may point at another ``axe.min.js``). Its source
is injected into each page; the violations come back through the browser console and are
asserted here, so the test fails on any serious or critical violation that is not in
``ODOO_KNOWN`` (violations of Odoo's own templates that an inheriting view cannot fix
cleanly, listed in the README).
"""

import json
import logging
import os
import unittest
from pathlib import Path

from .common import TerasoftHttpCase

AXE_JS = Path(
    os.environ.get("AXE_CORE_JS") or Path(__file__).resolve().parent.parent / ".local/node_modules/axe-core/axe.min.js"
)
RESULT_PREFIX = "AXE_RESULT "

# (rule id, CSS selector of the element) of Odoo's own markup left as is; see README.
ODOO_KNOWN = set()

AXE_RUN = (
    """
(async () => {
    const results = await axe.run(document, {
        runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        resultTypes: ["violations"],
    });
    const violations = [];
    for (const rule of results.violations) {
        for (const node of rule.nodes) {
            violations.push({id: rule.id, impact: node.impact || rule.impact,
                             target: node.target.join(" "), html: node.html.slice(0, 200),
                             summary: (node.failureSummary || "").slice(0, 300)});
        }
    }
    console.log("%s" + JSON.stringify({url: location.pathname, lang: document.documentElement.lang, violations}));
    console.log("test successful");
})()
"""
    % RESULT_PREFIX
)


class _DropHugeCode(logging.Filter):
    """browser_js logs the evaluated code (axe's 650 kB source): keep that line out."""

    def filter(self, record):
        return not str(record.msg).startswith("Evaluate test code")


@unittest.skipUnless(AXE_JS.is_file(), f"axe-core not installed ({AXE_JS}): run scripts/setup.sh test")
class TestAccessibility(TerasoftHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.axe_source = AXE_JS.read_text(encoding="utf-8")
        ref = cls.env.ref
        cls.ticket = ref("terasoft_portal.ticket_t11_demo")  # Giulia's, resolved, with comments
        cls.faq = cls.env["terasoft.faq"].search([("is_published", "=", True)], limit=1)
        cls.contact = ref("terasoft_portal.partner_marco_rossi_demo")

    def setUp(self):
        super().setUp()
        quiet = _DropHugeCode()
        self._logger.addFilter(quiet)
        self.addCleanup(self._logger.removeFilter, quiet)

    def _axe(self, url, login="giulia.bianchi@example.com"):
        """The serious and critical violations of ``url`` as seen by ``login`` (None: a visitor)."""
        payloads = self._run_axe(url, "", login)
        self.assertEqual(len(payloads), 1, "axe-core did not report")
        payload = payloads[0]
        self.assertTrue(payload["lang"], f"{url}: <html> has no lang")
        return [
            v
            for v in payload["violations"]
            if v["impact"] in ("serious", "critical") and (v["id"], v["target"]) not in ODOO_KNOWN
        ]

    def _run_axe(self, url, before, login):
        """Run axe-core on ``url`` (after the JS ``before``); the payloads it printed."""
        lines = []
        handler = logging.Handler(logging.INFO)
        handler.emit = lambda record: lines.append(record.getMessage())
        browser_logger = self._logger.getChild("browser")
        browser_logger.addHandler(handler)
        try:
            self.browser_js(url, before + self.axe_source + "\n;" + AXE_RUN, login=login, timeout=120)
        finally:
            browser_logger.removeHandler(handler)
        return [json.loads(line.split(RESULT_PREFIX, 1)[1]) for line in lines if RESULT_PREFIX in line]

    def _assert_accessible(self, url, login="giulia.bianchi@example.com"):
        violations = self._axe(url, login)
        self.assertFalse(
            violations,
            f"{url}: {len(violations)} serious/critical axe violations:\n"
            + "\n".join(json.dumps(v, ensure_ascii=False) for v in violations),
        )

    def test_home(self):
        self._assert_accessible("/my")

    def test_ticket_list(self):
        self._assert_accessible("/my/tickets")

    def test_new_ticket(self):
        self._assert_accessible("/my/tickets/new")

    def test_ticket_page(self):
        self._assert_accessible(f"/my/tickets/{self.ticket.id}")

    def test_faq(self):
        self._assert_accessible("/my/faq")

    def test_faq_entry(self):
        self._assert_accessible(f"/my/faq/{self.faq.id}")

    def test_documents(self):
        self._assert_accessible("/my/documents")

    def test_contacts(self):
        self._assert_accessible("/my/contacts")

    def test_contact(self):
        self._assert_accessible(f"/my/contacts/{self.contact.id}")

    def test_company(self):
        self._assert_accessible("/my/company")

    def test_preferences(self):
        self._assert_accessible("/my/account")

    def test_access_request(self):
        self._assert_accessible("/access/request", login=None)

    def test_login(self):
        self._assert_accessible("/web/login", login=None)

    def test_closed_ticket_page_with_rating(self):
        self._assert_accessible(f"/my/tickets/{self.env.ref('terasoft_portal.ticket_t13_demo').id}")

    def test_rating_page(self):
        token = self.env.ref("terasoft_portal.rating_t13_demo").access_token
        self._assert_accessible(f"/rate/{token}/3", login=None)

    def test_the_check_can_fail(self):
        """The same run reports a violation planted in a page (an input without label)."""
        (payload,) = self._run_axe(
            "/web/login",
            "document.body.insertAdjacentHTML('beforeend', '<input type=\"text\" id=\"o_planted\">');\n",
            None,
        )
        self.assertIn(("label", "#o_planted"), {(v["id"], v["target"]) for v in payload["violations"]})


class TestFormErrors(TerasoftHttpCase):
    def test_errors_are_tied_to_their_fields_and_focused(self):
        self.start_tour("/my/tickets/new", "terasoft_portal_form_errors_tour", login="giulia.bianchi@example.com")
        self.assertFalse(self.Ticket.search([("name", "=", "Prova errori accessibili")]))


class TestKeyboard(TerasoftHttpCase):
    """Keyboard only: the fields and buttons of the forms take the focus and show it."""

    CHECK = """
        const problems = [];
        for (const selector of %s) {
            const element = document.querySelector(selector);
            if (!element) { problems.push(selector + ": missing"); continue; }
            if (element.tabIndex < 0 || element.disabled || !element.getClientRects().length) {
                problems.push(selector + ": not reachable with Tab");
                continue;
            }
            element.focus();
            if (document.activeElement !== element) { problems.push(selector + ": cannot take the focus"); continue; }
            const style = getComputedStyle(element);
            if (style.outlineStyle === "none" || parseFloat(style.outlineWidth) < 2) {
                problems.push(selector + ": focus not visible");
            }
        }
        if (problems.length) { console.error(problems.join("; ")); } else { console.log("test successful"); }
    """

    def test_ticket_page_comment_and_close_are_reachable(self):
        ticket = self.env.ref("terasoft_portal.ticket_t11_demo")  # resolved: the customer may close it
        selectors = [
            "textarea[name='comment']",
            "input[name='attachments']",
            ".o_terasoft_send_comment",
            ".o_terasoft_close_ticket",
        ]
        self.browser_js(
            f"/my/tickets/{ticket.id}", self.CHECK % json.dumps(selectors), login="giulia.bianchi@example.com"
        )

    def test_new_ticket_form_is_reachable(self):
        selectors = [
            "#ticket_name",
            "#ticket_type",
            "#ticket_priority",
            "#ticket_importance",
            "#ticket_category",
            "#ticket_product",
            "#ticket_product_version",
            "#ticket_description",
            "#ticket_attachments",
            "button.o_terasoft_save",
        ]
        self.browser_js("/my/tickets/new", self.CHECK % json.dumps(selectors), login="giulia.bianchi@example.com")
