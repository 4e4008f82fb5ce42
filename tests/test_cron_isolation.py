"""Issue 10: a cron never stops because of one record. For each cron (acknowledgement,
automatic closure, its reminder, SLA check, purge) a poisoned ticket in the middle of a batch
is isolated (savepoint), logged on the ticket and in ir.logging, the others are processed, and
the next run retries it. A contact whose language is not active gets its emails in the
company's language instead of stopping the batch ("Invalid language code")."""

from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError
from odoo.tools import mute_logger

from odoo.addons.terasoft_portal.models import terasoft_ticket_cron

from .common import TerasoftCase, frozen, patch_cron_commit

RESOLVED_MONDAY = "2026-11-23 09:00:00"
CRON_LOGGER = "odoo.addons.terasoft_portal.models.terasoft_ticket_cron"


class CronIsolationCase(TerasoftCase):
    def setUp(self):
        super().setUp()
        # batches of 2: the poisoned ticket (the 3rd of 5) starts the second batch, the 4th
        # shares its batch, the 5th is in a third batch that must still run
        patcher = patch.object(terasoft_ticket_cron, "CRON_BATCH_SIZE", 2)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _run(self, method, moment=None):
        commit, _calls = patch_cron_commit()
        with frozen(self.env, moment or fields.Datetime.now()), commit, mute_logger(CRON_LOGGER):
            method()
            self.env.flush_all()
        self.env.invalidate_all()

    @contextmanager
    def _poisoned(self, ticket, method_name, when=lambda args, kwargs: True):
        """``method_name`` of terasoft.ticket raises when called on recordsets holding ``ticket``."""
        Model = type(self.Ticket)
        original = getattr(Model, method_name)
        calls = []

        def poisoned(records, *args, **kwargs):
            if ticket.id in records.ids and when(args, kwargs):
                calls.append(records.ids)
                # pylint: disable-next=translation-required  # a test's own failure, never shown to users
                raise UserError("Poisoned record")
            return original(records, *args, **kwargs)

        with patch.object(Model, method_name, poisoned):
            yield calls

    def _logs(self, ticket):
        return self.env["ir.logging"].search(
            [("name", "=", "terasoft_portal.cron"), ("message", "like", ticket.number)]
        )

    def _failure_notes(self, ticket):
        return ticket.message_ids.filtered(lambda m: "could not process this ticket" in (m.body or ""))

    def _assert_isolated(self, poisoned, calls, runs=1):
        """``calls``: those of one run; ``runs``: the runs that failed on ``poisoned`` so far."""
        # tried with its batch, then alone: never looped on within the run
        self.assertLessEqual(len(calls), 2, calls)
        self.assertEqual(calls[-1], poisoned.ids)
        self.assertEqual(len(self._logs(poisoned)), runs)  # in ir.logging at each run ...
        self.assertIn("Poisoned record", self._logs(poisoned)[:1].message)
        notes = self._failure_notes(poisoned)  # ... and one internal note on the ticket
        self.assertEqual(len(notes), 1)
        self.assertIn("Poisoned record", notes.body)
        self.assertRecordValues(notes, [{"is_internal": True, "subtype_id": self.env.ref("mail.mt_note").id}])
        self.assertFalse(notes.notification_ids)

    def _five(self, create):
        tickets = self.Ticket.browse()
        for index in range(5):
            tickets |= create(index)
        return tickets, tickets[2]


class TestCronIsolation(CronIsolationCase):
    def test_acknowledgement(self):
        tickets, poisoned = self._five(lambda i: self._ticket(self.giulia.partner_id, name=f"Ack {i}"))
        self.assertTrue(all(tickets.mapped("ack_pending")))
        with self._poisoned(poisoned, "_post_template_batch") as calls:
            self._run(self.Ticket._cron_acknowledge)
        self.assertEqual(tickets.mapped("ack_pending"), [False, False, True, False, False])
        received = self.env.ref("terasoft_portal.mt_ticket_new")
        for ticket in tickets - poisoned:
            self.assertEqual(len(ticket.message_ids.filtered(lambda m: m.subtype_id == received)), 1)
        self.assertFalse(poisoned.message_ids.filtered(lambda m: m.subtype_id == received))
        self._assert_isolated(poisoned, calls)
        with self._poisoned(poisoned, "_post_template_batch") as calls:  # still failing: logged, one note
            self._run(self.Ticket._cron_acknowledge)
        self._assert_isolated(poisoned, calls, runs=2)
        self._run(self.Ticket._cron_acknowledge)  # the next run retries it
        self.assertFalse(poisoned.ack_pending)
        self.assertEqual(len(poisoned.message_ids.filtered(lambda m: m.subtype_id == received)), 1)

    def _resolved(self, index):
        ticket = self._ticket(
            self.giulia.partner_id, name=f"Resolved {index}", ticket_type="defect", state="in_progress"
        )
        with frozen(self.env, RESOLVED_MONDAY):
            ticket.action_resolve(solution="<p>Fixed</p>")
        return ticket

    def test_autoclose(self):
        tickets, poisoned = self._five(self._resolved)
        update = self.env.ref("terasoft_portal.mail_template_ticket_update")  # the closure's email, not the reminder's
        with self._poisoned(poisoned, "_post_template_batch", lambda args, kwargs: args[0] == update) as calls:
            self._run(self.Ticket._cron_autoclose, "2026-11-27 09:00:00")
        self.assertEqual(tickets.mapped("state"), ["closed", "closed", "resolved", "closed", "closed"])
        self.assertFalse(poisoned.state_log_ids.filtered(lambda log: log.move == "autoclose"))
        self._assert_isolated(poisoned, calls)
        self._run(self.Ticket._cron_autoclose, "2026-11-27 10:00:00")
        self.assertEqual(poisoned.state, "closed")

    def test_autoclose_reminder(self):
        tickets, poisoned = self._five(self._resolved)
        with self._poisoned(poisoned, "_post_template_batch") as calls:
            self._run(self.Ticket._cron_autoclose, "2026-11-25 09:30:00")
        self.assertEqual(tickets.mapped("autoclose_reminder_sent"), [True, True, False, True, True])
        self.assertEqual(set(tickets.mapped("state")), {"resolved"})
        self._assert_isolated(poisoned, calls)
        self._run(self.Ticket._cron_autoclose, "2026-11-25 10:30:00")
        self.assertTrue(poisoned.autoclose_reminder_sent)
        reminder = self.env.ref("terasoft_portal.mt_ticket_reminder")
        self.assertEqual(len(poisoned.message_ids.filtered(lambda m: m.subtype_id == reminder)), 1)

    def test_sla_scan(self):
        self.env.company.ticket_manager_id = self.manager
        with frozen(self.env, "2026-11-24 08:00:00"):
            tickets, poisoned = self._five(lambda i: self._ticket(self.giulia.partner_id, name=f"SLA {i}"))

        def when(args, _kwargs):
            return "sla_status" in args[0] or "sla_breach_reported" in args[0]

        with self._poisoned(poisoned, "write", when) as calls:
            self._run(self.Ticket._cron_sla_scan, "2026-11-26 09:00:00")
        self.assertEqual(tickets.mapped("sla_breach_reported"), [True, True, False, True, True])
        self.assertFalse(
            self.env["mail.activity"].search([("res_model", "=", "terasoft.ticket"), ("res_id", "=", poisoned.id)])
        )
        self._assert_isolated(poisoned, calls)
        self._run(self.Ticket._cron_sla_scan, "2026-11-26 09:15:00")
        self.assertRecordValues(poisoned, [{"sla_status": "breached", "sla_breach_reported": True}])

    def test_purge(self):
        moment = fields.Datetime.to_datetime("2026-11-27 09:00:00")

        def discarded(index):
            with frozen(self.env, moment - timedelta(days=40)):
                ticket = self._ticket(self.giulia.partner_id, name=f"Discarded {index}")
                ticket.action_discard(reason="duplicate")
            return ticket

        tickets, poisoned = self._five(discarded)
        number = poisoned.number
        with self._poisoned(poisoned, "unlink") as calls:
            self._run(self.Ticket._cron_purge_discarded, moment)
        self.assertEqual(tickets.exists(), poisoned)
        self._assert_isolated(poisoned, calls)
        self._run(self.Ticket._cron_purge_discarded, moment + timedelta(days=1))
        self.assertFalse(poisoned.exists())
        self.assertTrue(
            self.env["ir.logging"].search([("name", "=", "terasoft_portal.purge"), ("message", "like", number)])
        )

    def test_database_errors_are_not_swallowed(self):
        """A lost connection or a serialization failure is no ticket's fault: the run stops, as
        Odoo's cron runner expects (it retries the job), instead of logging every ticket."""
        import psycopg2

        _tickets, poisoned = self._five(lambda i: self._ticket(self.giulia.partner_id, name=f"Ack {i}"))
        Model = type(self.Ticket)
        original = Model._send_acknowledgement

        def serialization_failure(records):
            if poisoned in records:
                raise psycopg2.errors.SerializationFailure("could not serialize access")
            return original(records)

        with (
            patch.object(Model, "_send_acknowledgement", serialization_failure),
            self.assertRaises(psycopg2.OperationalError),
        ):
            self._run(self.Ticket._cron_acknowledge)
        self.assertFalse(self._logs(poisoned))


class TestInactiveLanguage(CronIsolationCase):
    """A contact whose language is not installed (an import, a restored database): its emails
    fall back to the company's language; the cron does not even see a failure."""

    def setUp(self):
        super().setUp()
        self.assertFalse(self.env["res.lang"]._get_data(code="fr_FR").active)
        self.french = self.env["res.partner"].create(
            {"name": "Jean Dupont", "email": "jean.dupont@example.com", "parent_id": self.alfa.id}
        )
        # written as an import or a restore does: the selection only offers active languages
        self.env.cr.execute("UPDATE res_partner SET lang = 'fr_FR' WHERE id = %s", [self.french.id])
        self.french.invalidate_recordset(["lang"])
        self.company_lang = self.env.company.partner_id.lang or "en_US"

    def _mail_to(self, ticket):
        return self.env["mail.mail"].search(
            [("model", "=", "terasoft.ticket"), ("res_id", "=", ticket.id), ("recipient_ids", "in", self.french.ids)]
        )

    def test_acknowledgement_and_updates_fall_back_to_the_company_language(self):
        others = self._ticket(self.giulia.partner_id, name="Before") | self._ticket(self.giulia.partner_id)
        ticket = self._ticket(self.french, name="Cedolino")
        others |= self._ticket(self.giulia.partner_id, name="After")
        self._run(self.Ticket._cron_acknowledge)
        self.assertFalse((others | ticket).filtered("ack_pending"))
        self.assertFalse(self._logs(ticket))
        mail = self._mail_to(ticket)
        self.assertEqual(len(mail), 1)
        expected = "Abbiamo ricevuto" if self.company_lang == "it_IT" else "We received your request"
        self.assertIn(expected, mail.subject)
        ticket.action_take_in_charge()  # the update of a staff move, same template machinery
        self.assertEqual(len(self._mail_to(ticket)), 2)

    def test_autoclose_and_reminder_with_inactive_language(self):
        tickets = self.Ticket.browse()
        for partner in (self.giulia.partner_id, self.french, self.giulia.partner_id):
            ticket = self._ticket(partner, ticket_type="defect", state="in_progress")
            with frozen(self.env, RESOLVED_MONDAY):
                ticket.action_resolve(solution="<p>Fixed</p>")
            tickets |= ticket
        self._run(self.Ticket._cron_autoclose, "2026-11-25 09:30:00")
        self.assertTrue(all(tickets.mapped("autoclose_reminder_sent")))
        self._run(self.Ticket._cron_autoclose, "2026-11-27 09:00:00")
        self.assertEqual(set(tickets.mapped("state")), {"closed"})
        self.assertFalse(self._logs(tickets[1]))
