"""Public holidays generated from the `holidays` library into the support calendar (issue 12)."""

from datetime import date, datetime

from odoo.exceptions import ValidationError

from .common import TerasoftCase, frozen


class TestHolidayGeneration(TerasoftCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calendar = cls.env.company._ticket_calendar()
        cls.Leave = cls.env["resource.calendar.leaves"]

    def _generated(self, year):
        leaves = self.Leave.search([("calendar_id", "=", self.calendar.id), ("holiday_generated", "=", True)])
        return leaves.filtered(lambda leave: leave.date_to.year == year)

    def _leave_on(self, day):
        """The generated leave of local ``day`` (Rome), or an empty recordset."""
        # midnight to 23:59:59 in Rome: ends on the day itself in UTC (21:59:59 or 22:59:59)
        return self._generated(day.year).filtered(lambda leave: leave.date_to.date() == day)

    def _created_at(self, moment, **vals):
        with frozen(self.env, moment):
            ticket = self._ticket(self.giulia.partner_id, **vals)
            ticket.flush_recordset()
            return ticket

    def test_support_calendar_is_the_default(self):
        self.assertEqual(self.calendar, self.env.ref("terasoft_portal.resource_calendar_support"))

    def test_easter_monday_of_two_years(self):
        self.calendar._generate_holidays([2027, 2028])
        # Easter Monday moves: 29 March 2027, 17 April 2028; midnight to midnight in Rome (CEST)
        easter_2027 = self._generated(2027).filtered(lambda leave: leave.name == "Lunedì dell'Angelo")
        self.assertEqual(
            (easter_2027.date_from, easter_2027.date_to),
            (datetime(2027, 3, 28, 22, 0), datetime(2027, 3, 29, 21, 59, 59)),
        )
        easter_2028 = self._generated(2028).filtered(lambda leave: leave.name == "Lunedì dell'Angelo")
        self.assertEqual(easter_2028.date_from, datetime(2028, 4, 16, 22, 0))
        # every national holiday of the year, the fixed ones in CET/CEST as they fall
        days_2028 = {leave.date_to.date() for leave in self._generated(2028)}
        for day in (
            "01-01",
            "01-06",
            "04-17",
            "04-25",
            "05-01",
            "06-02",
            "08-15",
            "10-04",
            "11-01",
            "12-08",
            "12-25",
            "12-26",
        ):
            self.assertIn(date.fromisoformat(f"2028-{day}"), days_2028, day)

    def test_deadline_across_easter_of_two_years(self):
        self.calendar._generate_holidays([2027, 2028])
        ticket = self._created_at("2027-03-26 15:00:00")  # Friday 16:00 (CET) before Easter Monday
        self.assertEqual(ticket.sla_deadline, datetime(2027, 3, 30, 14, 0))  # Tuesday 16:00 (CEST)
        ticket = self._created_at("2028-04-14 14:00:00")  # Friday 16:00 (CEST) before Easter Monday
        self.assertEqual(ticket.sla_deadline, datetime(2028, 4, 18, 14, 0))  # Tuesday 16:00

    def test_year_boundary(self):
        """The monthly cron run of December already holds the next year's holidays: a ticket of
        31 December 17:00 skips 1 January (Friday) and the weekend."""
        self.Leave.search([("calendar_id", "=", self.calendar.id), ("holiday_generated", "=", True)]).unlink()
        with frozen(self.env, "2026-12-01 03:00:00"):
            self.env["resource.calendar"]._cron_generate_holidays()
        self.assertTrue(self._generated(2027), "the next year is generated in advance")
        ticket = self._created_at("2026-12-31 16:00:00")  # Thursday 17:00 in Rome: 1 h left
        # 1 h on 31 December, then 7 h on Monday 4 January: 17:00 in Rome
        self.assertEqual(ticket.sla_deadline, datetime(2027, 1, 4, 16, 0))

    def test_idempotent(self):
        self._generated(2027).unlink()  # generated at install (current and next year)
        first = self.calendar._generate_holidays([2027])
        self.assertTrue(first)
        before = self._generated(2027)
        self.env.invalidate_all()
        with self.assertQueryCount(5):  # flush, the leaves and their fields, company language; no write
            created = self.calendar._generate_holidays([2027])
        self.assertFalse(created)
        self.assertEqual(self._generated(2027), before)
        self.assertEqual(len(before), len({leave.date_from for leave in before}), "one leave a day")

    def test_regeneration_touches_only_generated_leaves(self):
        self.calendar._generate_holidays([2027])
        christmas = self._leave_on(date(2027, 12, 25))
        christmas.name = "renamed"
        self._leave_on(date(2027, 12, 26)).unlink()
        wrong = self.Leave.create(
            {  # a generated leave on a day that is no holiday
                "name": "wrong",
                "calendar_id": self.calendar.id,
                "holiday_generated": True,
                "date_from": datetime(2027, 3, 9, 23, 0),
                "date_to": datetime(2027, 3, 10, 22, 59, 59),
            }
        )
        manual = self.Leave.create(
            {  # entered by hand: the generator leaves it alone
                "name": "Chiusura estiva",
                "calendar_id": self.calendar.id,
                "date_from": datetime(2027, 8, 9, 22, 0),
                "date_to": datetime(2027, 8, 20, 21, 59, 59),
            }
        )
        self.calendar._generate_holidays([2027])
        self.assertEqual(christmas.name, "Natale")
        self.assertTrue(self._leave_on(date(2027, 12, 26)), "a deleted holiday comes back")
        self.assertFalse(wrong.exists())
        self.assertEqual((manual.name, manual.date_from), ("Chiusura estiva", datetime(2027, 8, 9, 22, 0)))
        # Ferragosto falls within the manual closure: no second leave that day
        self.assertFalse(self._leave_on(date(2027, 8, 15)))
        other_years = self.calendar._generate_holidays([2028])
        self.assertTrue(other_years)
        self.calendar._generate_holidays([2027])
        self.assertTrue(other_years.exists(), "a year is regenerated alone")

    def test_annual_closures(self):
        self.calendar.annual_closure_days = "06-29, 12-24"
        self.calendar._generate_holidays([2027])
        closure = self._leave_on(date(2027, 6, 29))
        self.assertIn(closure.name, ("Annual closure", "Chiusura aziendale"))  # the company's language
        self.assertTrue(self._leave_on(date(2027, 12, 24)))
        ticket = self._created_at("2027-06-28 15:00:00")  # Monday 17:00 (CEST), Tuesday 29 closed
        # 1 h on Monday, then 7 h on Wednesday: 17:00 (CEST)
        self.assertEqual(ticket.sla_deadline, datetime(2027, 6, 30, 15, 0))
        self.calendar.annual_closure_days = "12-24"
        self.calendar._generate_holidays([2027])
        self.assertFalse(closure.exists())
        with self.assertRaises(ValidationError):
            self.calendar.annual_closure_days = "29/06"
        with self.assertRaises(ValidationError):
            self.calendar.annual_closure_days = "02-30"

    def test_fixed_list_of_old_versions_is_dropped(self):
        old = self.Leave.create(
            {
                "name": "Capodanno 2026",
                "calendar_id": False,
                "date_from": datetime(2025, 12, 31, 23, 0),
                "date_to": datetime(2026, 1, 1, 22, 59, 59),
            }
        )
        self.env["ir.model.data"].create(
            {
                "module": "terasoft_portal",
                "name": "resource_calendar_leaves_it_2026_new_year",
                "model": "resource.calendar.leaves",
                "res_id": old.id,
                "noupdate": True,
            }
        )
        self.env["resource.calendar"]._cron_generate_holidays()
        self.assertFalse(old.exists())
