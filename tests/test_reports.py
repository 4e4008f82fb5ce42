"""Service reports (Assistenza > Reporting): working hours stored by the moves, the measures of
the SQL-view reports on tickets with known dates, query counts independent of the number of
tickets, access, and the weekly summary email.

Support calendar: Mon-Fri 9-13 14-18, Europe/Rome (UTC+1 in November). The story happens in
November 2025, away from the demo tickets (dated around the installation).
"""

from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo.exceptions import AccessError
from odoo.tools.safe_eval import safe_eval

from .common import TerasoftCase, TerasoftHttpCase, frozen, patch_cron_commit

REPORTS = ("terasoft.ticket.report.ticket", "terasoft.ticket.report.flow", "terasoft.ticket.report.state")


class ReportCase(TerasoftCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        # a category of their own: the measures grouped by it are the story's only
        cls.category = cls.env["terasoft.ticket.category"].create({"name": "Report test"})

    @classmethod
    def _at(cls, moment, method, *tickets, **kwargs):
        with frozen(cls.env, moment):
            for ticket in tickets:
                getattr(ticket, method)(**kwargs)
            cls.env.flush_all()  # stored computes run at flush: while the clock is frozen

    @classmethod
    def _create_at(cls, moment, **vals):
        with frozen(cls.env, moment):
            ticket = cls._ticket(cls.giulia.partner_id, category_id=cls.category.id, **vals)
            cls.env.flush_all()
        return ticket

    @classmethod
    def _story(cls):
        """A: Tue 25/11 9:00 -> taken 13:00 (4 h) -> resolved Wed 10:00 (9 h) -> closed Thu.
        B: Fri 28/11 17:00 -> taken Mon 10:00 (2 h) -> resolved 12:00 (4 h) -> the customer
        answers 14:00 (reopened) -> resolved Tue 2/12 10:00 (10 h).
        C: Tue 25/11 9:00, never taken in charge (backlog)."""
        a = cls._create_at("2025-11-25 08:00:00", name="Ticket A")
        c = cls._create_at("2025-11-25 08:00:00", name="Ticket C")
        cls._at("2025-11-25 12:00:00", "action_take_in_charge", a)
        cls._at("2025-11-26 09:00:00", "action_resolve", a, solution="<p>Fatto</p>")
        cls._at("2025-11-27 10:00:00", "action_customer_close", a)
        b = cls._create_at("2025-11-28 16:00:00", name="Ticket B")
        cls._at("2025-12-01 09:00:00", "action_take_in_charge", b)
        cls._at("2025-12-01 11:00:00", "action_resolve", b, solution="<p>Fatto</p>")
        cls._at("2025-12-01 13:00:00", "_apply_move", b, move="customer_reply")
        cls._at("2025-12-02 09:00:00", "action_resolve", b, solution="<p>Ora sì</p>")
        return a, b, c


class TestServiceHours(ReportCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a, cls.b, cls.c = cls._story()

    def test_ticket_hours(self):
        self.assertEqual(self.a.state, "closed")
        self.assertEqual(self.b.state, "resolved")
        self.assertAlmostEqual(self.a.first_response_hours, 4.0)
        self.assertAlmostEqual(self.a.resolution_hours, 9.0)
        self.assertEqual(self.a.reopen_count, 0)
        self.assertAlmostEqual(self.b.first_response_hours, 2.0)  # Friday 17-18, Monday 9-10
        self.assertAlmostEqual(self.b.resolution_hours, 10.0)  # to the last resolution
        self.assertEqual(self.b.reopen_count, 1)
        self.assertEqual((self.c.first_response_hours, self.c.resolution_hours), (0.0, 0.0))

    def test_log_working_hours(self):
        logs = self.b.state_log_ids.sorted(lambda log: (log.date, log.id))
        self.assertEqual(
            [(log.from_state, log.to_state) for log in logs],
            [
                ("new", "waiting_support"),
                ("waiting_support", "resolved"),
                ("resolved", "waiting_support"),
                ("waiting_support", "resolved"),
            ],
        )
        self.assertEqual([round(log.working_hours, 2) for log in logs], [2.0, 2.0, 1.0, 5.0])
        # the elapsed hours of the same stays: the weekend counts there
        self.assertEqual(logs[0].duration_hours, 65.0)

    def test_work_hours_helper(self):
        calendar = self.company._ticket_calendar()
        hours = calendar._terasoft_work_hours(
            [
                (datetime(2025, 11, 25, 8), datetime(2025, 11, 25, 12)),  # 9-13 Rome
                (datetime(2025, 11, 25, 11), datetime(2025, 11, 25, 14)),  # 12-15: the lunch break out
                (datetime(2025, 11, 28, 16), datetime(2025, 12, 1, 9)),  # over the weekend
                (datetime(2025, 11, 29, 9), datetime(2025, 11, 29, 12)),  # Saturday
                (datetime(2025, 11, 25, 12), datetime(2025, 11, 25, 8)),  # backwards
                (None, datetime(2025, 11, 25, 8)),
            ]
        )
        self.assertEqual(hours, [4.0, 2.0, 2.0, 0.0, 0.0, 0.0])
        self.assertEqual(
            hours[:4],
            [
                calendar.get_work_hours_count(datetime(2025, 11, 25, 8), datetime(2025, 11, 25, 12)),
                calendar.get_work_hours_count(datetime(2025, 11, 25, 11), datetime(2025, 11, 25, 14)),
                calendar.get_work_hours_count(datetime(2025, 11, 28, 16), datetime(2025, 12, 1, 9)),
                0.0,
            ],
        )

    def test_work_hours_follow_calendar_changes(self):
        """The expansion of the calendar kept between calls is dropped when its leaves change."""
        calendar = self.company._ticket_calendar()
        span = [(datetime(2025, 11, 25, 8), datetime(2025, 11, 26, 17))]  # Tue 9:00 - Wed 18:00
        self.assertEqual(calendar._terasoft_work_hours(span), [16.0])
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Chiusura straordinaria",
                "calendar_id": calendar.id,
                "date_from": datetime(2025, 11, 25, 23),  # all of Wednesday in Rome
                "date_to": datetime(2025, 11, 26, 22, 59, 59),
            }
        )
        self.assertEqual(calendar._terasoft_work_hours(span), [8.0])

    def _groups(self, model, groupby, aggregates, domain=None):
        report = self.env[model].with_user(self.manager)
        domain = [("category_id", "=", self.category.id)] + (domain or [])
        return report.formatted_read_group(domain, groupby, aggregates)

    def test_ticket_report_measures(self):
        [total] = self._groups(
            "terasoft.ticket.report.ticket",
            [],
            ["__count", "first_response_hours:avg", "resolution_hours:avg", "reopen_rate:avg", "nbr:sum"],
        )
        self.assertEqual(total["__count"], 3)
        self.assertEqual(total["nbr:sum"], 3)
        self.assertAlmostEqual(total["first_response_hours:avg"], 3.0)  # (4 + 2) / 2: C not taken
        self.assertAlmostEqual(total["resolution_hours:avg"], 9.5)  # (9 + 10) / 2
        self.assertAlmostEqual(total["reopen_rate:avg"], 50.0)  # B of A and B
        # the manager's one click: last month's first response, by the date of the response
        last_month = [("date_taken", ">=", "2025-11-01"), ("date_taken", "<", "2025-12-01")]
        [november] = self._groups(
            "terasoft.ticket.report.ticket", [], ["first_response_hours:avg", "__count"], last_month
        )
        self.assertEqual(november["__count"], 1)
        self.assertAlmostEqual(november["first_response_hours:avg"], 4.0)
        by_month = self._groups("terasoft.ticket.report.ticket", ["date_taken:month"], ["first_response_hours:avg"])
        self.assertEqual(
            {
                group["date_taken:month"][1]: group["first_response_hours:avg"]
                for group in by_month
                if group["date_taken:month"]
            },
            {"novembre 2025": 4.0, "dicembre 2025": 2.0},  # the manager reads Italian,
        )

    def test_backlog_by_state_and_age(self):
        backlog = self._groups(
            "terasoft.ticket.report.ticket", ["state", "age_bucket"], ["__count"], [("is_done", "=", False)]
        )
        self.env.cr.execute("SELECT now() AT TIME ZONE 'UTC' - %s > interval '30 days'", [self.c.create_date])
        bucket = "30" if self.env.cr.fetchone()[0] else "7_30"
        self.assertEqual(
            {(group["state"], group["age_bucket"]): group["__count"] for group in backlog},
            {("new", bucket): 1, ("resolved", bucket): 1},
        )

    def test_flow_report(self):
        flow = self._groups("terasoft.ticket.report.flow", ["kind"], ["__count"])
        self.assertEqual(
            {group["kind"]: group["__count"] for group in flow},
            {"opened": 3, "taken": 2, "resolved": 3, "closed": 1, "reopened": 1},
        )
        weeks = self._groups(
            "terasoft.ticket.report.flow", ["date:week", "kind"], ["__count"], [("kind", "=", "opened")]
        )
        self.assertEqual([group["__count"] for group in weeks], [3])

    def test_time_in_status(self):
        stays = self._groups("terasoft.ticket.report.state", ["state"], ["working_hours:sum", "__count"])
        self.assertEqual(
            {group["state"]: (round(group["working_hours:sum"], 2), group["__count"]) for group in stays},
            {
                "new": (6.0, 2),  # A 4 h, B 2 h
                "waiting_support": (12.0, 3),  # A 5 h, B 2 h + 5 h
                "resolved": (10.0, 2),  # A 9 h (Wed 10-18 but the lunch break, Thu 9-11), B 1 h
            },
        )

    def test_access(self):
        for model in REPORTS:
            self.env[model].with_user(self.manager).formatted_read_group([], [], ["__count"])
            for user in (self.support, self.giulia):
                with self.assertRaises(AccessError):
                    self.env[model].with_user(user).formatted_read_group([], [], ["__count"])

    def test_weekly_summary_values(self):
        Summary = self.env["terasoft.ticket.report.summary"]
        start, end = Summary._weekly_summary_period(self.company, now=datetime(2025, 12, 3, 10))
        self.assertEqual((start, end), (datetime(2025, 11, 23, 23), datetime(2025, 11, 30, 23)))
        values = Summary._weekly_summary_values(self.company, start, end)
        backlog = self.Ticket.search_count([("company_id", "=", self.company.id), ("is_done", "=", False)])
        self.assertEqual(
            {key: values[key] for key in ("opened", "taken", "resolved", "closed", "reopened", "backlog")},
            {"opened": 3, "taken": 1, "resolved": 1, "closed": 1, "reopened": 0, "backlog": backlog},
        )
        self.assertAlmostEqual(values["first_response_avg"], 4.0)
        self.assertAlmostEqual(values["first_response_median"], 4.0)
        self.assertAlmostEqual(values["resolution_avg"], 9.0)
        self.assertEqual(values["reopen_rate"], 0.0)  # A resolved then closed: one resolution
        values = Summary._weekly_summary_values(self.company, end, datetime(2025, 12, 7, 23))
        self.assertEqual((values["taken"], values["resolved"], values["reopened"]), (1, 2, 1))
        self.assertEqual(values["reopen_rate"], 50.0)
        self.assertAlmostEqual(values["resolution_avg"], 10.0)

    def test_weekly_summary_sla_success_rate(self):
        """The week's take-in-charge targets: A's met, C's due on Tuesday and breached (the SLA
        scan has run since); the default policy sets no resolution target."""
        Summary = self.env["terasoft.ticket.report.summary"]
        commit, _calls = patch_cron_commit()
        with frozen(self.env, "2025-12-03 10:00:00"), commit:
            self.Ticket._cron_sla_scan()
        values = Summary._weekly_summary_values(self.company, datetime(2025, 11, 23, 23), datetime(2025, 11, 30, 23))
        self.assertEqual(values["sla_first_response_rate"], 50.0)
        self.assertIsNone(values["sla_resolution_rate"])
        values = Summary._weekly_summary_values(self.company, datetime(2025, 11, 30, 23), datetime(2025, 12, 7, 23))
        self.assertEqual(values["sla_first_response_rate"], 100.0)  # B, taken in charge on time

    def test_weekly_summary_setting(self):
        cron = self.env.ref("terasoft_portal.ir_cron_ticket_weekly_summary")
        self.assertFalse(self.env["res.config.settings"].create({}).terasoft_weekly_summary)
        self.env["res.config.settings"].create({"terasoft_weekly_summary": True}).execute()
        self.assertTrue(cron.active)
        self.assertTrue(self.env["res.config.settings"].create({}).terasoft_weekly_summary)
        self.env["res.config.settings"].create({"terasoft_weekly_summary": False}).execute()
        self.assertFalse(cron.active)

    def test_weekly_summary_email(self):
        self.company.ticket_manager_id = self.manager
        self.manager.lang = "it_IT"
        cron = self.env.ref("terasoft_portal.ir_cron_ticket_weekly_summary")
        self.assertFalse(cron.active, "opt-in: the summary is off until the manager turns it on")
        with frozen(self.env, "2025-12-03 10:00:00"):
            self.env["terasoft.ticket.report.summary"]._cron_weekly_summary()
        mail = self.env["mail.mail"].search([("model", "=", "res.company"), ("res_id", "=", self.company.id)])
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.manager.partner_id)
        self.assertIn("Assistenza", mail.subject)
        self.assertIn("Tempo di presa in carico", mail.body_html)
        self.assertIn("4.0 / 4.0", mail.body_html)
        self.assertIn("SLA rispettato", mail.body_html)


class TestReportQueryCounts(ReportCase):
    """Each report opens with the same number of queries for a few tickets as for hundreds (the
    pivot's and the graph's read_group: one aggregate query, plus the names of the groups)."""

    QUERIES = {
        "terasoft.ticket.report.ticket": (
            ["category_id", "state"],
            ["first_response_hours:avg", "resolution_hours:avg", "reopen_rate:avg", "__count"],
        ),
        "terasoft.ticket.report.flow": (["date:week", "kind"], ["__count"]),
        "terasoft.ticket.report.state": (["state", "user_id"], ["working_hours:avg", "__count"]),
    }

    def _bulk(self, count):
        """``count`` tickets created, taken in charge and resolved in three batch moves."""
        quiet = self.Ticket.with_context(install_mode=True, tracking_disable=True)  # no notification emails
        tickets = quiet.create(
            [
                {"name": f"Bulk {i}", "partner_id": self.giulia.partner_id.id, "category_id": self.category.id}
                for i in range(count)
            ]
        )
        tickets.action_take_in_charge()
        tickets.action_resolve(solution="<p>Fatto</p>")
        self.env.flush_all()
        return tickets

    def _counts(self):
        counts = {}
        for model, (groupby, aggregates) in self.QUERIES.items():
            report = self.env[model].with_user(self.manager)
            self.env.invalidate_all()
            report.formatted_read_group([], groupby, aggregates)  # warm the user's rules and groups
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            groups = report.formatted_read_group([], groupby, aggregates)
            counts[model] = self.env.cr.sql_log_count - before
            self.assertTrue(groups)
        return counts

    def test_flat_query_counts(self):
        self._bulk(3)
        small = self._counts()
        self._bulk(300)
        large = self._counts()
        self.assertEqual(small, large)
        for model, (groupby, aggregates) in self.QUERIES.items():
            self.env.invalidate_all()
            with self.assertQueryCount(large[model]):
                self.env[model].with_user(self.manager).formatted_read_group([], groupby, aggregates)
        # one aggregate query, the display names of the many2one groups and, with an empty cache,
        # the user's time zone and week start: nothing per ticket
        self.assertLessEqual(max(large.values()), 4, large)


class TestReportActions(TerasoftCase):
    """Every report action opens on filters its search view has, and their domains evaluate
    (the web client evaluates the same expressions: context_today, relativedelta)."""

    ACTIONS = (
        "action_ticket_report_first_response",
        "action_ticket_report_resolution",
        "action_ticket_report_flow",
        "action_ticket_report_backlog",
        "action_ticket_report_reopen",
        "action_ticket_report_state",
        "action_ticket_report_analysis",
    )

    def test_default_filters(self):
        today = date(2026, 12, 7)
        for xmlid in self.ACTIONS:
            action = self.env.ref(f"terasoft_portal.{xmlid}")
            report = self.env[action.res_model].with_user(self.manager)
            arch = etree.fromstring(report.get_views([(action.search_view_id.id, "search")])["views"]["search"]["arch"])
            filters = {node.get("name"): node for node in arch.iter("filter")}
            domain = safe_eval(action.domain or "[]")
            for key in safe_eval(action.context or "{}"):
                name = key.removeprefix("search_default_")
                self.assertIn(name, filters, f"{xmlid}: no filter {name}")
                domain += safe_eval(
                    filters[name].get("domain"), {"context_today": lambda: today, "relativedelta": relativedelta}
                )
            report.formatted_read_group(domain, [], ["__count"])
            for view in ("pivot", "graph"):
                self.assertIn(view, action.view_mode, xmlid)
        action = self.env.ref("terasoft_portal.action_ticket_report_first_response")
        search = action.search_view_id.arch_db
        self.assertIn("last_month", action.context)
        self.assertIn("date_taken", search)
        last_month = safe_eval(
            etree.fromstring(search).xpath("//filter[@name='last_month']")[0].get("domain"),
            {"context_today": lambda: today, "relativedelta": relativedelta},
        )
        self.assertEqual(last_month, [("date_taken", ">=", "2026-11-01"), ("date_taken", "<", "2026-12-01")])


class TestReportBrowser(TerasoftHttpCase):
    def test_first_response_opens_on_last_month(self):
        """The manager's one click: the menu's action shows the pivot filtered on last month."""
        self.browser_js(
            "/odoo/action-terasoft_portal.action_ticket_report_first_response",
            """
            const find = async (selector) => {
                for (let i = 0; i < 200; i++) {
                    const element = document.querySelector(selector);
                    if (element) return element;
                    await new Promise((resolve) => setTimeout(resolve, 100));
                }
                throw new Error("not found: " + selector);
            };
            (async () => {
                await find(".o_pivot table");
                const facet = (await find(".o_searchview_facet")).textContent;
                if (!/Mese scorso|Last Month/.test(facet)) {
                    console.error("facet: " + facet);
                    return;
                }
                const header = (await find(".o_pivot thead")).textContent;
                if (!/Presa in carico|First Response/.test(header)) {
                    console.error("measure: " + header);
                    return;
                }
                console.log("test successful");
            })();
            """,
            login="admin",
            timeout=90,
        )
