"""Take-in-charge deadline: 8 working hours on the support calendar (Mon-Fri 9-13 14-18, Rome)."""

from datetime import datetime

from .common import TerasoftCase, frozen, patch_cron_commit


class TestSlaDeadline(TerasoftCase):
    def _created_at(self, moment, **vals):
        with frozen(self.env, moment):
            ticket = self._ticket(self.giulia.partner_id, **vals)
            ticket.flush_recordset()  # stored computes run at flush: while the clock is frozen
            return ticket

    def test_deadline_within_the_day(self):
        ticket = self._created_at("2026-11-24 08:00:00")  # Tuesday 9:00 in Rome
        self.assertEqual(ticket.sla_deadline, datetime(2026, 11, 24, 17, 0))  # 18:00 in Rome
        self.assertEqual(ticket.sla_at_risk_date, datetime(2026, 11, 24, 16, 0))

    def test_deadline_across_an_evening(self):
        ticket = self._created_at("2026-11-24 16:00:00")  # Tuesday 17:00: 1 h left today
        self.assertEqual(ticket.sla_deadline, datetime(2026, 11, 25, 16, 0))  # Wednesday 17:00
        ticket = self._created_at("2026-11-24 19:00:00")  # Tuesday 20:00, after hours
        self.assertEqual(ticket.sla_deadline, datetime(2026, 11, 25, 17, 0))  # Wednesday 18:00

    def test_deadline_across_a_weekend(self):
        ticket = self._created_at("2026-11-27 15:00:00")  # Friday 16:00
        self.assertEqual(ticket.sla_deadline, datetime(2026, 11, 30, 15, 0))  # Monday 16:00
        ticket = self._created_at("2026-11-28 10:00:00")  # Saturday
        self.assertEqual(ticket.sla_deadline, datetime(2026, 11, 30, 17, 0))  # Monday 18:00

    def test_deadline_across_public_holidays(self):
        # generated at install for the current and the next year: these years whenever the test runs
        self.env.company._ticket_calendar()._generate_holidays([2026, 2027])
        ticket = self._created_at("2026-04-03 14:00:00")  # Friday 16:00 (CEST) before Easter Monday
        self.assertEqual(ticket.sla_deadline, datetime(2026, 4, 7, 14, 0))  # Tuesday 16:00
        ticket = self._created_at("2026-12-07 16:00:00")  # Monday 17:00, Tuesday 8 is a holiday
        self.assertEqual(ticket.sla_deadline, datetime(2026, 12, 9, 16, 0))  # Wednesday 17:00
        ticket = self._created_at("2027-03-26 15:00:00")  # Friday 16:00 before Easter Monday 2027
        self.assertEqual(ticket.sla_deadline, datetime(2027, 3, 30, 14, 0))  # Tuesday 16:00 (CEST)

    def test_shorter_target_for_urgent_tickets(self):
        self.env.company.ticket_sla_hours_urgent = 4
        urgent = self._created_at("2026-11-24 08:00:00", priority="2")
        normal = self._created_at("2026-11-24 08:00:00", priority="1")
        self.assertEqual(urgent.sla_deadline, datetime(2026, 11, 24, 12, 0))  # 13:00 in Rome
        self.assertEqual(normal.sla_deadline, datetime(2026, 11, 24, 17, 0))

    def test_calendar_changes_reach_the_cached_working_days(self):
        """The working intervals of each day are cached (resource.calendar
        ._ticket_work_intervals_day): time off and attendances changed afterwards count."""
        calendar = self.env.company._ticket_calendar()
        ticket = self._created_at("2026-11-24 08:00:00")  # Tuesday 9:00: the day is now cached
        self.assertEqual(ticket.sla_deadline, datetime(2026, 11, 24, 17, 0))
        leave = self.env["resource.calendar.leaves"].create(
            {
                "name": "Chiusura straordinaria",
                "calendar_id": calendar.id,
                "date_from": datetime(2026, 11, 24, 0, 0),
                "date_to": datetime(2026, 11, 24, 22, 59, 59),
            }
        )
        ticket = self._created_at("2026-11-24 08:00:00")
        self.assertEqual(ticket.sla_deadline, datetime(2026, 11, 25, 17, 0))  # Wednesday 18:00
        leave.date_to = datetime(2026, 11, 24, 11, 0)  # closed until 12:00 only
        ticket = self._created_at("2026-11-24 08:00:00")
        self.assertEqual(ticket.sla_deadline, datetime(2026, 11, 25, 11, 0))  # 12-13, 14-18, 9-12
        leave.unlink()
        # Tuesday afternoon off in the attendances: 9-13 only
        calendar.attendance_ids.filtered(lambda a: a.dayofweek == "1" and a.hour_from >= 14).unlink()
        ticket = self._created_at("2026-11-24 08:00:00")
        self.assertEqual(ticket.sla_deadline, datetime(2026, 11, 25, 12, 0))  # Wednesday 13:00
        calendar.tz = "UTC"
        ticket = self._created_at("2026-11-24 08:00:00")
        self.assertEqual(ticket.sla_deadline, datetime(2026, 11, 25, 13, 0))  # 9-13 Tue, 9-13 Wed UTC

    def test_status_met_or_breached_when_taken(self):
        in_time = self._created_at("2026-11-24 08:00:00")
        late = self._created_at("2026-11-24 08:00:00")
        with frozen(self.env, "2026-11-24 12:00:00"):
            in_time.action_take_in_charge()
            in_time.flush_recordset()
        with frozen(self.env, "2026-11-25 09:00:00"):
            late.action_take_in_charge()
            late.flush_recordset()
        self.assertEqual(in_time.sla_status, "met")
        self.assertEqual(late.sla_status, "breached")
        self.assertIn(in_time, self.Ticket.search([("sla_status", "=", "met")]))


class TestSlaScan(TerasoftCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.ticket_manager_id = cls.manager
        with frozen(cls.env, "2026-11-24 08:00:00"):
            cls.ticket = cls._ticket(cls.giulia.partner_id)
            cls.ticket.flush_recordset()

    def _scan_at(self, moment):
        commit, _calls = patch_cron_commit()
        with frozen(self.env, moment), commit:
            self.Ticket._cron_sla_scan()
            self.env.flush_all()

    def _activities(self):
        return self.env["mail.activity"].search(
            [("res_model", "=", "terasoft.ticket"), ("res_id", "=", self.ticket.id)]
        )

    def test_status_moves_on_time_at_risk_breached(self):
        self.assertEqual(self.ticket.sla_status, "on_time")
        self._scan_at("2026-11-24 10:00:00")
        self.assertEqual(self.ticket.sla_status, "on_time")
        self._scan_at("2026-11-24 16:30:00")  # less than one working hour left
        self.assertEqual(self.ticket.sla_status, "at_risk")
        self.assertIn(self.ticket, self.Ticket.search([("sla_status", "=", "at_risk")]))
        self._scan_at("2026-11-24 17:30:00")
        self.assertEqual(self.ticket.sla_status, "breached")

    def test_breach_scan_twice_creates_one_activity_for_the_manager(self):
        self._scan_at("2026-11-24 17:30:00")
        self._scan_at("2026-11-24 17:45:00")
        activity = self._activities()
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.manager)
        self.assertIn(self.ticket.number, activity.summary)
        activity.action_done()  # done: still never scheduled again
        self._scan_at("2026-11-24 18:00:00")
        self.assertFalse(self._activities())

    def test_ticket_taken_in_charge_is_not_flagged(self):
        with frozen(self.env, "2026-11-24 12:00:00"):
            self.ticket.action_take_in_charge()
            self.ticket.flush_recordset()
        self._scan_at("2026-11-25 09:00:00")
        self.assertEqual(self.ticket.sla_status, "met")
        self.assertFalse(self._activities())
