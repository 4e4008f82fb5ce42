"""Automatic assignment of tickets: each category has a team and an assignment method.

- ``default``: new tickets go to the category's default assignee (as before this feature);
- ``balanced``: new tickets go to the team member with the fewest open tickets (OPEN_STATES)
  who is not on leave today; ties go to the default assignee, then to the lowest user id. When
  the whole team is on leave, the default assignee takes the ticket if not on leave, else the
  ticket stays unassigned (the "Unassigned" filter of the ticket list shows it).

Leaves are Odoo's own time off of the ``resource`` module: a ``resource.calendar.leaves`` row
(time type "Time Off") of the user's ``resource.resource`` (``res.users.resource_ids``; the
community ``resource`` module has no employee: create one resource per support user, with the
user set, in Settings > Technical > Resources, and its leaves in Time Off). Any leave
overlapping today (in the time zone of the support calendar) counts. Company-wide closing days
(leaves without a resource) concern the whole team equally and are ignored.

Reassignment: when the category of a ticket changes, its assignee is recomputed from the new
category if the ticket is not taken in charge yet (state Open) and its assignee was chosen by
the system (``auto_assigned``) or it has none. An assignee written by hand (any write of
``user_id``: the form, Take in charge, RPC) clears ``auto_assigned`` and is never overridden.
"""

from collections import Counter
from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models

from .terasoft_ticket import OPEN_STATES

ASSIGNMENT_METHODS = [
    ("default", "Default assignee"),
    ("balanced", "Balanced: fewest open tickets"),
]


class TerasoftTicketCategory(models.Model):
    # pylint: disable-next=consider-merging-classes-inherited  # one file per concern (assignment)
    _inherit = "terasoft.ticket.category"

    assignment_method = fields.Selection(
        ASSIGNMENT_METHODS,
        required=True,
        default="default",
        help="Default assignee: every new ticket goes to the default assignee. Balanced: to the team "
        "member with the fewest open tickets who is not on leave today (ties: the default "
        "assignee, then the oldest user); with the whole team on leave, to the default assignee "
        "if present, else nobody.",
    )
    team_user_ids = fields.Many2many(
        "res.users",
        "terasoft_ticket_category_team_rel",
        "category_id",
        "user_id",
        "Team",
        domain=lambda self: [
            ("share", "=", False),
            ("all_group_ids", "in", self.env.ref("terasoft_portal.group_terasoft_portal_user").ids),
        ],
        help="Support users who share the tickets of this category (balanced assignment).",
    )

    def _next_assignee(self, load, away):
        """The user who gets the next ticket of this category (or an empty recordset).

        :param load: {user id: open tickets} of the team members (updated by the caller)
        :param away: set of the ids of the team members on leave today
        """
        self.ensure_one()
        if self.assignment_method != "balanced" or not self.team_user_ids:
            return self.user_id
        available = self.team_user_ids.filtered(lambda user: user.active and user.id not in away)
        if not available:
            return self.user_id if self.user_id.id not in away else self.user_id.browse()
        return min(available, key=lambda user: (load[user.id], user != self.user_id, user.id))


class ResUsers(models.Model):
    # pylint: disable-next=consider-merging-classes-inherited  # one file per concern (assignment)
    _inherit = "res.users"

    def _terasoft_open_ticket_load(self):
        """{user id: number of open tickets assigned} for ``self``, in one grouped query
        (a Counter: 0 for users without open ticket)."""
        if not self:
            return Counter()
        # sudo: the workload of the team is not a right of whoever creates the ticket (portal)
        groups = (
            self.env["terasoft.ticket"]
            .sudo()
            ._read_group(
                [("user_id", "in", self.ids), ("state", "in", OPEN_STATES)],
                ["user_id"],
                ["__count"],
            )
        )
        return Counter({user.id: count for user, count in groups})

    def _terasoft_on_leave_today(self):
        """Ids of the users of ``self`` with a time off (resource.calendar.leaves of their
        resource) overlapping today, in the time zone of the support calendar: one query."""
        if not self:
            return set()
        tz = pytz.timezone(self.env.company._ticket_calendar().tz or "Europe/Rome")
        today = fields.Datetime.now().replace(tzinfo=pytz.utc).astimezone(tz).date()
        start = tz.localize(datetime.combine(today, time.min)).astimezone(pytz.utc).replace(tzinfo=None)
        end = start + timedelta(days=1)
        # sudo: the leaves of the team decide the assignment, whoever creates the ticket
        leaves = (
            self.env["resource.calendar.leaves"]
            .sudo()
            ._read_group(
                [
                    ("resource_id.user_id", "in", self.ids),
                    ("time_type", "=", "leave"),
                    ("date_from", "<", end),
                    ("date_to", ">", start),
                ],
                ["resource_id"],
            )
        )
        return {resource.user_id.id for (resource,) in leaves}


class TerasoftTicket(models.Model):
    # pylint: disable-next=consider-merging-classes-inherited  # one file per concern (assignment)
    _inherit = "terasoft.ticket"

    auto_assigned = fields.Boolean(
        "Assigned Automatically",
        copy=False,
        readonly=True,
        help="The assignee was chosen by the category's assignment rule: a change of category "
        "before the ticket is taken in charge chooses again. Cleared when someone sets the assignee.",
    )

    # The balanced assignment counts the open tickets of a team: an index-only scan of this
    # index (at 100k tickets, 22.7k of them open for the counted users: 5.6 ms instead of 84 ms
    # with the single-column indexes on user_id and state).
    _assignee_state_idx = models.Index("(user_id, state) WHERE user_id IS NOT NULL")

    @api.model
    def _assignees_for(self, categories, leaving=None):
        """A function giving, for each category of ``categories``, the assignee of its next
        ticket. Reads the open tickets and the leaves of all the balanced teams at once (two
        queries, whatever the number of tickets and team members). ``leaving``: tickets being
        reassigned, not counted in the load of their current assignee."""
        categories = categories.sudo()  # the teams are configuration, read for any creator
        balanced = categories.filtered(lambda c: c.assignment_method == "balanced" and c.team_user_ids)
        team = balanced.team_user_ids
        load = team._terasoft_open_ticket_load()
        for ticket in leaving or ():
            if load[ticket.user_id.id] and ticket.state in OPEN_STATES:
                load[ticket.user_id.id] -= 1
        # the default assignees too: they take the tickets of a team that is all away
        away = (team | balanced.user_id)._terasoft_on_leave_today()

        def next_assignee(category):
            user = category._next_assignee(load, away)
            if user:
                load[user.id] += 1
            return user

        return next_assignee

    @api.model_create_multi
    def create(self, vals_list):
        todo = [vals for vals in vals_list if not vals.get("user_id") and vals.get("category_id")]
        if todo:
            categories = self.env["terasoft.ticket.category"].browse({vals["category_id"] for vals in todo})
            next_assignee = self._assignees_for(categories)
            for vals in todo:
                vals["user_id"] = next_assignee(categories.browse(vals["category_id"])).id
                vals["auto_assigned"] = True
        return super().create(vals_list)

    def write(self, vals):
        if "user_id" in vals and "auto_assigned" not in vals:
            vals = dict(vals, auto_assigned=False)  # set by hand: kept on later changes
        reassign = self.browse()
        if vals.get("category_id") and "user_id" not in vals:
            reassign = self.filtered(
                lambda t: (
                    t.state == "new" and (t.auto_assigned or not t.user_id) and t.category_id.id != vals["category_id"]
                )
            )
        result = super().write(vals)
        if reassign:
            next_assignee = self._assignees_for(reassign.category_id, leaving=reassign)
            by_user = {}
            for ticket in reassign:
                user = next_assignee(ticket.category_id)
                by_user[user] = by_user.get(user, self.browse()) | ticket
            for user, tickets in by_user.items():
                tickets.write({"user_id": user.id, "auto_assigned": True})
        return result
