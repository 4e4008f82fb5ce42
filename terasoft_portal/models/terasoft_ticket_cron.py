"""terasoft.ticket, continued: the periodic work (SLA scan, auto-close, purge of discarded
tickets) and the demo history. The state machine itself is in terasoft_ticket.py."""
import logging
from datetime import timedelta

from odoo import api, fields, models

from .terasoft_ticket import CRON_BATCH_SIZE, WORKFLOW, workflow_paths

_logger = logging.getLogger(__name__)


class TerasoftTicket(models.Model):
    _inherit = "terasoft.ticket"

    # ------------------------------------------------------------------ crons

    def _cron_batches(self, domain, process):
        """Run ``process(batch)`` on the tickets matching ``domain``, CRON_BATCH_SIZE at a time,
        in id order.

        Each batch starts after the last id of the previous one, so that a ticket ``process``
        could not take out of ``domain`` is not seen twice and the searches cost the same
        whatever the number done. Commits after each batch (``ir.cron._commit_progress``),
        then empties the ORM cache, so that memory does not grow with the number of tickets;
        stops when the cron's time is up. Returns the count.
        """
        done = last_id = 0
        while True:
            batch = self.search(domain + [("id", ">", last_id)], limit=CRON_BATCH_SIZE, order="id")
            if not batch:
                break
            process(batch)
            done += len(batch)
            last_id = batch[-1].id
            remaining = self.search_count(domain + [("id", ">", last_id)])
            time_left = self.env["ir.cron"]._commit_progress(len(batch), remaining=remaining)
            self.env.invalidate_all()
            if not time_left or not remaining:
                break
        return done

    @api.model
    def _cron_sla_scan(self):
        """Every 15 minutes: refresh `sla_status` of the tickets not taken in charge and give the
        support manager one activity per breached ticket (never twice: `sla_breach_reported`)."""
        self = self.sudo()  # noqa: PLW0642
        now = fields.Datetime.now()
        base = [("state", "=", "new"), ("date_taken", "=", False)]
        self._cron_batches(base + [("sla_deadline", "<=", now), ("sla_status", "!=", "breached")],
                           lambda tickets: tickets.write({"sla_status": "breached"}))
        self._cron_batches(base + [("sla_at_risk_date", "<=", now), ("sla_deadline", ">", now),
                                   ("sla_status", "=", "on_time")],
                           lambda tickets: tickets.write({"sla_status": "at_risk"}))
        self._cron_batches(base + [("sla_status", "=", "breached"), ("sla_breach_reported", "=", False)],
                           lambda tickets: tickets._report_sla_breach())

    def _report_sla_breach(self):
        """Schedule one activity per ticket for its company's support manager, in one create."""
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id(self._name)
        today = fields.Date.context_today(self)
        vals_list = []
        for company, tickets in self.grouped("company_id").items():
            manager = company._ticket_manager()
            vals_list += [{
                "res_model_id": model_id,
                "res_id": ticket.id,
                "activity_type_id": activity_type.id,
                "user_id": manager.id,
                "date_deadline": today,
                "summary": self.env._("SLA breached: take in charge %(ref)s", ref=ticket.number),
            } for ticket in tickets if manager]
        # quick update: no "assigned to you" email per activity, the manager sees them in the systray
        self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(vals_list)
        self.write({"sla_breach_reported": True})

    def _get_autoclose_date(self):
        """When this resolved ticket closes by itself if the customer neither closes it nor
        comments (None when not resolved): the rule of ``_cron_autoclose`` (company setting,
        working days of the support calendar). The portal tells the customer this date."""
        self.ensure_one()
        if self.state != "resolved" or not self.date_resolved:
            return None
        return self.company_id._ticket_autoclose_date(self.date_resolved)

    def _autoclose_due(self, now):
        """The tickets of ``self`` (resolved, one company) whose auto-close date is past at
        ``now``. The date grows with the resolution date: when the latest resolved is due, all
        are (one calendar computation per batch instead of one per ticket)."""
        if not self:
            return self
        latest = max(self, key=lambda ticket: ticket.date_resolved)
        if latest._get_autoclose_date() <= now:
            return self
        return self.filtered(lambda ticket: ticket._get_autoclose_date() <= now)

    @api.model
    def _cron_autoclose(self):
        """Close resolved tickets after the delay of their company without customer comments
        (a comment moves them back to `waiting_support`); remind the customer one working day
        (or calendar day) before."""
        self = self.sudo()  # noqa: PLW0642 - the automatic moves are the system's
        now = fields.Datetime.now()
        for company in self.env["res.company"].sudo().search([]):
            resolved = [("company_id", "=", company.id), ("state", "=", "resolved")]
            limit = company._ticket_autoclose_limit(now)
            # the domain finds them by index; _get_autoclose_date (what the portal shows) decides
            self._cron_batches(resolved + [("date_resolved", "<=", limit)],
                               lambda tickets: tickets._autoclose_due(now)._apply_move("autoclose", date_closed=now))
            if company.ticket_autoclose_days > 1:
                reminder_limit = company._ticket_autoclose_limit(now, company.ticket_autoclose_days - 1)
                self._cron_batches(
                    resolved + [("date_resolved", "<=", reminder_limit), ("autoclose_reminder_sent", "=", False)],
                    lambda tickets: tickets._send_autoclose_reminder(),
                )

    @api.model
    def _cron_purge_discarded(self):
        """Delete discarded tickets older than the retention of their company, with their
        messages, attachments and state logs. Each deletion is logged in the server log and in
        Settings > Technical > Logging (`ir.logging`, name `terasoft_portal.purge`)."""
        self = self.sudo()  # noqa: PLW0642
        now = fields.Datetime.now()
        for company in self.env["res.company"].sudo().search([]):
            limit = now - timedelta(days=company.ticket_discard_retention_days)
            self._cron_batches(
                [("company_id", "=", company.id), ("state", "=", "discarded"), ("date_discarded", "<=", limit)],
                lambda tickets: tickets._purge(),
            )

    def _purge(self):
        numbers = ", ".join(self.mapped("number"))
        attachments = self.env["ir.attachment"].sudo().search(
            [("res_model", "=", self._name), ("res_id", "in", self.ids)])
        count = len(self)
        # mail.thread's unlink deletes messages, followers and activities; base unlink the
        # attachments of the records; the attachments of messages are among the latter.
        attachments.unlink()
        self.sudo().unlink()
        text = f"Purged {count} discarded tickets: {numbers}"
        _logger.info(text)
        self.env["ir.logging"].sudo().create({
            "name": "terasoft_portal.purge",
            "type": "server",
            "level": "INFO",
            "dbname": self.env.cr.dbname,
            "message": text,
            "path": __name__,
            "func": "_cron_purge_discarded",
            "line": "0",
        })

    # ------------------------------------------------------------------ demo

    @api.model
    def _demo_fill_workflow_history(self):
        """Give the demo tickets a past: creation dates, dates of their moves and the state logs
        of the shortest WORKFLOW path to their state. Called once by the demo data."""
        now = fields.Datetime.now()
        Log = self.env["terasoft.ticket.state.log"].sudo()
        tickets = self.sudo().search([("state_log_ids", "=", False)], order="id")
        logs = []
        for index, ticket in enumerate(tickets):
            messages = self.env["mail.message"].sudo().search(
                [("model", "=", self._name), ("res_id", "=", ticket.id), ("date", "<", now)], order="date", limit=1)
            if ticket.state == "new":  # every other one past its take-in-charge deadline
                created = now - timedelta(days=3 * (index % 2), hours=1)
            else:
                created = min(filter(None, [ticket.date_taken, messages.date, now - timedelta(days=2 + index % 5)]))
                created -= timedelta(hours=3)
            # a realistic way to the state: closed after a solution, discarded after a look
            via, last = {
                "blocked": (ticket.state_before_block or "new", "block"),
                "closed": ("resolved", "customer_close") if ticket.date_resolved else ("new", "customer_close"),
                "discarded": ("waiting_support", "discard"),
            }.get(ticket.state, (ticket.state, None))
            path = (workflow_paths(ticket.ticket_type, via) or []) + ([last] if last else [])
            end = ticket.date_closed or ticket.date_resolved or (now - timedelta(hours=1))
            step = (end - created) / (len(path) + 1)
            state, date, values = "new", created, {}
            for number, move in enumerate(path, start=1):
                target = next(row[3] for row in WORKFLOW if row[0] == move and state in row[2]
                              and (row[1] is None or ticket.ticket_type in row[1]))
                previous_date, date = date, created + step * number
                logs.append({"ticket_id": ticket.id, "from_state": state, "to_state": target, "move": move,
                             "date": date, "user_id": ticket.user_id.id or self.env.uid,
                             "duration_hours": round((date - previous_date).total_seconds() / 3600, 2)})
                if move == "take_in_charge" and not ticket.date_taken:
                    values["date_taken"] = date
                elif move == "resolve" and not ticket.date_resolved:
                    values["date_resolved"] = date
                elif move in ("customer_close", "autoclose") and not ticket.date_closed:
                    values["date_closed"] = date
                elif move == "discard":
                    values["date_discarded"] = date
                elif move == "block":
                    values["state_before_block"] = state
                state = target
            company = ticket.company_id
            values["sla_deadline"], values["sla_at_risk_date"] = self._plan_sla(
                company._ticket_calendar(), company._ticket_sla_hours(ticket.priority, ticket.importance), created)
            ticket.with_context(tracking_disable=True).write(values)
            self.env.cr.execute("UPDATE terasoft_ticket SET create_date = %s WHERE id = %s", (created, ticket.id))
        Log.create(logs)
        tickets.invalidate_recordset(["create_date"])
        self.env.add_to_compute(self._fields["sla_status"], tickets)
        tickets.flush_recordset()
