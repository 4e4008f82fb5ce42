"""SLA targets of a ticket: one `terasoft.ticket.sla` row per ticket and target.

- ``first_response``: taken in charge (the move *Prendi in carico*, ``date_taken``). It mirrors the
  ticket's public fields ``sla_deadline`` / ``sla_at_risk_date`` / ``sla_status``, which stay the
  single source of the take-in-charge promise (portal, acknowledgement email, breach activity).
  Its clock never pauses: a new ticket can only be taken in charge, blocked, closed or discarded.
- ``resolution``: the ticket reaches Risolto (or is closed). Its clock stops in the pausing states
  of the policy (default Attesa cliente, Pianificato, Attesa programmazione) and once resolved;
  when the ticket leaves them the deadline moves by the working hours spent there
  (``paused_hours``). A resolved ticket that the customer reopens runs again from where it stopped.

Every change of state goes through ``_apply_move``, which calls ``_sla_track_move``: the one place
where the clocks stop and restart. Deadlines are `_plan_sla` of the support calendar from the
creation date, for ``target_hours + paused_hours`` working hours.
"""

from datetime import timedelta

from pytz import utc

from odoo import api, fields, models
from odoo.tools.date_utils import localized

from .terasoft_sla_policy import SLA_CRITERIA_FIELDS
from .terasoft_ticket import SLA_STATUSES

SLA_TARGETS = [("first_response", "Take in Charge"), ("resolution", "Resolution")]
# States in which the resolution target is reached, and those in which its clock stops for good.
RESOLVED_STATES = ("resolved", "closed")
STOPPED_STATES = ("resolved", "closed", "discarded")


class TerasoftTicketSla(models.Model):
    _name = "terasoft.ticket.sla"
    _description = "Ticket SLA Target"
    _order = "ticket_id desc, target"
    _rec_name = "target"

    ticket_id = fields.Many2one("terasoft.ticket", required=True, index=True, ondelete="cascade")
    policy_id = fields.Many2one("terasoft.sla.policy", "SLA Policy", index=True, ondelete="restrict")
    target = fields.Selection(SLA_TARGETS, required=True)
    target_hours = fields.Float("Target (Working Hours)", help="The policy's target when it was applied.")
    start_date = fields.Datetime("Clock Started On", help="Creation of the ticket.")
    deadline = fields.Datetime(index=True)
    at_risk_date = fields.Datetime("At Risk From")
    reached_date = fields.Datetime("Reached On", index="btree_not_null")
    status = fields.Selection(SLA_STATUSES, required=True, default="on_time", index=True)
    paused_hours = fields.Float("Paused (Working Hours)", help="Working hours spent in the pausing states.")
    paused_since = fields.Datetime(
        "Clock Stopped Since", help="Set while the clock is stopped: pausing state, resolved, closed, discarded."
    )
    breach_reported = fields.Boolean(export_string_translation=False)
    success_rate = fields.Float(
        "Success Rate (%)",
        compute="_compute_success_rate",
        store=True,
        precompute=True,
        aggregator="avg",
        help="100 for a target met, 0 for a target breached: its average is the success rate.",
    )
    # stored copies of the ticket for the reports (group by without joins)
    company_id = fields.Many2one(related="ticket_id.company_id", store=True, index=True, precompute=True)
    category_id = fields.Many2one(related="ticket_id.category_id", store=True, precompute=True)
    user_id = fields.Many2one(related="ticket_id.user_id", string="Assigned to", store=True, precompute=True)
    commercial_partner_id = fields.Many2one(
        related="ticket_id.commercial_partner_id", string="Customer Company", store=True, index=True, precompute=True
    )
    ticket_create_date = fields.Datetime(
        related="ticket_id.create_date", string="Ticket Created On", store=True, precompute=True
    )
    ticket_state = fields.Selection(related="ticket_id.state", string="Ticket Status")

    _ticket_target_uniq = models.Constraint("UNIQUE(ticket_id, target)", "A ticket has one row per SLA target.")

    @api.depends("status")
    def _compute_success_rate(self):
        for row in self:
            row.success_rate = 100.0 if row.status == "met" else 0.0

    def _status_at(self, moment):
        self.ensure_one()
        if self.reached_date:
            return "met" if self.reached_date <= self.deadline else "breached"
        if moment >= self.deadline:
            return "breached"
        if self.at_risk_date and moment >= self.at_risk_date:
            return "at_risk"
        return "on_time"

    def _sla_replan(self, memo=None):
        """Recompute the deadline: ``target_hours + paused_hours`` from the start."""
        for row in self:
            calendar = row.ticket_id.company_id._ticket_calendar()
            threshold = row.policy_id.at_risk_hours if row.policy_id else 1.0
            row.deadline, row.at_risk_date = self.env["terasoft.ticket"]._sla_plan(
                calendar, row.target_hours + row.paused_hours, threshold, row.start_date, memo
            )

    def _sla_paused_hours_until(self, now):
        """Working hours of the support calendar between ``paused_since`` and ``now``."""
        self.ensure_one()
        if not self.paused_since or now <= self.paused_since:
            return 0.0
        calendar = self.ticket_id.company_id._ticket_calendar()
        return calendar.get_work_hours_count(self.paused_since, now, compute_leaves=True)

    def _sla_resolution_move(self, ticket, now):
        """The ticket of this resolution row has just changed state."""
        self.ensure_one()
        stopped = ticket._sla_resolution_stopped(self.policy_id)
        if self.reached_date:
            if ticket.state in STOPPED_STATES:
                return  # resolved -> closed / discarded: stays reached
            # reopened (customer reply to the solution, reopen): the time spent resolved is paused
            self.paused_hours += self._sla_paused_hours_until(now)
            self.write({"reached_date": False, "paused_since": now if stopped else False})
            self._sla_replan()
            self.status = self._status_at(now)
            return
        if self.paused_since:
            self.paused_hours += self._sla_paused_hours_until(now)
            self._sla_replan()
        if ticket.state in RESOLVED_STATES:
            self.write({"reached_date": now, "paused_since": now})
        else:
            self.paused_since = now if stopped else False
        self.status = self._status_at(now)

    def _report_sla_breach(self):
        """One activity per breached row for the support manager of its company, in one create."""
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id("terasoft.ticket")
        today = fields.Date.context_today(self)
        vals_list = []
        for company, rows in self.grouped("company_id").items():
            manager = company._ticket_manager()
            if not manager:
                continue
            vals_list += [
                {
                    "res_model_id": model_id,
                    "res_id": row.ticket_id.id,
                    "activity_type_id": activity_type.id,
                    "user_id": manager.id,
                    "date_deadline": today,
                    "summary": self.env._("SLA breached: resolve %(ref)s", ref=row.ticket_id.number)
                    if row.target == "resolution"
                    else self.env._("SLA breached: take in charge %(ref)s", ref=row.ticket_id.number),
                }
                for row in rows
            ]
        # quick update: no "assigned to you" email per activity, the manager sees them in the systray
        self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(vals_list)
        self.write({"breach_reported": True})


class TerasoftTicket(models.Model):
    # pylint: disable-next=consider-merging-classes-inherited  # one file per concern (SLA targets)
    _inherit = "terasoft.ticket"

    sla_ids = fields.One2many("terasoft.ticket.sla", "ticket_id", "SLA Targets", readonly=True)

    # ------------------------------------------------------------------ planning helpers

    @api.model
    def _sla_plan(self, calendar, hours, threshold, start, memo=None):
        """(deadline, at-risk date) for ``hours`` working hours from ``start``, at risk when less
        than ``threshold`` hours are left; ``_plan_sla`` once when the threshold is one hour (its
        own at-risk date), twice otherwise. ``memo`` (a dict) shares the results of equal keys."""
        key = (calendar.id, hours, threshold, start)
        if memo is not None and key in memo:
            return memo[key]
        deadline, at_risk = self._plan_sla(calendar, hours, start)
        if threshold != 1:
            at_risk = self._sla_hours_before(calendar, deadline, threshold) if hours > threshold else start
        if memo is not None:
            memo[key] = (deadline, at_risk)
        return deadline, at_risk

    @api.model
    def _sla_hours_before(self, calendar, end, hours):
        """The moment ``hours`` working hours of ``calendar`` before ``end`` (naive UTC): the at-risk
        date of a deadline, walking back over the work intervals from the deadline (one window
        for a threshold of hours, where walking forward from the creation again would cost one
        calendar read per window up to the deadline). At a break, the end of the earlier interval."""
        window, remaining, origin = timedelta(days=3), hours, localized(end)
        for n in range(100):
            window_end = origin - window * n
            intervals = calendar._work_intervals_batch(window_end - window, window_end)[False]
            for begin, stop, _meta in reversed(list(intervals)):
                length = (stop - begin).total_seconds() / 3600
                if remaining < length:
                    return (stop - timedelta(hours=remaining)).astimezone(utc).replace(tzinfo=None)
                remaining -= length
        return end - timedelta(hours=hours)

    def _sla_first_response_target(self, policy=None):
        """(hours, at-risk threshold) of this ticket's take-in-charge target."""
        self.ensure_one()
        if policy is None:
            policy = self.env["terasoft.sla.policy"]._sla_policy_for(self)[self]
        return policy._first_response_target(self)

    def _sla_resolution_stopped(self, policy):
        """Whether the resolution clock of this ticket is stopped in its current state."""
        return self.state in STOPPED_STATES or self.state in policy._pause_states()

    # ------------------------------------------------------------------ rows

    def _sla_row_values(self, policy, target, now, memo):
        """Values of a new row of ``target`` for this ticket under ``policy``."""
        self.ensure_one()
        if target == "first_response":
            hours = self._sla_first_response_target(policy)[0]
            return {
                "ticket_id": self.id,
                "policy_id": policy.id,
                "target": target,
                "target_hours": hours,
                "start_date": self.create_date,
                **self._sla_first_response_mirror(now),
            }
        start = self.create_date or now
        deadline, at_risk = self._sla_plan(
            self.company_id._ticket_calendar(), policy.resolution_hours, policy.at_risk_hours, start, memo
        )
        vals = {
            "ticket_id": self.id,
            "policy_id": policy.id,
            "target": target,
            "target_hours": policy.resolution_hours,
            "start_date": start,
            "deadline": deadline,
            "at_risk_date": at_risk,
            # a ticket created resolved or closed (imports, data): reached when it says so
            "reached_date": (self.date_resolved or self.date_closed or now) if self.state in RESOLVED_STATES else False,
        }
        vals["paused_since"] = (vals["reached_date"] or now) if self._sla_resolution_stopped(policy) else False
        vals["status"] = self.env["terasoft.ticket.sla"].new(vals)._status_at(now)
        return vals

    def _sla_first_response_mirror(self, now):
        """The first-response row's values: the ticket's take-in-charge promise."""
        self.ensure_one()
        return {
            "deadline": self.sla_deadline,
            "at_risk_date": self.sla_at_risk_date,
            "status": self.sla_status or "on_time",
            "reached_date": self.date_taken,
            # the clock runs only while the ticket is new and not taken in charge
            "paused_since": False if (self.state == "new" and not self.date_taken) else (self.date_taken or now),
        }

    def _sla_create_rows(self, policies=None):
        """Create the SLA rows of new tickets: one batched create; one calendar walk per distinct
        (calendar, hours, start)."""
        if not self:
            return
        now = fields.Datetime.now()
        policies = policies or self.env["terasoft.sla.policy"]._sla_policy_for(self)
        memo, vals_list = {}, []
        for ticket in self:
            policy = policies[ticket]
            vals_list.append(ticket._sla_row_values(policy, "first_response", now, memo))
            if policy.resolution_hours > 0:
                vals_list.append(ticket._sla_row_values(policy, "resolution", now, memo))
        # sudo: the rows are facts of the system, written whoever creates the ticket
        self.env["terasoft.ticket.sla"].sudo().create(vals_list)

    @api.model_create_multi
    def create(self, vals_list):
        tickets = super().create(vals_list)
        tickets._sla_create_rows()
        return tickets

    def _sla_portal_targets(self):
        """What the portal shows of the SLA: [{target, deadline, reached_date, paused}] for the
        targets not reached yet, take in charge first. No policy name: policies are internal."""
        self.ensure_one()
        if self.state in ("closed", "discarded"):
            return []
        # sudo: the caller already holds the ticket (read access or token); portal users have no
        # access to the SLA rows themselves, and only these customer-facing values leave here
        rows = self.sudo().sla_ids.sorted(lambda row: row.target != "first_response")
        return [
            {"target": row.target, "deadline": row.deadline, "paused": bool(row.paused_since)}
            for row in rows
            if not row.reached_date and row.deadline and (row.target == "resolution" or self.state == "new")
        ]

    def write(self, vals):
        result = super().write(vals)
        if any(name in vals for name in SLA_CRITERIA_FIELDS):
            self._sla_reevaluate()
        elif "sla_status" in vals and self:
            self._sla_mirror_status(vals["sla_status"])
        return result

    def _sla_mirror_status(self, status):
        """The system wrote ``sla_status`` (the take-in-charge scan, by batches of 500 tickets):
        the take-in-charge rows not reached follow, in one UPDATE per batch (the ORM would write
        them 100 at a time, a query per 100 tickets on top of the ticket's own)."""
        rows = self.env["terasoft.ticket.sla"]
        rows.flush_model(["ticket_id", "target", "reached_date", "status"])
        self.env.cr.execute(
            """UPDATE terasoft_ticket_sla
                  SET status = %s, success_rate = %s, write_uid = %s, write_date = NOW() AT TIME ZONE 'UTC'
                WHERE ticket_id IN %s AND target = 'first_response' AND reached_date IS NULL AND status != %s""",
            [status, 100.0 if status == "met" else 0.0, self.env.uid, tuple(self.ids), status],
        )
        rows.invalidate_model(["status", "success_rate", "write_uid", "write_date"])

    def _sla_reevaluate(self):
        """The criteria of the tickets changed: apply the policy that matches now to the targets
        not yet reached (the take-in-charge promise is the ticket's own, recomputed by
        ``_compute_sla_deadline``; the resolution target gets the new hours, keeping the hours
        already paused; a resolution target appears or disappears with the policy's)."""
        tickets = self.sudo()
        now = fields.Datetime.now()
        policies = self.env["terasoft.sla.policy"]._sla_policy_for(tickets)
        rows = tickets.sla_ids
        memo, to_create, to_unlink = {}, [], rows.browse()
        for ticket in tickets:
            policy = policies[ticket]
            mine = rows.filtered(lambda row, ticket=ticket: row.ticket_id == ticket)
            first = mine.filtered(lambda row: row.target == "first_response")
            if first and not first.reached_date:
                first.write(
                    dict(
                        ticket._sla_first_response_mirror(now),
                        policy_id=policy.id,
                        target_hours=ticket._sla_first_response_target(policy)[0],
                    )
                )
            resolution = mine.filtered(lambda row: row.target == "resolution")
            if resolution.reached_date:
                continue
            if policy.resolution_hours <= 0:
                to_unlink |= resolution
            elif not resolution:
                to_create.append(ticket._sla_row_values(policy, "resolution", now, memo))
            elif (resolution.policy_id, resolution.target_hours) != (policy, policy.resolution_hours):
                resolution.policy_id, resolution.target_hours = policy, policy.resolution_hours
                resolution._sla_replan(memo)
                resolution.status = resolution._status_at(resolution.paused_since or now)
        to_unlink.unlink()
        # sudo: SLA rows are written by the system only (support users read them), for tickets
        # whose write the caller was allowed
        self.env["terasoft.ticket.sla"].sudo().create(to_create)

    def _sla_track_move(self, previous_states, now):
        """After a move of ``self`` (``previous_states``: {ticket id: state before}): stop, restart
        or reach the SLA clocks. Called by ``_apply_move`` only."""
        # sudo: the clocks follow a move the caller was allowed to make; nobody writes SLA rows
        rows = self.env["terasoft.ticket.sla"].sudo().search([("ticket_id", "in", self.ids)])
        for row in rows:
            ticket = row.ticket_id
            if ticket.state == previous_states.get(ticket.id):
                continue
            if row.target == "first_response":
                if not row.reached_date:
                    row.write(ticket._sla_first_response_mirror(now))
                continue
            row._sla_resolution_move(ticket, now)

    # ------------------------------------------------------------------ breach scan

    @api.model
    def _cron_sla_scan(self):
        """The take-in-charge scan of the ticket (its public fields, which its rows mirror, and its
        activity), then the resolution rows: on time -> at risk -> breached, and one activity per
        breached resolution target for the support manager, never twice (`breach_reported`).
        Batched by ``_cron_batches``: a fixed number of queries
        per batch, whatever its size."""
        result = super()._cron_sla_scan()
        tickets = self.sudo()
        rows = self.env["terasoft.ticket.sla"].sudo()
        now = fields.Datetime.now()
        # the take-in-charge rows follow the ticket's own scan above (see ``write``)
        running = [("target", "=", "resolution"), ("reached_date", "=", False), ("paused_since", "=", False)]
        job = "SLA check"
        for condition, values in (
            ([("deadline", "<=", now), ("status", "!=", "breached")], {"status": "breached"}),
            ([("at_risk_date", "<=", now), ("deadline", ">", now), ("status", "=", "on_time")], {"status": "at_risk"}),
        ):
            domain = running + condition
            tickets._cron_batches(
                [("sla_ids", "any", domain)],
                lambda batch, domain=domain, values=values: rows.search(
                    [("ticket_id", "in", batch.ids)] + domain
                ).write(values),
                job,
            )
        unreported = [("target", "=", "resolution"), ("status", "=", "breached"), ("breach_reported", "=", False)]
        tickets._cron_batches(
            [("sla_ids", "any", unreported)],
            lambda batch: rows.search([("ticket_id", "in", batch.ids)] + unreported)._report_sla_breach(),
            job,
        )
        return result

    @api.model
    def _terasoft_backfill_sla(self):
        """Give the tickets that have no SLA row (databases older than the SLA policies) their
        take-in-charge row, copied from the ticket's own fields under the default policy: one
        INSERT ... SELECT, whatever the number of tickets (idempotent: run at each update)."""
        policy_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "terasoft_portal.sla_policy_default", raise_if_not_found=False
        )
        self.env.flush_all()
        self.env.cr.execute(
            """
            INSERT INTO terasoft_ticket_sla (
                ticket_id, policy_id, target, target_hours, start_date, deadline, at_risk_date,
                reached_date, status, paused_hours, paused_since, breach_reported, success_rate,
                company_id, category_id, user_id, commercial_partner_id, ticket_create_date,
                create_uid, create_date, write_uid, write_date)
            SELECT t.id, %(policy)s, 'first_response',
                   COALESCE(LEAST(
                       NULLIF(GREATEST(c.ticket_sla_hours, 0), 0),
                       CASE WHEN t.priority = '2' THEN NULLIF(GREATEST(c.ticket_sla_hours_urgent, 0), 0) END,
                       CASE WHEN t.importance = 'blocking'
                            THEN NULLIF(GREATEST(c.ticket_sla_hours_blocking, 0), 0) END), 8),
                   t.create_date, t.sla_deadline, t.sla_at_risk_date,
                   t.date_taken, COALESCE(t.sla_status, 'on_time'), 0,
                   CASE WHEN t.state = 'new' AND t.date_taken IS NULL THEN NULL
                        ELSE COALESCE(t.date_taken, t.write_date, t.create_date) END,
                   COALESCE(t.sla_breach_reported, FALSE),
                   CASE WHEN t.sla_status = 'met' THEN 100.0 ELSE 0.0 END,
                   t.company_id, t.category_id, t.user_id, t.commercial_partner_id, t.create_date,
                   %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
              FROM terasoft_ticket t
              JOIN res_company c ON c.id = t.company_id
             WHERE NOT EXISTS (SELECT 1 FROM terasoft_ticket_sla s WHERE s.ticket_id = t.id)
            """,
            {"policy": policy_id or None, "uid": self.env.uid},
        )
        if self.env.cr.rowcount:
            self.env["terasoft.ticket.sla"].invalidate_model()
