"""terasoft.ticket, continued: the periodic work (SLA scan, auto-close, purge of discarded
tickets) and the demo history. The state machine itself is in terasoft_ticket.py."""

import logging
from datetime import timedelta

import psycopg2
from markupsafe import Markup
from pytz import timezone

from odoo import api, fields, models

from .terasoft_ticket import CRON_BATCH_SIZE, WORKFLOW, workflow_paths

_logger = logging.getLogger(__name__)


class TerasoftTicket(models.Model):
    _inherit = "terasoft.ticket"

    # ------------------------------------------------------------------ crons

    def _cron_batches(self, domain, process, job=None):
        """Run ``process(batch)`` on the tickets matching ``domain``, CRON_BATCH_SIZE at a time,
        in id order.

        Each batch starts after the last id of the previous one, so that a ticket ``process``
        could not take out of ``domain`` is not seen twice and the searches cost the same
        whatever the number done. Commits after each batch (``ir.cron._commit_progress``),
        then empties the ORM cache, so that memory does not grow with the number of tickets;
        stops when the cron's time is up. Returns the count of tickets processed.

        One ticket never stops the job: a batch that fails is rolled back and processed again
        one ticket at a time (see ``_cron_process_batch``); the ticket that fails is logged
        (``job`` names the job in the log) and left as it was, so the next run tries it again,
        while this run goes on past its id.
        """
        job = job or "terasoft_portal.cron"
        done = last_id = 0
        while True:
            batch = self.search(domain + [("id", ">", last_id)], limit=CRON_BATCH_SIZE, order="id")
            if not batch:
                break
            failed = self._cron_process_batch(batch, process, job)
            done += len(batch) - len(failed)
            last_id = batch[-1].id
            remaining = self.search_count(domain + [("id", ">", last_id)])
            time_left = self.env["ir.cron"]._commit_progress(len(batch), remaining=remaining)
            self.env.invalidate_all()
            if not time_left or not remaining:
                break
        return done

    def _cron_process_batch(self, batch, process, job):
        """``process(batch)`` in a savepoint; if it raises, roll the batch back and ``process``
        each ticket in a savepoint of its own, logging the ones that fail (``_cron_log_failure``).
        Returns the tickets that failed (rolled back, untouched).

        Errors of the database itself (lost connection, serialization failure, lock or
        statement timeout) are no ticket's fault: they stop the run, as Odoo's cron runner
        expects, and the batch is done again by the next run."""
        try:
            with self.env.cr.savepoint():
                process(batch)
            return self.browse()
        except psycopg2.OperationalError:
            raise
        except Exception:  # noqa: BLE001 - any error of a ticket: isolate it below
            _logger.info("%s: a batch of %s tickets failed, processing them one by one", job, len(batch))
        failed = self.browse()
        for ticket in batch:
            try:
                with self.env.cr.savepoint():
                    process(ticket)
            except psycopg2.OperationalError:
                raise
            except Exception as error:  # noqa: BLE001
                failed |= ticket
                ticket._cron_log_failure(job, error)
        return failed

    def _cron_log_failure(self, job, error):
        """Say why ``job`` could not process this ticket: in the server log, in ``ir.logging``
        (name ``terasoft_portal.cron``, Settings > Technical > Logging) at each run, and in an
        internal note on the ticket (the customer never sees it), once per distinct reason."""
        self.ensure_one()
        reason = str(error) or type(error).__name__
        text = f"{job}: ticket {self.number} (id {self.id}) failed, retried at the next run: {reason}"
        _logger.warning(text, exc_info=error)
        try:
            with self.env.cr.savepoint():
                self.env["ir.logging"].sudo().create(
                    {
                        "name": "terasoft_portal.cron",
                        "type": "server",
                        "level": "WARNING",
                        "dbname": self.env.cr.dbname,
                        "message": text,
                        "path": __name__,
                        "func": job,
                        "line": "0",
                    }
                )
                body = Markup("<p>%s</p>") % self.env._(
                    "The automatic job “%(job)s” could not process this ticket; it will try again at its "
                    "next run. Reason: %(reason)s",
                    job=job,
                    reason=reason,
                )
                last = self.message_ids[:1]
                if last.body != body:  # one note per distinct failure, not one per run
                    self._message_log(body=body)
        except Exception:  # the log must not stop the job either
            _logger.exception("%s: could not log the failure of ticket %s", job, self.id)

    @api.model
    def _cron_sla_scan(self):
        """Every 15 minutes: refresh `sla_status` of the tickets not taken in charge and give the
        support manager one activity per breached ticket (never twice: `sla_breach_reported`)."""
        self = self.sudo()  # noqa: PLW0642
        now = fields.Datetime.now()
        base = [("state", "=", "new"), ("date_taken", "=", False)]
        job = "SLA check"
        self._cron_batches(
            base + [("sla_deadline", "<=", now), ("sla_status", "!=", "breached")],
            lambda tickets: tickets.write({"sla_status": "breached"}),
            job,
        )
        self._cron_batches(
            base + [("sla_at_risk_date", "<=", now), ("sla_deadline", ">", now), ("sla_status", "=", "on_time")],
            lambda tickets: tickets.write({"sla_status": "at_risk"}),
            job,
        )
        self._cron_batches(
            base + [("sla_status", "=", "breached"), ("sla_breach_reported", "=", False)],
            lambda tickets: tickets._report_sla_breach(),
            job,
        )

    def _report_sla_breach(self):
        """Schedule one activity per ticket for its company's support manager, in one create."""
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id(self._name)
        today = fields.Date.context_today(self)
        vals_list = []
        for company, tickets in self.grouped("company_id").items():
            manager = company._ticket_manager()
            vals_list += [
                {
                    "res_model_id": model_id,
                    "res_id": ticket.id,
                    "activity_type_id": activity_type.id,
                    "user_id": manager.id,
                    "date_deadline": today,
                    "summary": self.env._("SLA breached: take in charge %(ref)s", ref=ticket.number),
                }
                for ticket in tickets
                if manager
            ]
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
        # pylint: disable-next=no-search-all  # every company, each with its own delays (a handful of records)
        for company in self.env["res.company"].sudo().search([]):
            resolved = [("company_id", "=", company.id), ("state", "=", "resolved")]
            limit = company._ticket_autoclose_limit(now)
            # the domain finds them by index; _get_autoclose_date (what the portal shows) decides
            self._cron_batches(
                resolved + [("date_resolved", "<=", limit)],
                lambda tickets: tickets._autoclose_due(now)._apply_move("autoclose", date_closed=now),
                "Automatic closure",
            )
            if company.ticket_autoclose_days > 1:
                reminder_limit = company._ticket_autoclose_limit(now, company.ticket_autoclose_days - 1)
                self._cron_batches(
                    resolved + [("date_resolved", "<=", reminder_limit), ("autoclose_reminder_sent", "=", False)],
                    lambda tickets: tickets._send_autoclose_reminder(),
                    "Automatic closure reminder",
                )

    @api.model
    def _cron_purge_discarded(self):
        """Delete discarded tickets older than the retention of their company, with their
        messages, attachments and state logs. Each deletion is logged in the server log and in
        Settings > Technical > Logging (`ir.logging`, name `terasoft_portal.purge`)."""
        self = self.sudo()  # noqa: PLW0642
        now = fields.Datetime.now()
        # pylint: disable-next=no-search-all  # every company, each with its own retention (a handful of records)
        for company in self.env["res.company"].sudo().search([]):
            limit = now - timedelta(days=company.ticket_discard_retention_days)
            self._cron_batches(
                [("company_id", "=", company.id), ("state", "=", "discarded"), ("date_discarded", "<=", limit)],
                lambda tickets: tickets._purge(),
                "Purge of discarded tickets",
            )

    def _purge(self):
        numbers = ", ".join(self.mapped("number"))
        attachments = (
            self.env["ir.attachment"].sudo().search([("res_model", "=", self._name), ("res_id", "in", self.ids)])
        )
        count = len(self)
        # mail.thread's unlink deletes messages, followers and activities; base unlink the
        # attachments of the records; the attachments of messages are among the latter.
        attachments.unlink()
        self.sudo().unlink()
        text = f"Purged {count} discarded tickets: {numbers}"
        _logger.info(text)
        self.env["ir.logging"].sudo().create(
            {
                "name": "terasoft_portal.purge",
                "type": "server",
                "level": "INFO",
                "dbname": self.env.cr.dbname,
                "message": text,
                "path": __name__,
                "func": "_cron_purge_discarded",
                "line": "0",
            }
        )

    # ------------------------------------------------------------------ demo

    @api.model
    def _demo_fill_workflow_history(self):
        """Give the demo tickets a coherent past, every date in the support's working hours
        (its calendar, Europe/Rome): creation, then the moves of a WORKFLOW path to their state
        with their state logs, the public comments where the workflow puts them (the support's
        question with ``ask_customer``, the customer's answer with ``customer_reply``), internal
        notes after the take-in-charge, resolution and closure last, nothing after now.
        Called once by the demo data; tests/test_demo_data.py checks the result."""
        now = fields.Datetime.now()
        Message = self.env["mail.message"].sudo()
        tickets = self.sudo().search([("state_log_ids", "=", False)], order="id")
        logs = []
        for index, ticket in enumerate(tickets):
            calendar = ticket.company_id._ticket_calendar()

            def plan(hours, start, calendar=calendar):
                return calendar.plan_hours(hours, start, compute_leaves=True).replace(tzinfo=None, microsecond=0)

            messages = Message.search([("model", "=", self._name), ("res_id", "=", ticket.id)], order="id")
            notes = messages.filtered(lambda m: m.is_internal or m.subtype_id.internal)
            public = messages.filtered(lambda m, notes=notes: m.message_type == "comment" and m not in notes)
            customer_said = public.filtered(
                lambda m, t=ticket: m.author_id.commercial_partner_id == t.commercial_partner_id
            )
            support_said = public - customer_said
            # the way to the state: closed after a solution, discarded or blocked while worked on
            via, last = {
                "blocked": (ticket.state_before_block or ("waiting_support" if public else "new"), "block"),
                "closed": ("resolved", "customer_close") if ticket.date_resolved else ("new", "customer_close"),
                "discarded": ("waiting_support", "discard"),
            }.get(ticket.state, (ticket.state, None))
            path = []
            if customer_said:  # the customer answered a question of the support
                path = ["take_in_charge", "ask_customer", "customer_reply"]
                if via == "new":
                    via = "waiting_support"
            path += workflow_paths(ticket.ticket_type, via, start="waiting_support" if path else "new") or []
            path += [last] if last else []
            if path.count("ask_customer") > len(support_said):  # the support asked twice: say what
                support_said |= Message.create(
                    {
                        "model": self._name,
                        "res_id": ticket.id,
                        "message_type": "comment",
                        "subtype_id": self.env.ref("mail.mt_comment").id,
                        "author_id": (ticket.user_id or self.env.user).partner_id.id,
                        "body": Markup(
                            "<p>Grazie per i dettagli. Per completare la verifica potete indicarci "
                            "anche la data e l'ora in cui si è presentato il problema?</p>"
                        ),
                    }
                )

            # the story: created some working days ago, last move a few working hours ago
            if ticket.state == "new":  # every other one past its take-in-charge deadline
                end = plan(-0.5, now)
                created = plan(-20.0 if index % 2 else -0.5, now)
            else:
                end = plan(-(8.0 * (3 + index % 5) if ticket.state == "closed" else 1.0 + index % 4), now)
                created = plan(-8.0 * (2 + len(path) + index % 6), end)
            step = calendar.get_work_hours_count(created, end, compute_leaves=True) / max(len(path), 1)
            moments = [plan(step * number, created) for number in range(1, len(path) + 1)]

            state, values, previous = "new", {}, created
            asked, answered = iter(support_said.sorted("id")), iter(customer_said.sorted("id"))
            for move, date in zip(path, moments, strict=False):
                target = next(
                    row[3]
                    for row in WORKFLOW
                    if row[0] == move and state in row[2] and (row[1] is None or ticket.ticket_type in row[1])
                )
                # the support user for every move, the customer's too: a state log keeps its user
                # (required, ondelete restrict), and the tests delete demo portal users
                actor = ticket.user_id or self.env.user
                logs.append(
                    {
                        "ticket_id": ticket.id,
                        "from_state": state,
                        "to_state": target,
                        "move": move,
                        "date": date,
                        "user_id": actor.id,
                        "duration_hours": round((date - previous).total_seconds() / 3600, 2),
                    }
                )
                message = (
                    next(asked if move == "ask_customer" else answered, None)
                    if move in ("ask_customer", "customer_reply")
                    else None
                )
                if message:
                    message.date = date
                if move == "take_in_charge":
                    values["date_taken"] = date
                elif move == "resolve":
                    values["date_resolved"] = date
                elif move in ("customer_close", "autoclose"):
                    values["date_closed"] = date
                elif move == "discard":
                    values["date_discarded"] = date
                elif move == "block":
                    values["state_before_block"] = state
                state, previous = target, date
            # comments not tied to a move follow the take-in-charge; creation messages the creation
            after_take = plan(0.25, values.get("date_taken") or created)
            for message in list(asked) + list(answered):
                message.date = after_take
            notes.write({"date": after_take})
            (messages - notes - public).write({"date": created})
            if ticket.state == "planned":  # a working morning a few days ahead, 10:00 local time
                day = fields.Datetime.context_timestamp(
                    self.with_context(tz=calendar.tz), plan(8.0 * (3 + index % 4), now)
                )
                values["planned_date"] = (
                    day.replace(hour=10, minute=0, second=0).astimezone(timezone("UTC")).replace(tzinfo=None)
                )
            values["sla_deadline"], values["sla_at_risk_date"] = self._plan_sla(
                calendar, ticket.company_id._ticket_sla_hours(ticket.priority, ticket.importance), created
            )
            ticket.with_context(tracking_disable=True).write(values)
            self.env.cr.execute("UPDATE terasoft_ticket SET create_date = %s WHERE id = %s", (created, ticket.id))
        # the creation dates were rewritten in SQL: the working hours of the logs and of the
        # tickets count from them
        tickets.invalidate_recordset(["create_date"])
        self.env["terasoft.ticket.state.log"].sudo().create(logs)
        self.env.add_to_compute(self._fields["sla_status"], tickets)
        self.env.add_to_compute(self._fields["first_response_hours"], tickets)
        self.env.add_to_compute(self._fields["resolution_hours"], tickets)
        tickets.flush_recordset()
