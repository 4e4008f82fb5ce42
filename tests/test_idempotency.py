"""Replay-safe portal forms: a form sent twice with the same idempotency_key creates once and
answers the first result (terasoft.idempotency.key)."""

import re
import threading
import time
import uuid
from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.service.model import retrying

from .common import TerasoftCase
from .test_portal_routes import PNG_1PX, PortalCase

KEY_INPUT_RE = re.compile(r'name="idempotency_key" value="([0-9a-f-]{36})"')


class TestIdempotentForms(PortalCase):
    def _form(self, name, key=None):
        form = {
            "name": name,
            "priority": "1",
            "importance": "non_blocking",
            "ticket_type": "clarification",
            "category_id": str(self.cat_paghe.id),
            "description": "Il totale non torna.",
        }
        if key:
            form["idempotency_key"] = key
        return form

    def _keys(self, url):
        return KEY_INPUT_RE.findall(self.url_open(url).text)

    def test_forms_carry_a_fresh_key(self):
        self._login(self.giulia)
        first, second = self._keys("/my/tickets/new"), self._keys("/my/tickets/new")
        self.assertEqual(len(first), 1)
        self.assertNotEqual(first, second)  # made for each rendering
        ticket = self._ticket(self.giulia.partner_id, name="Con commento")
        # comment and close forms (the plan form only shows on planned tickets)
        self.assertGreaterEqual(len(self._keys(f"/my/tickets/{ticket.id}")), 2)
        self.assertEqual(len(self._keys("/my/company")), 1)
        self.assertEqual(len(self._keys("/my/account")), 1)  # Odoo's address form (may create a contact)
        self.authenticate(None, None)
        self.assertEqual(len(self._keys("/access/request")), 1)
        self.assertEqual(len(self._keys("/web/reset_password")), 1)

    def test_new_ticket_sent_twice_creates_one(self):
        self._login(self.giulia)
        key = str(uuid.uuid4())
        name = f"Doppio clic {key[:8]}"
        files = [("attachments", ("cedolino.png", PNG_1PX, "image/png"))]
        first = self._post("/my/tickets/new", self._form(name, key), files=files)
        second = self._post("/my/tickets/new", self._form(name, key), files=files)
        self.assertEqual(first.status_code, 303)
        self.assertEqual(second.status_code, 303)
        self.assertEqual(second.headers["Location"], first.headers["Location"])
        tickets = self.Ticket.search([("name", "=", name)])
        self.assertEqual(len(tickets), 1)
        self.assertTrue(first.headers["Location"].endswith(f"/my/tickets/{tickets.id}"))
        attachments = self.env["ir.attachment"].search(
            [("res_model", "=", "terasoft.ticket"), ("res_id", "=", tickets.id)]
        )
        self.assertEqual(len(attachments), 1)

    def test_new_ticket_without_key_is_not_protected(self):
        self._login(self.giulia)
        name = f"Senza chiave {uuid.uuid4().hex[:8]}"
        for _ in range(2):
            self.assertEqual(self._post("/my/tickets/new", self._form(name)).status_code, 303)
        self.assertEqual(self.Ticket.search_count([("name", "=", name)]), 2)

    def test_malformed_key_is_ignored(self):
        self._login(self.giulia)
        name = f"Chiave strana {uuid.uuid4().hex[:8]}"
        for _ in range(2):
            self.assertEqual(self._post("/my/tickets/new", self._form(name, "x'; --")).status_code, 303)
        self.assertEqual(self.Ticket.search_count([("name", "=", name)]), 2)

    def test_same_key_of_another_user_is_independent(self):
        key = str(uuid.uuid4())
        self._login(self.giulia)
        alfa = self._post("/my/tickets/new", self._form("Ticket di Giulia", key))
        self._login(self.luca)
        beta = self._post("/my/tickets/new", self._form("Ticket di Luca", key))
        self.assertEqual(beta.status_code, 303)
        self.assertNotEqual(beta.headers["Location"], alfa.headers["Location"])  # nothing of Giulia's
        luca_ticket = self.Ticket.search([("name", "=", "Ticket di Luca")])
        self.assertEqual(len(luca_ticket), 1)
        self.assertEqual(luca_ticket.partner_id, self.luca.partner_id)

    def test_form_with_errors_keeps_its_key_and_creates_later(self):
        self._login(self.giulia)
        key = str(uuid.uuid4())
        response = self._post("/my/tickets/new", dict(self._form("", key)))
        self.assertEqual(response.status_code, 200)  # the form again, with its errors
        self.assertIn(f'value="{key}"', response.text)
        name = f"Corretto {key[:8]}"
        self.assertEqual(self._post("/my/tickets/new", self._form(name, key)).status_code, 303)
        self.assertEqual(self.Ticket.search_count([("name", "=", name)]), 1)

    def test_comment_sent_twice_posts_one(self):
        ticket = self._ticket(self.giulia.partner_id, name="Commenti")
        self._login(self.giulia)
        key = str(uuid.uuid4())
        data = {"comment": f"Commento {key}", "idempotency_key": key}
        first = self._post(f"/my/tickets/{ticket.id}/comment", data)
        second = self._post(f"/my/tickets/{ticket.id}/comment", data)
        self.assertEqual(first.status_code, 303)
        self.assertEqual(second.headers["Location"], first.headers["Location"])
        bodies = ticket.sudo()._portal_public_messages().mapped("body")
        self.assertEqual(sum(f"Commento {key}" in (body or "") for body in bodies), 1)
        # a new key is a new comment
        data["idempotency_key"] = str(uuid.uuid4())
        self._post(f"/my/tickets/{ticket.id}/comment", data)
        bodies = ticket.sudo()._portal_public_messages().mapped("body")
        self.assertEqual(sum(f"Commento {key}" in (body or "") for body in bodies), 2)

    def test_refused_comment_is_not_remembered(self):
        ticket = self._ticket(self.giulia.partner_id, name="Commento vuoto")
        self._login(self.giulia)
        key = str(uuid.uuid4())
        before = len(ticket.sudo()._portal_public_messages())
        refused = self._post(f"/my/tickets/{ticket.id}/comment", {"comment": "", "idempotency_key": key})
        self.assertTrue(refused.headers["Location"].endswith("#add_comment"))
        self._post(f"/my/tickets/{ticket.id}/comment", {"comment": "Ora sì", "idempotency_key": key})
        self.assertEqual(len(ticket.sudo()._portal_public_messages()), before + 1)

    def test_comment_key_on_another_ticket_is_404_first(self):
        ticket = self._ticket(self.giulia.partner_id, name="Mio")
        self._login(self.giulia)
        key = str(uuid.uuid4())
        self._post(f"/my/tickets/{ticket.id}/comment", {"comment": "Uno", "idempotency_key": key})
        # the key does not open another company's ticket
        other = self._post(f"/my/tickets/{self.beta_ticket.id}/comment", {"comment": "Due", "idempotency_key": key})
        self.assertEqual(other.status_code, 404)

    def test_close_sent_twice_answers_the_first_redirect(self):
        ticket = self._ticket(self.giulia.partner_id, name="Da chiudere")
        self._login(self.giulia)
        key = str(uuid.uuid4())
        first = self._post(f"/my/tickets/{ticket.id}/close", {"idempotency_key": key})
        self.assertEqual(first.status_code, 303)
        self.assertTrue(ticket.is_done)
        messages = len(ticket.sudo().message_ids)
        second = self._post(f"/my/tickets/{ticket.id}/close", {"idempotency_key": key})
        self.assertEqual(second.status_code, 303)  # not the page with "already closed"
        self.assertEqual(second.headers["Location"], first.headers["Location"])
        self.assertEqual(len(ticket.sudo().message_ids), messages)

    def test_plan_answer_sent_twice_posts_one(self):
        planned = self._ticket(
            self.giulia.partner_id,
            name="Pianificato",
            state="planned",
            ticket_type="defect",
            planned_date=fields.Datetime.now() + timedelta(days=2),
        )
        self._login(self.giulia)
        key = str(uuid.uuid4())
        data = {"answer": "propose", "message": "Meglio giovedì", "idempotency_key": key}
        first = self._post(f"/my/tickets/{planned.id}/plan", data)
        count = len(planned.sudo()._portal_public_messages())
        second = self._post(f"/my/tickets/{planned.id}/plan", data)
        self.assertEqual(second.headers["Location"], first.headers["Location"])
        self.assertEqual(len(planned.sudo()._portal_public_messages()), count)

    def test_change_request_sent_twice_creates_one_activity(self):
        self._login(self.giulia)
        key = str(uuid.uuid4())
        data = {"partner_id": self.alfa.id, "message": "Nuovo telefono: 02 999 888", "idempotency_key": key}
        Activity = self.env["mail.activity"]
        domain = [("res_model", "=", "res.partner"), ("res_id", "=", self.alfa.id)]
        before = Activity.search_count(domain)
        first = self._post("/my/change_request", data)
        second = self._post("/my/change_request", data)
        self.assertEqual(second.headers["Location"], first.headers["Location"])
        self.assertEqual(Activity.search_count(domain), before + 1)

    def test_access_request_sent_twice_creates_one(self):
        self.authenticate(None, None)
        key = str(uuid.uuid4())
        email = f"nadia.{key[:8]}@example.com"
        data = {
            "first_name": "Nadia",
            "last_name": "Longo",
            "email": email,
            "company_name": "Alfa Paghe S.r.l.",
            "ip_addresses": "127.0.0.1",
            "idempotency_key": key,
        }
        first = self._post("/access/request", data)
        second = self._post("/access/request", data)
        self.assertEqual(first.status_code, 200)
        self.assertEqual(second.status_code, 200)
        self.assertIn("o_terasoft_access_request_done", first.text)
        self.assertIn("o_terasoft_access_request_done", second.text)
        request = self.env["terasoft.access.request"].sudo().search([("email", "=", email)])
        self.assertEqual(len(request), 1)
        # not even the "sent again" note a second request without key leaves
        self.assertEqual(len(request.message_ids.filtered(lambda m: "again" in (m.body or ""))), 0)

    def test_password_reset_sent_twice_queues_one(self):
        Requests = self.env["terasoft.password.reset.request"].sudo()
        self.authenticate(None, None)
        key = str(uuid.uuid4())
        login = f"nessuno.{key[:8]}@example.com"
        for _ in range(2):
            response = self._post("/web/reset_password", {"login": login, "idempotency_key": key})
            self.assertEqual(response.status_code, 200)
        self.assertEqual(Requests.search_count([("login", "=", login)]), 1)
        self._post("/web/reset_password", {"login": login})  # without key: queued again
        self.assertEqual(Requests.search_count([("login", "=", login)]), 2)

    def test_key_costs_two_queries(self):
        """A protected creation costs one SELECT (lookup) and one INSERT more than without key;
        a replay only the lookup."""
        self._login(self.giulia)
        self._post("/my/tickets/new", self._form("Riscaldamento"))  # warm the caches
        before = self.cr.sql_log_count
        self._post("/my/tickets/new", self._form("Senza chiave"))
        plain = self.cr.sql_log_count - before
        self._post("/my/tickets/new", self._form("Riscaldamento", str(uuid.uuid4())))
        key = str(uuid.uuid4())
        before = self.cr.sql_log_count
        self._post("/my/tickets/new", self._form("Con chiave", key))
        keyed = self.cr.sql_log_count - before
        self.assertLessEqual(keyed, plain + 2)
        before = self.cr.sql_log_count
        self._post("/my/tickets/new", self._form("Con chiave", key))
        self.assertLess(self.cr.sql_log_count - before, plain / 2)  # a replay creates nothing


class TestIdempotencyKeys(TerasoftCase):
    def test_lookup_and_store_are_one_query_each(self):
        Keys = self.env["terasoft.idempotency.key"]
        key = str(uuid.uuid4())
        with self.assertQueryCount(1):
            self.assertIsNone(Keys._replay("user:1", key))
        with self.assertQueryCount(1):
            Keys._remember("user:1", key, url="/my/tickets/1")
        self.assertEqual(Keys._replay("user:1", key), {"url": "/my/tickets/1", "json": None})
        self.assertIsNone(Keys._replay("user:2", key))
        Keys._remember("public", key, json={"template": "x"})
        self.assertEqual(Keys._replay("public", key)["json"], {"template": "x"})

    def test_purge_cron_deletes_old_keys(self):
        Keys = self.env["terasoft.idempotency.key"]
        old, recent = str(uuid.uuid4()), str(uuid.uuid4())
        Keys._remember("user:1", old, url="/old")
        Keys._remember("user:1", recent, url="/recent")
        self.env.cr.execute(
            "UPDATE terasoft_idempotency_key SET create_date = %s WHERE key = %s",
            (fields.Datetime.now() - timedelta(days=3), old),
        )
        cron = self.env.ref("terasoft_portal.ir_cron_idempotency_purge")
        self.assertEqual(cron.code, "model._cron_purge()")
        Keys._cron_purge()
        self.assertIsNone(Keys._replay("user:1", old))
        self.assertTrue(Keys._replay("user:1", recent))

    def test_concurrent_duplicates_create_once(self):
        """Two transactions with the same key at the same time, each creating a record: the
        second one's INSERT waits for the first, fails once it commits, and Odoo's retry
        (the one every HTTP request runs in) answers the first result."""
        registry = self.env.registry
        key, marker = str(uuid.uuid4()), f"idem-{uuid.uuid4().hex[:8]}@example.com"
        scope = "user:1"
        first_stored = threading.Event()
        results, attempts, errors = {}, {"a": 0, "b": 0}, []

        def submit(name, wait_before=None, hold=0.0):
            try:
                if wait_before:
                    wait_before.wait(20)
                with registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})

                    def attempt():
                        attempts[name] += 1
                        Keys = env["terasoft.idempotency.key"]
                        found = Keys._replay(scope, key)
                        if found:
                            return ("replayed", found["url"])
                        record = env["terasoft.password.reset.request"].create({"login": marker})
                        Keys._remember(scope, key, url=f"/done/{record.id}")
                        if name == "a":
                            first_stored.set()
                            time.sleep(hold)  # the other one now waits on the unique index
                        return ("created", f"/done/{record.id}")

                    results[name] = retrying(attempt, env)
            except Exception as exc:  # noqa: BLE001 - reported by the test
                errors.append(repr(exc))

        threads = [
            threading.Thread(target=submit, args=("a", None, 1.5)),
            threading.Thread(target=submit, args=("b", first_stored)),
        ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            self.assertFalse(errors)
            self.assertEqual(results["a"][0], "created")
            self.assertEqual(results["b"], ("replayed", results["a"][1]))
            self.assertEqual(attempts["b"], 2)  # waited, failed, served again
            with registry.cursor() as cr:
                cr.execute("SELECT count(*) FROM terasoft_password_reset_request WHERE login = %s", (marker,))
                self.assertEqual(cr.fetchone()[0], 1)
        finally:
            with registry.cursor() as cr:
                cr.execute("DELETE FROM terasoft_password_reset_request WHERE login = %s", (marker,))
                cr.execute("DELETE FROM terasoft_idempotency_key WHERE key = %s", (key,))


class TestSubmitOnceInBrowser(PortalCase):
    def test_double_click_sends_once(self):
        self.start_tour("/my/tickets/new", "terasoft_portal_submit_once_tour", login="giulia.bianchi@example.com")
        self.assertEqual(self.Ticket.search_count([("name", "=", "Doppio clic nel browser")]), 1)


class TestIdempotentAddress(PortalCase):
    def test_new_address_sent_twice_creates_one_contact(self):
        """Odoo's address form (/my/address/submit without partner_id) creates a contact."""
        self._login(self.giulia)
        key = str(uuid.uuid4())
        name = f"Magazzino {key[:8]}"
        form = {
            "name": name,
            "email": "magazzino@example.com",
            "phone": "02 1234",
            "street": "Via Roma 1",
            "city": "Milano",
            "zip": "20100",
            "country_id": str(self.env.ref("base.it").id),
            "state_id": str(self.env["res.country.state"].search([("country_id.code", "=", "IT")], limit=1).id),
            "address_type": "delivery",
            "callback": "/my",
            "required_fields": "name",
            "idempotency_key": key,
        }
        first = self._post("/my/address/submit", form)
        created = self.env["res.partner"].sudo().search([("name", "=", name)])
        second = self._post("/my/address/submit", form)
        self.assertIn("redirectUrl", first.text)
        self.assertEqual(second.json(), first.json())
        self.assertEqual(self.env["res.partner"].sudo().search([("name", "=", name)]), created)
