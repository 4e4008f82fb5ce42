"""Canned replies of the support team (Odoo's mail.canned.response, "::" in the chatter)."""

import json

from odoo.exceptions import AccessError
from odoo.tests import new_test_user
from odoo.tools import mute_logger

from .common import TerasoftCase, TerasoftHttpCase

CANNED = {
    "mail_canned_response_version_demo": "versione",
    "mail_canned_response_screenshot_demo": "screenshot",
    "mail_canned_response_remote_demo": "remoto",
    "mail_canned_response_details_demo": "dettagli",
    "mail_canned_response_solved_demo": "risolto",
}


class TestCannedResponses(TerasoftCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.canned = cls.env["mail.canned.response"].browse(
            [cls.env.ref(f"terasoft_portal.{xmlid}").id for xmlid in CANNED]
        )

    def test_demo_canned_replies_are_italian_and_shared_with_support(self):
        self.assertEqual(self.canned.mapped("source"), list(CANNED.values()))
        support_group = self.env.ref("terasoft_portal.group_terasoft_portal_user")
        for canned in self.canned:
            self.assertEqual(canned.group_ids, support_group)
            self.assertTrue(canned.is_shared)
        self.assertIn("versione", self.canned[0].substitution)
        self.assertIn("schermata", self.canned[1].substitution)
        self.assertIn("assistenza remota", self.canned[2].substitution)

    def test_support_user_reads_them(self):
        for user in (self.support, self.manager):
            with self.subTest(user=user.login):
                found = (
                    self.env["mail.canned.response"].with_user(user).search([("source", "in", list(CANNED.values()))])
                )
                self.assertEqual(found, self.canned)
                self.assertTrue(all(found.mapped("substitution")))

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_other_users_do_not(self):
        employee = new_test_user(self.env, "plain.employee", groups="base.group_user")
        self.assertFalse(self.env["mail.canned.response"].with_user(employee).search([("id", "in", self.canned.ids)]))
        with self.assertRaises(AccessError):
            self.env["mail.canned.response"].with_user(self.giulia).search([])
        with self.assertRaises(AccessError):
            self.canned.with_user(self.giulia).read(["substitution"])

    @mute_logger("odoo.addons.base.models.ir_rule")
    def test_support_user_cannot_change_the_shared_ones(self):
        with self.assertRaises(AccessError):
            self.canned[0].with_user(self.support).write({"substitution": "Altro"})
        own = self.env["mail.canned.response"].with_user(self.support).create({"source": "mia", "substitution": "Mia"})
        own.write({"substitution": "Mia risposta"})  # their own ones they manage


class TestCannedResponsesHttp(TerasoftHttpCase):
    def test_composer_gets_them_for_a_support_user(self):
        """What the chatter's composer fetches before offering "::" suggestions."""
        self.authenticate(self.support.login, "demo")
        data = self.make_jsonrpc_request("/mail/data", {"fetch_params": ["mail.canned.response"]})
        sources = {canned["source"] for canned in data.get("mail.canned.response", [])}
        self.assertLessEqual(set(CANNED.values()), sources)
        self.authenticate(self.giulia.login, "demo")
        data = self.make_jsonrpc_request("/mail/data", {"fetch_params": ["mail.canned.response"]})
        self.assertNotIn("versione", json.dumps(data))
