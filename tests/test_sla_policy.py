"""SLA policies and the per-target rows (take in charge, resolution): matching and precedence,
pausing in working hours, statuses, the breach scan, re-evaluation, portal and access.

Support calendar: Mon-Fri 9-13 14-18, Europe/Rome (UTC+1 in November/December)."""

from datetime import datetime

from odoo.exceptions import AccessError

from .common import TerasoftCase, TerasoftHttpCase, frozen, patch_cron_commit


class SlaPolicyMixin:
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Policy = cls.env["terasoft.sla.policy"]
        cls.Sla = cls.env["terasoft.ticket.sla"]
        cls.env.company.ticket_manager_id = cls.manager
        # demo policies apply to Beta and to blocking defects: tests below use Alfa (Giulia)
        cls.policy_paghe = cls.Policy.create(
            {
                "name": "Paghe",
                "sequence": 5,
                "category_ids": [cls.cat_paghe.id],
                "first_response_from_settings": True,
                "resolution_hours": 16,
            }
        )

    @classmethod
    def _created_at(cls, moment, **vals):
        with frozen(cls.env, moment):
            ticket = cls._ticket(vals.pop("partner", cls.giulia.partner_id), **vals)
            ticket.flush_recordset()
            return ticket

    def _row(self, ticket, target="resolution"):
        return ticket.sla_ids.filtered(lambda row: row.target == target)

    def _move(self, moment, method, *args, **kwargs):
        with frozen(self.env, moment):
            for ticket, name in method:
                getattr(ticket, name)(*args, **kwargs)
            self.env.flush_all()


class TestSlaPolicyMatching(SlaPolicyMixin, TerasoftCase):
    def test_default_policy_keeps_todays_rule(self):
        ticket = self._created_at("2026-11-24 08:00:00", category_id=self.cat_presenze.id)
        default = self.env.ref("terasoft_portal.sla_policy_default")
        self.assertEqual(ticket.sla_ids.policy_id, default)
        self.assertEqual(ticket.sla_ids.target, "first_response", "the default policy has no resolution target")
        self.assertEqual(ticket.sla_ids.deadline, datetime(2026, 11, 24, 17, 0))  # 8 working hours
        self.assertEqual(ticket.sla_ids.deadline, ticket.sla_deadline)

    def test_most_specific_policy_wins_then_sequence(self):
        urgent_paghe = self.Policy.create(
            {
                "name": "Paghe urgenti",
                "sequence": 50,  # a worse sequence, but more specific: it wins
                "category_ids": [self.cat_paghe.id],
                "priority": "2",
                "first_response_hours": 2,
                "resolution_hours": 8,
            }
        )
        normal = self._created_at("2026-11-24 08:00:00")
        urgent = self._created_at("2026-11-24 08:00:00", priority="2")
        self.assertEqual(self._row(normal).policy_id, self.policy_paghe)
        self.assertEqual(self._row(urgent).policy_id, urgent_paghe)
        self.assertEqual(urgent.sla_deadline, datetime(2026, 11, 24, 10, 0))  # 2 working hours: 11:00 Rome
        self.assertEqual(self._row(urgent, "first_response").deadline, urgent.sla_deadline)
        self.assertEqual(self._row(urgent).deadline, datetime(2026, 11, 24, 17, 0))  # 8 h: 18:00 Rome
        self.assertEqual(self._row(normal).deadline, datetime(2026, 11, 25, 17, 0))  # 16 h: Wednesday 18:00
        # equally specific: the lower sequence wins
        same = self.Policy.create(
            {"name": "Paghe bis", "sequence": 1, "category_ids": [self.cat_paghe.id], "resolution_hours": 24}
        )
        self.assertEqual(self._row(self._created_at("2026-11-24 08:00:00")).policy_id, same)

    def test_customer_company_policy(self):
        premium = self.Policy.create(
            {"name": "Premium Alfa", "partner_ids": [self.alfa.id], "first_response_hours": 4, "resolution_hours": 40}
        )
        ticket = self._created_at("2026-11-24 08:00:00", category_id=self.cat_presenze.id)
        self.assertEqual(self._row(ticket).policy_id, premium)
        self.assertEqual(ticket.sla_deadline, datetime(2026, 11, 24, 12, 0))  # 4 h: 13:00 Rome
        other = self._created_at("2026-11-24 08:00:00", category_id=self.cat_presenze.id, partner=self.luca.partner_id)
        self.assertNotEqual(self._row(other).policy_id, premium)

    def test_policy_of_a_category_covers_its_sub_categories(self):
        presenze = self.Policy.create(
            {"name": "Presenze", "category_ids": [self.cat_presenze.id], "resolution_hours": 24}
        )
        ticket = self._created_at("2026-11-24 08:00:00", category_id=self.cat_project.id)
        self.assertEqual(self._row(ticket).policy_id, presenze)
        presenze.active = False  # archived: no longer applies
        self.assertFalse(self._row(self._created_at("2026-11-24 08:00:00", category_id=self.cat_project.id)))

    def test_backfill_gives_existing_tickets_their_row_once(self):
        taken = self._created_at("2026-11-24 08:00:00", category_id=self.cat_presenze.id)
        self._move("2026-11-25 09:00:00", [(taken, "action_take_in_charge")])
        new = self._created_at("2026-11-24 08:00:00", category_id=self.cat_presenze.id)
        self.env.cr.execute("DELETE FROM terasoft_ticket_sla WHERE ticket_id IN %s", [(taken.id, new.id)])
        self.env.invalidate_all()
        self.Ticket._terasoft_backfill_sla()
        self.Ticket._terasoft_backfill_sla()  # idempotent
        for ticket in taken | new:
            row = ticket.sla_ids
            self.assertEqual(len(row), 1)
            self.assertEqual(
                (row.target, row.deadline, row.status, row.reached_date),
                ("first_response", ticket.sla_deadline, ticket.sla_status, ticket.date_taken),
            )
        self.assertEqual(taken.sla_ids.status, "breached")
        self.assertTrue(taken.sla_ids.paused_since)
        self.assertFalse(new.sla_ids.paused_since)
        self.assertEqual(new.sla_ids.target_hours, 8)

    def test_at_risk_threshold(self):
        self.policy_paghe.at_risk_hours = 4
        ticket = self._created_at("2026-11-24 08:00:00")
        self.assertEqual(self._row(ticket).at_risk_date, datetime(2026, 11, 25, 12, 0))  # 12 h: Wed 13:00 Rome

    def test_at_risk_walk_back_agrees_with_the_forward_plan(self):
        self.env.company._ticket_calendar()._generate_holidays([2026])
        calendar = self.env.company._ticket_calendar()
        for start in ("2026-11-24 08:00:00", "2026-11-27 15:30:00", "2026-12-04 10:00:00"):
            start = datetime.fromisoformat(start)
            for hours, threshold in ((16, 4), (16, 8), (40, 8), (40, 12.5), (9, 2)):
                deadline = self.Ticket._plan_sla(calendar, hours, start)[0]
                forward = self.Ticket._plan_sla(calendar, hours - threshold + 1, start)[1]
                self.assertEqual(
                    self.Ticket._sla_hours_before(calendar, deadline, threshold), forward, (start, hours, threshold)
                )

    def test_recompute_on_category_and_priority_change(self):
        ticket = self._created_at("2026-11-24 08:00:00", category_id=self.cat_presenze.id)
        self.assertFalse(self._row(ticket))
        with frozen(self.env, "2026-11-24 09:00:00"):
            ticket.category_id = self.cat_paghe
            self.env.flush_all()
        self.assertEqual(self._row(ticket).policy_id, self.policy_paghe)
        self.assertEqual(self._row(ticket).deadline, datetime(2026, 11, 25, 17, 0))  # from the creation
        urgent = self.Policy.create(
            {"name": "Urgenti", "priority": "2", "category_ids": [self.cat_paghe.id], "resolution_hours": 4}
        )
        with frozen(self.env, "2026-11-24 09:00:00"):
            ticket.priority = "2"
            self.env.flush_all()
        self.assertEqual(self._row(ticket).policy_id, urgent)
        self.assertEqual(self._row(ticket).deadline, datetime(2026, 11, 24, 12, 0))
        # back to a category without resolution target: the open target goes away
        with frozen(self.env, "2026-11-24 09:00:00"):
            ticket.category_id = self.cat_presenze
            self.env.flush_all()
        self.assertFalse(self._row(ticket))
        # a reached target does not change any more
        ticket.category_id = self.cat_paghe
        self._move("2026-11-24 10:00:00", [(ticket, "action_take_in_charge")])
        self._move("2026-11-24 11:00:00", [(ticket, "action_resolve")], solution="Fatto")
        row = self._row(ticket)
        self.assertEqual(row.status, "met")
        ticket.priority = "0"
        self.assertEqual(row.policy_id, urgent)
        self.assertEqual(row.status, "met")


class TestSlaClock(SlaPolicyMixin, TerasoftCase):
    def test_pause_while_waiting_for_the_customer_across_a_weekend(self):
        ticket = self._created_at("2026-11-24 08:00:00")  # Tuesday 9:00 Rome: resolution Wed 18:00
        self._move("2026-11-24 09:00:00", [(ticket, "action_take_in_charge")])
        self.assertEqual(self._row(ticket, "first_response").status, "met")
        self.assertEqual(self._row(ticket, "first_response").reached_date, datetime(2026, 11, 24, 9, 0))
        self._move("2026-11-24 10:00:00", [(ticket, "action_ask_customer")], message="Versione?")  # 2 h used
        row = self._row(ticket)
        self.assertEqual(row.paused_since, datetime(2026, 11, 24, 10, 0))
        # Monday 10:00 Rome: paused Tue 11-18 (6 h), Wed-Fri (24 h), Mon 9-10 (1 h)
        with frozen(self.env, "2026-11-30 09:00:00"):
            ticket.message_post(
                body="Versione 6.7",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                author_id=self.giulia.partner_id.id,
            )
            self.env.flush_all()
        self.assertEqual(ticket.state, "waiting_support")
        self.assertFalse(row.paused_since)
        self.assertEqual(row.paused_hours, 31)
        # 14 h left from Monday 10:00: Monday 7 h, Tuesday 7 h -> Tuesday 17:00 Rome
        self.assertEqual(row.deadline, datetime(2026, 12, 1, 16, 0))
        self.assertEqual(row.status, "on_time")
        self._move("2026-12-01 15:00:00", [(ticket, "action_resolve")], solution="Aggiornare")
        self.assertEqual(row.reached_date, datetime(2026, 12, 1, 15, 0))
        self.assertEqual(row.status, "met")  # without the pause it would be breached

    def test_pause_across_a_public_holiday_and_reopen(self):
        self.env.company._ticket_calendar()._generate_holidays([2026])
        ticket = self._created_at(
            "2026-12-07 08:00:00", ticket_type="defect"
        )  # Monday 9:00 Rome; Tuesday 8 is a holiday
        self._move("2026-12-07 08:00:00", [(ticket, "action_take_in_charge")])
        self._move("2026-12-07 08:00:00", [(ticket, "action_start_progress")], message="Analisi")
        self._move("2026-12-07 08:00:00", [(ticket, "action_plan")], planned_date="2026-12-09 08:00:00")
        self._move("2026-12-09 08:00:00", [(ticket, "action_start_progress")], message="Via")
        row = self._row(ticket)
        self.assertEqual(row.paused_hours, 8)  # Monday only: Tuesday is a holiday
        self.assertEqual(row.deadline, datetime(2026, 12, 10, 17, 0))  # Wednesday + Thursday 18:00 Rome
        # resolved, then the customer says it is not solved: the time resolved is paused too
        self._move("2026-12-09 10:00:00", [(ticket, "action_resolve")], solution="Fatto")
        self.assertEqual(row.status, "met")
        with frozen(self.env, "2026-12-10 08:00:00"):  # Thursday 9:00 Rome: 6 working hours later
            ticket.message_post(
                body="Non funziona",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                author_id=self.giulia.partner_id.id,
            )
            self.env.flush_all()
        self.assertEqual(ticket.state, "waiting_support")
        self.assertFalse(row.reached_date)
        self.assertEqual(row.paused_hours, 8 + 6)
        self.assertEqual(row.deadline, datetime(2026, 12, 11, 15, 0))  # 6 h later: Friday 16:00 Rome
        self.assertEqual(row.status, "on_time")

    def test_ticket_created_resolved_is_reached_on_its_resolution_date(self):
        # imports and data create tickets in any state (superuser): the row says when it was reached
        with frozen(self.env, "2026-11-26 08:00:00"):
            ticket = self._ticket(self.giulia.partner_id, state="resolved", date_resolved=datetime(2026, 11, 26, 7, 0))
            self.env.flush_all()
        row = self._row(ticket)
        self.assertEqual(row.reached_date, datetime(2026, 11, 26, 7, 0))
        self.assertEqual(row.status, "met")

    def test_paused_state_is_configurable(self):
        self.policy_paghe.pause_waiting_customer = False
        ticket = self._created_at("2026-11-24 08:00:00")
        self._move("2026-11-24 09:00:00", [(ticket, "action_take_in_charge")])
        self._move("2026-11-24 10:00:00", [(ticket, "action_ask_customer")], message="Versione?")
        self.assertFalse(self._row(ticket).paused_since)
        self.assertEqual(self._row(ticket).deadline, datetime(2026, 11, 25, 17, 0))


class TestSlaScanTargets(SlaPolicyMixin, TerasoftCase):
    def _scan_at(self, moment):
        commit, _calls = patch_cron_commit()
        with frozen(self.env, moment), commit:
            self.Ticket._cron_sla_scan()
            self.env.flush_all()

    def _activities(self, tickets):
        return self.env["mail.activity"].search([("res_model", "=", "terasoft.ticket"), ("res_id", "in", tickets.ids)])

    def test_both_targets_statuses_and_one_activity_per_breached_target(self):
        ticket = self._created_at("2026-11-24 08:00:00")
        self._scan_at("2026-11-24 16:30:00")  # take in charge at risk (less than 1 h left)
        self.assertEqual(self._row(ticket, "first_response").status, "at_risk")
        self.assertEqual(ticket.sla_status, "at_risk")
        self.assertEqual(self._row(ticket).status, "on_time")
        self._scan_at("2026-11-24 17:30:00")  # take in charge breached
        self.assertEqual(self._row(ticket, "first_response").status, "breached")
        self.assertEqual(len(self._activities(ticket)), 1)
        self._move("2026-11-25 08:00:00", [(ticket, "action_take_in_charge")])
        self._scan_at("2026-11-25 16:30:00")
        self.assertEqual(self._row(ticket).status, "at_risk")
        self._scan_at("2026-11-25 17:30:00")
        self._scan_at("2026-11-25 17:45:00")  # never twice
        self.assertEqual(self._row(ticket).status, "breached")
        activities = self._activities(ticket)
        self.assertEqual(len(activities), 2)
        self.assertEqual(activities.user_id, self.manager)
        self.assertTrue(any("resolve" in summary.lower() for summary in activities.mapped("summary")))
        self.assertEqual(self._row(ticket, "first_response").status, "breached")  # frozen once taken late

    def test_scan_query_count_does_not_grow_with_tickets(self):
        def breached_batch(count):
            tickets = self.Ticket.browse()
            with frozen(self.env, "2026-11-24 08:00:00"):
                for _i in range(count):
                    tickets |= self._ticket(self.giulia.partner_id)
                tickets.action_take_in_charge()
                self.env.flush_all()
            return tickets

        few = breached_batch(2)
        self.env.invalidate_all()
        commit, _calls = patch_cron_commit()
        with frozen(self.env, "2026-11-26 09:00:00"), commit:
            before = self.env.cr.sql_log_count
            self.Ticket._cron_sla_scan()
            self.env.flush_all()
            small = self.env.cr.sql_log_count - before
        self.assertEqual({row.status for row in few.sla_ids if row.target == "resolution"}, {"breached"})
        many = breached_batch(25)
        self.env.invalidate_all()
        with frozen(self.env, "2026-11-27 09:00:00"), commit, self.assertQueryCount(small):
            self.Ticket._cron_sla_scan()
            self.env.flush_all()
        self.assertEqual({row.status for row in many.sla_ids if row.target == "resolution"}, {"breached"})
        self.assertEqual(len(self._activities(many)), 25)


class TestSlaAccess(SlaPolicyMixin, TerasoftCase):
    def test_portal_user_reads_no_sla_row_nor_policy(self):
        ticket = self._created_at("2026-11-24 08:00:00")
        with self.assertRaises(AccessError):
            self.Sla.with_user(self.giulia).search([("ticket_id", "=", ticket.id)])
        with self.assertRaises(AccessError):
            self.Policy.with_user(self.giulia).search([])
        with self.assertRaises(AccessError):
            ticket.with_user(self.giulia).sla_ids.read(["deadline"])
        # support users read, managers write
        self.assertTrue(self.Sla.with_user(self.support).search([("ticket_id", "=", ticket.id)]))
        with self.assertRaises(AccessError):
            self.policy_paghe.with_user(self.support).write({"resolution_hours": 1})
        self.policy_paghe.with_user(self.manager).write({"resolution_hours": 1})


class TestSlaPortal(SlaPolicyMixin, TerasoftHttpCase):
    def test_ticket_page_shows_the_targets_without_the_policy(self):
        self.policy_paghe.name = "Politica interna XYZ"
        ticket = self._ticket(self.giulia.partner_id, name="Cedolino SLA")
        self.authenticate(self.giulia.login, "demo")
        page = self.url_open(f"/my/tickets/{ticket.id}").text
        self.assertIn("o_terasoft_sla_resolution", page)
        self.assertIn("Risoluzione entro", page)
        self.assertIn("Presa in carico entro", page)
        self.assertIn(ticket._portal_format_datetime(self._row(ticket).deadline), page)
        self.assertNotIn("Politica interna XYZ", page)
        # waiting for the customer: the count is paused, and the page says so
        ticket.action_take_in_charge()
        ticket.action_ask_customer(message="Quale versione?")
        page = self.url_open(f"/my/tickets/{ticket.id}").text
        self.assertIn("sospeso", page)

    def test_portal_user_cannot_read_rows_by_rpc(self):
        ticket = self._ticket(self.giulia.partner_id, name="Cedolino RPC")
        self.authenticate(self.giulia.login, "demo")
        result = self.url_open(
            "/web/dataset/call_kw/terasoft.ticket.sla/search_read",
            data=(
                '{"jsonrpc": "2.0", "method": "call", "params": {"model": "terasoft.ticket.sla", '
                '"method": "search_read", "args": [[["ticket_id", "=", %d]], ["deadline"]], "kwargs": {}}}' % ticket.id
            ),
            headers={"Content-Type": "application/json"},
        ).json()
        self.assertIn("error", result)
        self.assertNotIn("result", result)
