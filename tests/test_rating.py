"""Satisfaction rating of closed tickets (issue 11): Odoo's rating.mixin, one rating per closure,
"Com'è andata?" in the closing email and on the ticket page, unhappy -> one activity for the
support manager, the satisfaction report (run the HTTP part with --odoo-http)."""

import importlib.util
import re
from pathlib import Path

from odoo import http

from .common import TerasoftCase, TerasoftHttpCase

DEMO_PASSWORD = "demo"
RATE_LINK = re.compile(r"/rate/([0-9a-f]{32})/([135])\b")


class RatingMixin:
    @classmethod
    def _closed_ticket(cls, partner=None, how="autoclose", **vals):
        """A defect ticket of ``partner`` (default Giulia), resolved by support, then closed by
        the auto-close cron's move (the closing email) or by its contact ("customer")."""
        partner = partner or cls.giulia.partner_id
        ticket = cls._ticket(partner, ticket_type="defect", state="in_progress", user_id=cls.support.id, **vals)
        ticket.action_resolve(solution="<p>Corretto il calcolo dei ratei.</p>")
        cls._close(ticket, how)
        return ticket

    @classmethod
    def _close(cls, ticket, how="autoclose"):
        if how == "autoclose":
            ticket.sudo()._apply_move("autoclose")
        else:
            ticket.with_user(ticket.partner_id.user_ids[:1]).action_customer_close()

    def _ratings(self, tickets):
        return self.env["rating.rating"].search([("res_model", "=", "terasoft.ticket"), ("res_id", "in", tickets.ids)])

    def _closing_message(self, ticket):
        return self.env["mail.message"].search(
            [
                ("model", "=", "terasoft.ticket"),
                ("res_id", "=", ticket.id),
                ("subtype_id", "=", self.env.ref("terasoft_portal.mt_ticket_closed").id),
            ],
            order="id desc",
            limit=1,
        )

    def _unhappy_activities(self, ticket):
        """The activities of the ticket about an unhappy customer (the manager reads Italian)."""
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "terasoft.ticket"),
                ("res_id", "=", ticket.id),
                ("summary", "=", f"Cliente insoddisfatto: {ticket.number}"),
            ]
        )


class TestRatingModel(RatingMixin, TerasoftCase):
    def test_closing_email_asks_with_three_links(self):
        ticket = self._closed_ticket()
        rating = ticket._rating_closure()
        self.assertTrue(rating)
        self.assertFalse(rating.consumed)
        self.assertEqual(rating.partner_id, self.giulia.partner_id)
        self.assertEqual(rating.rated_partner_id, self.support.partner_id)
        message = self._closing_message(ticket)
        self.assertIn("Com'è andata?", message.body)  # Giulia reads Italian
        links = RATE_LINK.findall(message.body)
        self.assertEqual(links, [(rating.access_token, "5"), (rating.access_token, "3"), (rating.access_token, "1")])
        mail = self.env["mail.mail"].search([("mail_message_id", "=", message.id)])
        mail = mail.filtered(lambda m: self.giulia.partner_id in m.recipient_ids)
        self.assertEqual(len(mail), 1, "the closing email to Giulia is queued")
        self.assertEqual(len(RATE_LINK.findall(mail.body_html)), 3)

    def test_update_email_of_an_open_ticket_asks_nothing(self):
        ticket = self._ticket(self.giulia.partner_id, ticket_type="defect", state="in_progress")
        ticket.action_resolve(solution="<p>Fatto.</p>")
        self.assertFalse(self._ratings(ticket))
        message = self.env["mail.message"].search(
            [("model", "=", "terasoft.ticket"), ("res_id", "=", ticket.id), ("message_type", "=", "auto_comment")]
        )
        self.assertTrue(message)
        self.assertFalse(RATE_LINK.search("".join(message.mapped("body"))))

    def test_customer_close_opens_a_request_too(self):
        ticket = self._closed_ticket(how="customer")
        self.assertEqual(ticket.state, "closed")
        self.assertEqual(len(self._ratings(ticket)), 1)
        self.assertTrue(ticket._rating_closure().access_token)

    def test_ticket_without_contact_is_not_rated(self):
        ticket = self._ticket(self.env["res.partner"], ticket_type="defect", state="in_progress")
        ticket.action_resolve(solution="<p>Fatto.</p>")
        ticket.sudo()._apply_move("autoclose")
        self.assertFalse(self._ratings(ticket))
        self.assertEqual(ticket._rating_links(), [])

    def test_second_answer_updates_the_same_rating(self):
        ticket = self._closed_ticket()
        rating = ticket._rating_closure()
        ticket.sudo().rating_apply(3, rating=rating, feedback="Lento ma risolto")
        ticket.sudo().rating_apply(5, rating=rating, feedback="Anzi, ottimo")
        self.assertEqual(len(self._ratings(ticket)), 1)
        self.assertRecordValues(rating, [{"rating": 5, "feedback": "Anzi, ottimo", "consumed": True}])
        messages = self.env["mail.message"].search([("rating_ids", "in", rating.ids)])
        self.assertEqual(len(messages), 1, "the rating's message is updated, not duplicated")
        self.assertIn("Anzi, ottimo", messages.body)
        self.assertEqual(ticket.rating_count, 1)
        self.assertEqual(ticket.rating_last_value, 5)

    def test_reopened_ticket_is_rated_again_for_the_new_closure(self):
        ticket = self._closed_ticket()
        first = ticket._rating_closure()
        ticket.sudo().rating_apply(1, rating=first, feedback="Non funziona ancora")
        ticket.with_user(self.manager).action_reopen()
        self.assertFalse(ticket._rating_closure(), "an open ticket asks for no rating")
        ticket.with_user(self.support).action_start_progress(message="<p>Riprendo.</p>")
        ticket.with_user(self.support).action_resolve(solution="<p>Ora funziona.</p>")
        self._close(ticket)
        second = ticket._rating_closure()
        self.assertTrue(second)
        self.assertNotEqual(second, first)
        self.assertNotEqual(second.access_token, first.access_token)
        self.assertFalse(second.consumed)
        self.assertIn(second.access_token, self._closing_message(ticket).body)
        ticket.sudo().rating_apply(5, rating=second)
        self.assertEqual(self._ratings(ticket).mapped("rating"), [5, 1])  # newest first
        self.assertEqual(first.feedback, "Non funziona ancora", "the first closure keeps its rating")

    def test_reopen_drops_an_unanswered_request(self):
        ticket = self._closed_ticket()
        token = ticket._rating_closure().access_token
        ticket.with_user(self.manager).action_reopen()
        self.assertFalse(self.env["rating.rating"].search([("access_token", "=", token)]))

    def test_unhappy_creates_one_activity_for_the_manager(self):
        ticket = self._closed_ticket()
        rating = ticket._rating_closure()
        manager = ticket.company_id._ticket_manager()
        self.assertTrue(manager)
        ticket.sudo().rating_apply(1, rating=rating, feedback="Nessuno mi ha richiamato")
        ticket.sudo().rating_apply(1, rating=rating, feedback="Ripeto: nessuno mi ha richiamato")
        activities = self._unhappy_activities(ticket)
        self.assertEqual(len(activities), 1)
        self.assertEqual(activities.user_id, manager)
        self.assertIn("Nessuno mi ha richiamato", activities.note)
        self.assertEqual(ticket.state, "closed", "an unhappy rating reopens nothing")

    def test_happy_and_so_so_create_no_activity(self):
        ticket = self._closed_ticket()
        ticket.sudo().rating_apply(5, rating=ticket._rating_closure())
        other = self._closed_ticket()
        other.sudo().rating_apply(3, rating=other._rating_closure())
        self.assertFalse(self._unhappy_activities(ticket) | self._unhappy_activities(other))

    def test_rating_message_is_internal_and_not_a_customer_reply(self):
        ticket = self._closed_ticket()
        before = ticket.date_last_customer_message
        # as the rating route does it: sudo'ed, with the customer (or the public user) as env.user
        rating = (
            ticket.with_user(self.giulia).sudo().rating_apply(5, rating=ticket._rating_closure(), feedback="Grazie")
        )
        message = rating.message_id
        self.assertEqual(message.subtype_id, self.env.ref("terasoft_portal.mt_ticket_rating"))
        self.assertEqual(message.author_id, self.giulia.partner_id)
        self.assertNotIn(message, ticket._portal_public_messages(), "the comments of the portal don't show it")
        self.assertEqual(ticket.date_last_customer_message, before)
        self.assertEqual(ticket.state, "closed")

    def test_backend_form_shows_the_rating(self):
        ticket = self._closed_ticket()
        ticket.sudo().rating_apply(5, rating=ticket._rating_closure(), feedback="Ottimo")
        ticket = ticket.with_user(self.support)
        self.assertEqual(ticket.rating_last_text, "top")
        self.assertEqual(ticket.rating_last_feedback, "Ottimo")
        arch = ticket.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("action_view_ratings", arch)
        action = ticket.action_view_ratings()
        ratings = self.env["rating.rating"].with_user(self.support).search(action["domain"])
        self.assertEqual(ratings.mapped("feedback"), ["Ottimo"])

    def test_portal_user_cannot_read_ratings(self):
        ticket = self._closed_ticket()
        ticket.sudo().rating_apply(5, rating=ticket._rating_closure())
        self.assertFalse(self.env["rating.rating"].with_user(self.giulia).has_access("read"))
        self.assertFalse(self.env["terasoft.ticket.rating.report"].with_user(self.giulia).has_access("read"))
        self.assertFalse(self.env["terasoft.ticket.rating.report"].with_user(self.support).has_access("read"))

    def test_report_by_category_agent_month(self):
        paghe = self._closed_ticket()
        paghe.sudo().rating_apply(5, rating=paghe._rating_closure())
        paghe2 = self._closed_ticket()
        paghe2.sudo().rating_apply(1, rating=paghe2._rating_closure())
        presenze = self._closed_ticket(category_id=self.cat_presenze.id)
        presenze.sudo().rating_apply(3, rating=presenze._rating_closure())
        self._closed_ticket()  # not rated: not in the report
        Report = self.env["terasoft.ticket.rating.report"].with_user(self.manager)
        domain = [("ticket_id", "in", (paghe | paghe2 | presenze).ids)]
        groups = Report._read_group(
            domain,
            ["category_id", "user_id", "rated_on:month"],
            ["__count", "happy_count:sum", "neutral_count:sum", "unhappy_count:sum", "satisfaction:avg"],
        )
        by_category = {category: rest for category, _user, _month, *rest in groups}
        self.assertEqual(by_category[self.cat_paghe], [2, 1, 0, 1, 50.0])
        self.assertEqual(by_category[self.cat_presenze], [1, 0, 1, 0, 0.0])
        self.assertEqual({user for _c, user, *_rest in groups}, {self.support})
        self.assertEqual(len({month for _c, _u, month, *_rest in groups}), 1)

    def test_report_query_count_is_flat(self):
        """Grouping the report costs the same queries for 3 or 30 rated tickets."""
        Report = self.env["terasoft.ticket.rating.report"].with_user(self.manager)
        groupby = ["category_id", "user_id", "rated_on:month"]
        aggregates = ["__count", "happy_count:sum", "unhappy_count:sum", "satisfaction:avg"]

        def rate(count):
            for index in range(count):
                ticket = self._closed_ticket(category_id=(self.cat_paghe, self.cat_presenze)[index % 2].id)
                ticket.sudo().rating_apply((5, 3, 1)[index % 3], rating=ticket._rating_closure())
            self.env.flush_all()
            self.env.invalidate_all()

        def queries():
            start = self.env.cr.sql_log_count
            Report.formatted_read_group([], groupby, aggregates)
            return self.env.cr.sql_log_count - start

        rate(3)
        small = queries()
        rate(27)
        with self.assertQueryCount(small):
            Report.formatted_read_group([], groupby, aggregates)

    def test_rating_requests_of_a_batch_cost_flat_queries(self):
        """The auto-close closes tickets in batches: opening their rating requests costs the
        same queries for 3 or 20 tickets (one search, one create)."""

        def queries(count):
            tickets = self.Ticket.browse()
            for _index in range(count):
                tickets |= self._closed_ticket()
            self.env.flush_all()
            self.env.invalidate_all()
            tickets = self.Ticket.browse(tickets.ids)
            start = self.env.cr.sql_log_count
            tickets._rating_open_requests()
            self.env.flush_all()
            self.assertEqual(len(self._ratings(tickets[0])), 1, "the earlier request was replaced")
            return self.env.cr.sql_log_count - start

        self.assertEqual(queries(3), queries(20))


class TestRatingHttp(RatingMixin, TerasoftHttpCase):
    def _login(self, user):
        self.authenticate(user.login, DEMO_PASSWORD if "@" in user.login else user.login)

    def _csrf(self):
        if self.session is None:
            self.authenticate(None, None)
        return http.Request.csrf_token(self)

    def _submit(self, token, rate, feedback=""):
        return self.url_open(
            f"/rate/{token}/submit_feedback",
            data={"rate": rate, "feedback": feedback, "csrf_token": self._csrf()},
            allow_redirects=False,
        )

    def test_email_link_opens_the_question_without_login(self):
        ticket = self._closed_ticket(name="Cedolino di marzo")
        path = "/rate/%s/%s" % RATE_LINK.search(self._closing_message(ticket).body).groups()
        response = self.url_open(path)
        self.assertEqual(response.status_code, 200)
        self.assertIn("Com&#39;è andata?", response.text.replace("'", "&#39;"))
        self.assertRegex(response.text, r'id="rate_5"[^>]*checked')
        self.assertIn("Content-Security-Policy", response.headers, "our CSP covers the rating pages")
        self.assertEqual(response.headers.get("Cache-Control"), "no-store")
        self.assertFalse(ticket._rating_closure().consumed, "opening the link (a mail scanner too) rates nothing")

    def test_submit_rates_and_second_submit_updates(self):
        ticket = self._closed_ticket()
        rating = ticket._rating_closure()
        response = self._submit(rating.access_token, 1, "Ci avete messo una settimana")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Grazie per il tuo giudizio!", response.text)
        self.assertIn("Ci avete messo una settimana", response.text)
        self.assertRecordValues(rating, [{"rating": 1, "feedback": "Ci avete messo una settimana", "consumed": True}])
        response = self._submit(rating.access_token, 3, "Ci avete messo una settimana, ma risolto")
        self.assertEqual(response.status_code, 200)
        rating.invalidate_recordset()
        self.assertEqual(len(self._ratings(ticket)), 1)
        self.assertRecordValues(rating, [{"rating": 3, "feedback": "Ci avete messo una settimana, ma risolto"}])
        self.assertEqual(len(self._unhappy_activities(ticket)), 1, "the first (unhappy) answer made one")
        self.assertEqual(len(self.env["mail.message"].search([("rating_ids", "in", rating.ids)])), 1)

    def test_unknown_token_or_value_is_404_and_shows_nothing(self):
        ticket = self._closed_ticket(name="Segreto industriale")
        token = ticket._rating_closure().access_token
        for path in (f"/rate/{'0' * 32}/5", f"/rate/{token}/4", f"/rate/{'0' * 32}/submit_feedback"):
            response = self.url_open(path)
            self.assertEqual(response.status_code, 404, path)
            self.assertNotIn("Segreto industriale", response.text)
        response = self._submit(token, 4)
        self.assertEqual(response.status_code, 404)
        self.assertFalse(ticket._rating_closure().consumed)

    def test_other_company_user_gets_404(self):
        ticket = self._closed_ticket(name="Segreto industriale")
        token = ticket._rating_closure().access_token
        self._login(self.luca)  # Beta
        for path in (f"/rate/{token}/5", f"/my/tickets/{ticket.id}"):
            response = self.url_open(path)
            self.assertEqual(response.status_code, 404, path)
            self.assertNotIn("Segreto industriale", response.text)
        response = self._submit(token, 1)
        self.assertEqual(response.status_code, 404)
        self.assertFalse(ticket._rating_closure().consumed)

    def test_ticket_page_asks_then_shows_the_rating(self):
        ticket = self._closed_ticket()
        rating = ticket._rating_closure()
        self._login(self.giulia)
        page = self.url_open(f"/my/tickets/{ticket.id}").text
        self.assertIn("Com&#39;è andata?", page.replace("'", "&#39;"))
        for value in (5, 3, 1):
            self.assertIn(f"/rate/{rating.access_token}/{value}", page)
        self._submit(rating.access_token, 5, "Gentilissimi")
        page = self.url_open(f"/my/tickets/{ticket.id}").text
        self.assertIn("Il tuo giudizio:", page)
        self.assertIn("Soddisfatto", page)
        self.assertIn("Gentilissimi", page)

    def test_colleague_sees_neither_question_nor_rating(self):
        ticket = self._closed_ticket()
        ticket.sudo().rating_apply(1, rating=ticket._rating_closure(), feedback="Commento di Giulia")
        colleague = self._portal_user("collega_rating", self.alfa, ticket_scope="company")
        self._login(colleague)
        response = self.url_open(f"/my/tickets/{ticket.id}")
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("o_terasoft_rating", response.text)
        self.assertNotIn("Commento di Giulia", response.text)
        self.assertNotIn(ticket._rating_closure().access_token, response.text)

    def test_no_rating_through_the_chatter_routes(self):
        """rating's mail.thread accepts ``rating_value`` on every post: not on tickets, where a
        customer could otherwise add ratings at will (the report) without a closure."""
        ticket = self._closed_ticket()
        self._login(self.giulia)
        self.make_jsonrpc_request(
            "/mail/message/post",
            {
                "thread_model": "terasoft.ticket",
                "thread_id": ticket.id,
                "post_data": {"body": "Pessimo", "message_type": "comment", "rating_value": 1},
            },
        )
        ticket.with_user(self.giulia).message_post(body="Pessimo", message_type="comment", rating_value=1)
        self.assertEqual(len(self._ratings(ticket)), 1, "only the closure's request")
        self.assertFalse(self._ratings(ticket).consumed)

    def test_open_ticket_page_has_no_rating(self):
        ticket = self._ticket(self.giulia.partner_id, ticket_type="defect", state="in_progress")
        self._login(self.giulia)
        page = self.url_open(f"/my/tickets/{ticket.id}").text
        self.assertNotIn("/rate/", page)


RATING_BLOCK = r'<t t-if="object.state == \'closed\'" t-call="terasoft_portal.ticket_rating_email"/>\s*'


class TestRatingUpgrade(TerasoftCase):
    """A database made before the rating: its noupdate closing email gains the rating block on
    upgrade (migrations/19.0.1.1.0), in every language, once, and the admins' wording stays."""

    def _migration(self):
        path = Path(__file__).parents[1] / "terasoft_portal" / "migrations" / "19.0.1.1.0" / "post-migrate.py"
        spec = importlib.util.spec_from_file_location("terasoft_rating_migration", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def test_upgrade_adds_the_rating_block_to_the_closing_email(self):
        template = self.env.ref("terasoft_portal.mail_template_ticket_update")
        self.env["res.lang"]._activate_lang("it_IT")
        old = {}
        for lang in ("en_US", "it_IT"):
            body = template.with_context(lang=lang).body_html
            self.assertIn("ticket_rating_email", body)
            old[lang] = re.sub(RATING_BLOCK, "", body)
            self.assertNotIn("ticket_rating_email", old[lang])
        old["it_IT"] = old["it_IT"].replace("Vedi", "Apri")  # an admin's own wording
        for lang, body in old.items():
            template.with_context(lang=lang).body_html = body
        self.env.flush_all()

        migration = self._migration()
        self.assertTrue(migration.add_rating_block(self.env.cr))
        self.assertFalse(migration.add_rating_block(self.env.cr), "a second upgrade adds nothing")
        template.invalidate_recordset()
        for lang in ("en_US", "it_IT"):
            body = template.with_context(lang=lang).body_html
            self.assertEqual(body.count("ticket_rating_email"), 1)
        self.assertIn("Apri", template.with_context(lang="it_IT").body_html)

        ticket = self._ticket(self.giulia.partner_id, ticket_type="defect", state="in_progress")
        ticket.action_resolve(solution="<p>Fatto</p>")
        ticket.sudo()._apply_move("autoclose")
        mail = self.env["mail.mail"].search(
            [("model", "=", "terasoft.ticket"), ("res_id", "=", ticket.id), ("body_html", "like", "/rate/")]
        )
        self.assertTrue(mail, "the closing email asks for the rating again")
