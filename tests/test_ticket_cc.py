"""Colleagues in CC of a ticket, from the portal (HTTP) and on the model."""

from odoo import Command, http
from odoo.exceptions import ValidationError
from odoo.tools import mute_logger

from .common import TerasoftHttpCase


class TestTicketCc(TerasoftHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.partner"].create(
            {"name": "Copia S.r.l.", "is_company": True, "email": "info@copia.example.com"}
        )
        cls.author = cls._portal_user("cc_author", cls.company, name="Autore Copia")
        # a colleague who sees only its own tickets
        cls.colleague = cls._portal_user("cc_colleague", cls.company, name="Collega Copia", ticket_scope="own")
        cls.no_login = cls.env["res.partner"].create(
            {"name": "Senza Accesso", "parent_id": cls.company.id, "email": "senza.accesso@copia.example.com"}
        )
        cls.no_email = cls.env["res.partner"].create({"name": "Senza Email", "parent_id": cls.company.id})
        cls.foreign = cls.luca.partner_id  # Beta
        cls.ticket = cls._ticket(cls.author.partner_id, name="Stampa F24 in copia")

    def _post(self, url, data):
        data = dict(data, csrf_token=http.Request.csrf_token(self))
        return self.url_open(url, data=data, allow_redirects=False)

    def _add(self, partner, ticket=None):
        return self._post(f"/my/tickets/{(ticket or self.ticket).id}/cc/add", {"partner_id": str(partner.id)})

    def _remove(self, partner, ticket=None):
        return self._post(f"/my/tickets/{(ticket or self.ticket).id}/cc/remove", {"partner_id": str(partner.id)})

    def _list_text(self):
        response = self.url_open("/my/tickets")
        self.assertEqual(response.status_code, 200)
        return response.text

    # ------------------------------------------------------------------ model
    def test_candidates_are_colleagues_with_an_email(self):
        candidates = self.ticket.sudo()._portal_cc_candidates()
        self.assertIn(self.colleague.partner_id, candidates)
        self.assertIn(self.no_login, candidates)
        for partner in (self.author.partner_id, self.company, self.no_email, self.foreign, self.support.partner_id):
            self.assertNotIn(partner, candidates)
        self.ticket.cc_partner_ids = self.no_login
        self.assertNotIn(self.no_login, self.ticket.sudo()._portal_cc_candidates())

    def test_foreign_contact_refused_by_the_model(self):
        with self.assertRaises(ValidationError):
            self.ticket.cc_partner_ids = [Command.link(self.foreign.id)]

    def test_cc_follows_with_the_customer_subtypes(self):
        self.ticket.cc_partner_ids = [Command.link(self.colleague.partner_id.id)]
        followers = self.ticket.message_follower_ids
        contact = followers.filtered(lambda f: f.partner_id == self.author.partner_id)
        colleague = followers.filtered(lambda f: f.partner_id == self.colleague.partner_id)
        self.assertTrue(colleague)
        self.assertEqual(colleague.subtype_ids, contact.subtype_ids)
        self.ticket.cc_partner_ids = [Command.unlink(self.colleague.partner_id.id)]
        self.assertNotIn(self.colleague.partner_id, self.ticket.message_partner_ids)

    # ------------------------------------------------------------------ portal
    def test_page_offers_only_the_server_list(self):
        self.authenticate("cc_author", "cc_author")
        page = self.url_open(f"/my/tickets/{self.ticket.id}").text
        self.assertIn("o_terasoft_cc_form", page)
        self.assertIn(f'value="{self.colleague.partner_id.id}"', page)
        self.assertIn(f'value="{self.no_login.id}"', page)
        self.assertNotIn(f'<option value="{self.no_email.id}"', page)
        self.assertNotIn(f'<option value="{self.foreign.id}"', page)

    def test_add_then_colleague_sees_and_is_notified_then_remove(self):
        # with "own tickets only", the colleague does not see the ticket
        self.authenticate("cc_colleague", "cc_colleague")
        self.assertEqual(self.url_open(f"/my/tickets/{self.ticket.id}").status_code, 404)
        self.assertNotIn("Stampa F24 in copia", self._list_text())

        self.authenticate("cc_author", "cc_author")
        response = self._add(self.colleague.partner_id)
        self.assertEqual(response.status_code, 303)
        self.assertIn(f"/my/tickets/{self.ticket.id}", response.headers["Location"])
        self.assertEqual(self.ticket.cc_partner_ids, self.colleague.partner_id)
        self.assertIn(self.colleague.partner_id, self.ticket.message_partner_ids)
        page = self.url_open(f"/my/tickets/{self.ticket.id}").text
        self.assertIn("Collega Copia", page)
        self.assertNotIn(f'<option value="{self.colleague.partner_id.id}"', page)  # no longer a candidate

        # in CC: the colleague sees it in the list and on its page
        self.authenticate("cc_colleague", "cc_colleague")
        self.assertIn("Stampa F24 in copia", self._list_text())
        self.assertEqual(self.url_open(f"/my/tickets/{self.ticket.id}").status_code, 200)

        # support asks a question: the colleague receives it by email, like the contact
        self.ticket.with_user(self.support).action_take_in_charge()
        self.ticket.with_user(self.support).action_ask_customer(message="<p>Quale versione usate?</p>")
        message = self.env["mail.message"].search(
            [("model", "=", "terasoft.ticket"), ("res_id", "=", self.ticket.id), ("body", "ilike", "Quale versione")],
            limit=1,
        )
        notified = message.notification_ids.filtered(lambda n: n.notification_type == "email").res_partner_id
        self.assertIn(self.colleague.partner_id, notified)
        self.assertIn(self.author.partner_id, notified)

        # removed: no longer sees it, no longer notified
        self.authenticate("cc_author", "cc_author")
        response = self._remove(self.colleague.partner_id)
        self.assertEqual(response.status_code, 303)
        self.assertFalse(self.ticket.cc_partner_ids)
        self.assertNotIn(self.colleague.partner_id, self.ticket.message_partner_ids)
        self.authenticate("cc_colleague", "cc_colleague")
        self.assertEqual(self.url_open(f"/my/tickets/{self.ticket.id}").status_code, 404)
        self.assertNotIn("Stampa F24 in copia", self._list_text())

    def test_colleague_in_cc_may_remove_itself(self):
        self.ticket.cc_partner_ids = self.colleague.partner_id
        self.authenticate("cc_colleague", "cc_colleague")
        response = self._remove(self.colleague.partner_id)
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith("/my/tickets"))
        self.assertFalse(self.ticket.cc_partner_ids)

    @mute_logger("odoo.http")
    def test_foreign_or_unknown_id_refused_nothing_changed(self):
        self.authenticate("cc_author", "cc_author")
        followers = self.ticket.message_partner_ids
        for partner_id in (self.foreign.id, self.no_email.id, self.company.id, self.support.partner_id.id, 0):
            response = self._post(f"/my/tickets/{self.ticket.id}/cc/add", {"partner_id": str(partner_id)})
            self.assertEqual(response.status_code, 404, partner_id)
        response = self._post(f"/my/tickets/{self.ticket.id}/cc/add", {"partner_id": "abc"})
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.ticket.cc_partner_ids)
        self.assertEqual(self.ticket.message_partner_ids, followers)
        # removing someone who is not in CC (the contact itself): refused too
        self.assertEqual(self._remove(self.author.partner_id).status_code, 404)
        self.assertIn(self.author.partner_id, self.ticket.message_partner_ids)

    @mute_logger("odoo.http")
    def test_other_company_cannot_touch_the_cc(self):
        self.ticket.cc_partner_ids = self.no_login
        self.authenticate("luca.verdi@example.com", "demo")
        self.assertEqual(self._add(self.colleague.partner_id).status_code, 404)
        self.assertEqual(self._remove(self.no_login).status_code, 404)
        self.assertEqual(self.ticket.cc_partner_ids, self.no_login)

    @mute_logger("odoo.http")
    def test_csrf_required(self):
        self.authenticate("cc_author", "cc_author")
        response = self.url_open(
            f"/my/tickets/{self.ticket.id}/cc/add",
            data={"partner_id": str(self.colleague.partner_id.id)},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.ticket.cc_partner_ids)

    def test_closed_ticket_offers_no_new_cc(self):
        ticket = self._ticket(self.author.partner_id, name="Chiuso in copia", state="closed")
        self.authenticate("cc_author", "cc_author")
        self.assertNotIn("o_terasoft_cc_form", self.url_open(f"/my/tickets/{ticket.id}").text)
        with mute_logger("odoo.http"):
            self.assertEqual(self._add(self.colleague.partner_id, ticket).status_code, 404)

    def test_visitor_with_the_link_sees_no_cc_box(self):
        self.ticket.cc_partner_ids = self.no_login
        self.ticket._portal_ensure_token()
        self.authenticate(None, None)
        page = self.url_open(f"/my/tickets/{self.ticket.id}?access_token={self.ticket.access_token}").text
        self.assertIn("Stampa F24 in copia", page)
        self.assertNotIn("o_terasoft_cc", page)

    def test_page_query_count_does_not_grow_with_the_cc(self):
        """The CC box costs the same with 1 or 4 colleagues in CC and 6 to choose from."""
        self.ticket.cc_partner_ids = self.no_login
        self.authenticate("cc_author", "cc_author")
        url = f"/my/tickets/{self.ticket.id}"
        self.url_open(url)  # warm the caches
        before = self.cr.sql_log_count
        self.assertEqual(self.url_open(url).status_code, 200)
        small = self.cr.sql_log_count - before
        colleagues = self.env["res.partner"].create(
            [
                {"name": f"Collega {i}", "parent_id": self.company.id, "email": f"c{i}@copia.example.com"}
                for i in range(8)
            ]
        )
        self.ticket.cc_partner_ids |= colleagues[:3]
        self.url_open(url)
        with self.assertQueryCount(small):
            page = self.url_open(url).text
        self.assertEqual(page.count("o_terasoft_cc_row"), 4)
