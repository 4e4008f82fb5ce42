from datetime import timedelta

from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    # Ticket workflow settings of the support company (edited in Settings > Assistenza).
    ticket_calendar_id = fields.Many2one(
        "resource.calendar",
        "Support Working Hours",
        help="Working hours and public holidays used for the take-in-charge deadline and the "
        "automatic closure. Empty: the support hours shipped with the module.",
    )
    ticket_sla_hours = fields.Float(
        "Take-in-charge Target",
        default=8.0,
        help="Working hours within which a new ticket must be taken in charge.",
    )
    ticket_sla_hours_urgent = fields.Float("Target for Urgent Tickets", default=8.0)
    ticket_sla_hours_blocking = fields.Float("Target for Blocking Tickets", default=8.0)
    ticket_manager_id = fields.Many2one(
        "res.users",
        "Support Manager",
        domain=[("share", "=", False)],
        help="Receives an activity for every ticket not taken in charge in time.",
    )
    ticket_autoclose_days = fields.Integer(
        "Automatic Closure After",
        default=3,
        help="Days after which a resolved ticket without customer comments is closed.",
    )
    ticket_autoclose_count = fields.Selection(
        [("working", "Working days"), ("calendar", "Calendar days")],
        "Count Automatic Closure In",
        default="working",
        required=True,
    )
    ticket_discard_retention_days = fields.Integer(
        "Keep Discarded Tickets For",
        default=30,
        help="Days after which discarded tickets are deleted with their messages and attachments.",
    )
    ticket_email_category_id = fields.Many2one(
        "terasoft.ticket.category",
        "Category of Email Tickets",
        help="Category given to tickets created from incoming emails, to be classified by support.",
    )

    def _ticket_calendar(self):
        """The working calendar of the support company (module default as fallback)."""
        self.ensure_one()
        # not env.ref(): it checks that the record exists with a query at each call, and the
        # notification templates call this once per ticket; the xmlid lookup is cached (and
        # dropped when the calendar is deleted)
        default = self.env["ir.model.data"]._xmlid_to_res_id(
            "terasoft_portal.resource_calendar_support", raise_if_not_found=False
        )
        return self.ticket_calendar_id or self.env["resource.calendar"].browse(default) or self.resource_calendar_id

    def _ticket_sla_hours(self, priority, importance):
        """Take-in-charge target in working hours for a ticket of ``priority``/``importance``."""
        self.ensure_one()
        hours = [self.ticket_sla_hours]
        if priority == "2":
            hours.append(self.ticket_sla_hours_urgent)
        if importance == "blocking":
            hours.append(self.ticket_sla_hours_blocking)
        return min(h for h in hours if h > 0) if any(h > 0 for h in hours) else 8.0

    def _ticket_email_category(self):
        self.ensure_one()
        return (
            self.ticket_email_category_id
            or self.env.ref("terasoft_portal.ticket_category_to_classify", raise_if_not_found=False)
            or self.env["terasoft.ticket.category"].search([], limit=1)
        )

    def _ticket_manager(self):
        """The user who receives SLA breach activities: the setting, else a support manager."""
        self.ensure_one()
        if self.ticket_manager_id:
            return self.ticket_manager_id
        group = self.env.ref("terasoft_portal.group_terasoft_portal_manager")
        managers = group.all_user_ids.filtered(lambda u: not u.share and u.active and not u._is_superuser())
        return managers.filtered(lambda u: self in u.company_ids)[:1] or managers[:1]

    def _ticket_autoclose_limit(self, now, days=None):
        """The resolution date before which a resolved ticket has waited ``days`` (default: the
        setting) without a customer comment at ``now``; counted in working days of the support
        calendar (``days`` x its hours per day) or in calendar days, as set."""
        self.ensure_one()
        days = self.ticket_autoclose_days if days is None else days
        if self.ticket_autoclose_count == "calendar":
            return now - timedelta(days=days)
        calendar = self._ticket_calendar()
        if days <= 0:
            return now
        return calendar.plan_hours(-days * (calendar.hours_per_day or 8.0), now, compute_leaves=True) or now

    def _ticket_autoclose_date(self, date_resolved):
        """When a ticket resolved at ``date_resolved`` has waited the delay of the setting: the
        inverse of ``_ticket_autoclose_limit`` (same days, same calendar), i.e. the first moment
        at which the auto-close cron finds it past its limit."""
        self.ensure_one()
        days = self.ticket_autoclose_days
        if self.ticket_autoclose_count == "calendar" or days <= 0:
            return date_resolved + timedelta(days=max(days, 0))
        calendar = self._ticket_calendar()
        return (
            calendar.plan_hours(days * (calendar.hours_per_day or 8.0), date_resolved, compute_leaves=True)
            or date_resolved
        )
