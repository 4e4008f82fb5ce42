"""Public holidays that never run out: generated into the support calendars every month.

The Italian public holidays come from the ``holidays`` library (Easter Monday and every
national holiday, including the ones a law adds), the company's own closures (e.g. 29 June,
patron saints of Rome) from the calendar's "Annual Closures" setting. Both become time off
(resource.calendar.leaves) of the calendar for the current and the next year, flagged
``holiday_generated``: the generator creates, updates and deletes only those, so the
leaves an administrator enters by hand are never touched.

The calendar's working days are also cached here (``_ticket_work_intervals_day``): the SLA
walk and the service reports' working hours read them, and any change of a calendar, its
attendances or time off clears them (``terasoft.work.days.cache.mixin``).
"""

import logging
import re
from bisect import bisect_right
from datetime import date, datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import ormcache
from odoo.tools.date_utils import localized

_logger = logging.getLogger(__name__)

try:
    import holidays as holidays_lib
except ImportError:  # declared in the manifest's external_dependencies
    holidays_lib = None

HOLIDAY_COUNTRY = "IT"
HOLIDAY_LANGUAGE = "it_IT"
CLOSURE_RE = re.compile(r"^(\d{2})-(\d{2})$")


class TerasoftWorkDaysCacheMixin(models.AbstractModel):
    """For the records that shape a calendar's working days (the calendar, its attendances,
    any time off): creating, changing or deleting one clears the cached working days
    (``resource.calendar._ticket_work_intervals_day``) in every worker."""

    _name = "terasoft.work.days.cache.mixin"
    _description = "Working Days Cache"

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        return super().create(vals_list)

    def write(self, vals):
        self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()


class ResourceCalendar(models.Model):
    _name = "resource.calendar"
    _inherit = ["resource.calendar", "terasoft.work.days.cache.mixin"]

    annual_closure_days = fields.Char(
        "Annual Closures",
        help="Days the office is closed every year besides the national public holidays, as "
        "MM-DD separated by commas (e.g. 06-29 for Saints Peter and Paul, patron saints of Rome). "
        "The public holidays and these closures are added to the calendar's time off for the "
        "current and the next year, every month.",
    )

    @api.constrains("annual_closure_days")
    def _check_annual_closure_days(self):
        for calendar in self:
            try:
                calendar._annual_closures()
            except ValueError as error:
                raise ValidationError(
                    self.env._("Annual closures: write the days as MM-DD separated by commas (%(error)s).", error=error)
                ) from error

    def _annual_closures(self):
        """[(month, day)] of ``annual_closure_days``; ValueError when a day is not MM-DD."""
        self.ensure_one()
        closures = []
        for item in (self.annual_closure_days or "").replace(";", ",").split(","):
            item = item.strip()
            if not item:
                continue
            match = CLOSURE_RE.match(item)
            if not match:
                raise ValueError(item)
            month, day = int(match[1]), int(match[2])
            date(2028, month, day)  # a leap year: 02-29 is valid, 02-30 is not (ValueError)
            closures.append((month, day))
        return closures

    def _holiday_days(self, years):
        """{date: name} of the public holidays and the annual closures of the calendar."""
        self.ensure_one()
        days = {}
        if holidays_lib is not None:
            days.update(holidays_lib.country_holidays(HOLIDAY_COUNTRY, years=years, language=HOLIDAY_LANGUAGE))
        else:
            _logger.warning("Python library 'holidays' missing: no public holidays generated.")
        # in the company's language, as the holiday names (the cron runs without a user language)
        lang = (self.company_id or self.env.company).partner_id.lang
        closure = self.with_context(lang=lang).env._("Annual closure")
        for year in years:
            for month, day in self._annual_closures():
                try:
                    days.setdefault(date(year, month, day), closure)
                except ValueError:  # 29 February out of leap years
                    continue
        return days

    def _generate_holidays(self, years=None):
        """Create, update or delete the generated leaves of ``years`` (default: the current and
        the next year) so that they are exactly the public holidays and annual closures; a day
        already covered by a leave entered by hand is left to that leave. Idempotent."""
        if not years:
            this_year = fields.Date.context_today(self).year
            years = [this_year, this_year + 1]
        years = sorted(set(years))
        Leave = self.env["resource.calendar.leaves"]
        to_create = []
        stale = Leave
        for calendar in self:
            tz = pytz.timezone(calendar.tz or "UTC")

            def utc(day, at, tz=tz):
                return tz.localize(datetime.combine(day, at)).astimezone(pytz.utc).replace(tzinfo=None)

            # one search per calendar: every leave of the calendar in the years (with a margin
            # of a day for the time zone), then matched by local date
            existing = Leave.search(
                [
                    ("calendar_id", "=", calendar.id),
                    ("resource_id", "=", False),
                    ("date_to", ">=", datetime(years[0], 1, 1) - timedelta(days=1)),
                    ("date_from", "<=", datetime(years[-1], 12, 31) + timedelta(days=1)),
                ]
            )
            generated = {}
            for leave in existing.filtered("holiday_generated"):
                day = pytz.utc.localize(leave.date_from).astimezone(tz).date()
                if day.year not in years:
                    continue
                if day in generated:
                    stale |= leave  # a duplicate (e.g. two runs at once)
                else:
                    generated[day] = leave
            manual = existing.filtered(lambda leave: not leave.holiday_generated)
            for day, name in sorted(calendar._holiday_days(years).items()):
                date_from, date_to = utc(day, time.min), utc(day, time(23, 59, 59))
                leave = generated.pop(day, None)
                if any(m.date_from <= date_from and m.date_to >= date_to for m in manual):
                    stale |= leave or Leave
                    continue
                if leave:
                    vals = {"name": name, "date_from": date_from, "date_to": date_to, "time_type": "leave"}
                    changed = {k: v for k, v in vals.items() if leave[k] != v}
                    if changed:
                        leave.write(changed)
                else:
                    to_create.append(
                        {
                            "name": name,
                            "calendar_id": calendar.id,
                            "resource_id": False,
                            "date_from": date_from,
                            "date_to": date_to,
                            "time_type": "leave",
                            "holiday_generated": True,
                        }
                    )
            for leave in generated.values():  # no longer a holiday or a closure
                stale |= leave
        stale.unlink()
        created = Leave.create(to_create)
        return created

    @ormcache("self.id", "day")
    def _ticket_work_intervals_day(self, day):
        """The work intervals of the calendar during the UTC ``day`` (a date), time off of the
        whole calendar deducted, as naive UTC ``(begin, end)`` pairs: what
        ``_work_intervals_batch`` gives from that midnight UTC to the next.

        Cached per calendar and day (the SLA of every ticket created walks the same few days
        of the same calendar; UTC days, so that the walk needs not even the calendar's time
        zone once the days are cached): the cache is cleared whenever a calendar, its
        attendances or any time off changes (``terasoft.work.days.cache.mixin``)."""
        self.ensure_one()
        # sudo: the result is shared by every user; a calendar and its public holidays are
        # no secret (any ticket's SLA is computed from them). In the calendar's own time zone,
        # whatever the caller's context says (hr's employee_timezone would change the result).
        calendar = self.sudo().with_context(employee_timezone=False)
        start = pytz.utc.localize(datetime.combine(day, time.min))
        return tuple(
            (begin.astimezone(pytz.utc).replace(tzinfo=None), stop.astimezone(pytz.utc).replace(tzinfo=None))
            for begin, stop, _meta in calendar._work_intervals_batch(start, start + timedelta(days=1))[False]
        )

    def _terasoft_work_intervals(self, low, high):
        """(starts, ends, worked_before) of the calendar's work intervals from the UTC day of
        ``low`` to the UTC day of ``high`` (naive UTC): timestamps, and the seconds worked
        before each interval. Built from the cached working days the SLA walk uses too
        (``_ticket_work_intervals_day``, cleared when a calendar, attendance or time off
        changes): a batch of moves on old tickets (the auto-close of tickets created years
        ago) does not expand the calendar again (Odoo's expansion costs about 2 ms per day)."""
        starts, ends, worked_before = [], [], [0.0]
        day, last = low.date(), high.date()
        while day <= last:
            for begin, end in self._ticket_work_intervals_day(day):
                starts.append(begin.replace(tzinfo=pytz.utc).timestamp())
                ends.append(end.replace(tzinfo=pytz.utc).timestamp())
                worked_before.append(worked_before[-1] + ends[-1] - starts[-1])
            day += timedelta(days=1)
        return starts, ends, worked_before

    def _terasoft_work_hours(self, spans):
        """[working hours of the calendar between start and end] for each (start, end) of
        ``spans`` (naive UTC datetimes; 0 when one is missing or end <= start), leaves
        included as ``plan_hours`` counts them. One expansion of the work intervals over the
        span of all of them (from the cached working days), then a bisection
        per span: the cost hardly grows with their number."""
        self.ensure_one()
        valid = [(start, end) for start, end in spans if start and end and end > start]
        if not valid:
            return [0.0] * len(spans)
        low, high = min(start for start, _end in valid), max(end for _start, end in valid)
        starts, ends, worked_before = self._terasoft_work_intervals(low, high)

        def worked(moment):
            """Seconds of work from the start of the intervals to ``moment``."""
            stamp = localized(moment).timestamp()
            index = bisect_right(starts, stamp)
            if not index:
                return 0.0
            return worked_before[index - 1] + min(stamp, ends[index - 1]) - starts[index - 1]

        return [
            round((worked(end) - worked(start)) / 3600, 4) if start and end and end > start else 0.0
            for start, end in spans
        ]

    @api.model
    def _cron_generate_holidays(self):
        """Public holidays and annual closures of the current and the next year in the support
        calendar of every company (monthly: a failed run is retried the month after; the year
        ahead is always there)."""
        self._drop_fixed_holiday_list()
        # every company: a handful of records, read once a month
        companies = self.env["res.company"].search([])  # pylint: disable=no-search-all
        calendars = self.browse()
        for company in companies:
            calendars |= company._ticket_calendar()
        calendars._generate_holidays()

    @api.model
    def _drop_fixed_holiday_list(self):
        """Delete the fixed 2026-2027 list of the first versions (global leaves with xmlids
        ``resource_calendar_leaves_it_*``), replaced by the generated leaves."""
        data = (
            self.env["ir.model.data"]
            .sudo()
            .search(
                [  # sudo: reading xmlids, not records
                    ("module", "=", "terasoft_portal"),
                    ("model", "=", "resource.calendar.leaves"),
                    ("name", "=like", "resource_calendar_leaves_it_%"),
                ]
            )
        )
        if data:
            self.env["resource.calendar.leaves"].browse(data.mapped("res_id")).exists().unlink()
            data.unlink()


class ResourceCalendarAttendance(models.Model):
    _name = "resource.calendar.attendance"
    _inherit = ["resource.calendar.attendance", "terasoft.work.days.cache.mixin"]


class ResourceCalendarLeaves(models.Model):
    _name = "resource.calendar.leaves"
    _inherit = ["resource.calendar.leaves", "terasoft.work.days.cache.mixin"]

    holiday_generated = fields.Boolean(
        "Generated Holiday",
        readonly=True,
        copy=False,
        help="Public holiday or annual closure generated from the calendar every month: change "
        "the calendar's Annual Closures rather than this time off. Time off entered by hand on "
        "the same day takes precedence.",
    )
