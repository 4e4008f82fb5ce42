from datetime import timedelta

from markupsafe import escape

from odoo import Command, api, fields, models
from odoo.tools import SQL
from odoo.tools.mail import generate_tracking_message_id

from .mail_thread import AUTO_SUBMITTED_KEY
from .terasoft_ticket import CUSTOMER, SYSTEM, WORKFLOW

# Subtype of the customer notification, by the state a support or system move leads to.
MOVE_SUBTYPES = {
    "resolved": "terasoft_portal.mt_ticket_resolved",
    "closed": "terasoft_portal.mt_ticket_closed",
    "blocked": "terasoft_portal.mt_ticket_blocked",
    "discarded": "terasoft_portal.mt_ticket_discarded",
}
DEFAULT_MOVE_SUBTYPE = "terasoft_portal.mt_ticket_update"
# Context key set while ``_post_template_batch`` posts a template on many tickets.
BATCH_POST_KEY = "terasoft_template_batch_post"
# Context keys with which a creation is silent (imports, data loading): no acknowledgement.
SILENT_CREATE_KEYS = ("install_mode", "tracking_disable", "mail_notrack")
# Context key of the ``Auto-Submitted`` value (RFC 3834) of the automatic emails we send: the
# acknowledgement answers the customer's message ("auto-replied"), reminders and system
# moves are "auto-generated". Exchange's OOF and other responders are asked not to answer
# (X-Auto-Response-Suppress), delivery reports are not suppressed: bounces keep coming back.
AUTO_SUBMITTED_HEADER_KEY = "terasoft_mail_auto_submitted"
# Context key with which ``_notify_move`` tells nobody (the merge tells the customer once).
SILENT_MOVE_KEY = "terasoft_move_silent"


class TerasoftTicket(models.Model):
    """Notifications and the email channel of tickets.

    Who gets what:
    - creation: the acknowledgement (`mail_template_ticket_received`) to the contact, and Odoo's
      "You have been assigned" to the assignee, are sent by the cron `ir_cron_ticket_acknowledge`
      that the creation triggers (``ir.cron._trigger``, for the workers' next check, within a
      minute). The ticket is created with ``ack_pending``, a flag committed with it: the
      acknowledgement is never lost, sent once, in the contact's language, and not rendered in
      the request that creates the ticket (the portal form answers at once). Imports with
      ``mail_notrack``/``tracking_disable`` send none;
    - support and system moves (actor not `customer` in WORKFLOW): one message per ticket from
      `mail_template_ticket_update`, rendered in the contact's language, posted as a public
      `auto_comment` with a `mt_ticket_*` subtype: the contact and the followers get it by email,
      the portal shows it; the staff's text (question, diagnosis, solution) is in it;
    - customer moves: staff are told through the tracking message (``_track_subtype``);
    - internal notes and every other internal message (activity feedback): never to customers
      (a note mentioning one is refused by ``message_post``; ``_notify_get_recipients`` drops
      customers from the recipients of internal messages);
    - `block_auto_emails` on the customer company: no automatic message (`auto_comment`) is
      emailed to its contacts; they still see it in the portal.
    """

    # pylint: disable-next=consider-merging-classes-inherited  # one file per concern (notifications)
    _inherit = "terasoft.ticket"
    _primary_email = "email_from"  # message_new stores the sender there

    ack_pending = fields.Boolean(
        "Acknowledgement Pending",
        copy=False,
        readonly=True,
        export_string_translation=False,
        help="Created, not yet acknowledged to the contact: the acknowledgement cron sends it.",
    )
    last_state_log_id = fields.Many2one(
        "terasoft.ticket.state.log",
        compute="_compute_last_state_log_id",
        export_string_translation=False,
    )

    # the acknowledgement cron looks for the few pending tickets among all
    _ack_pending_idx = models.Index("(id) WHERE ack_pending IS TRUE")

    @api.depends("state_log_ids.date")
    def _compute_last_state_log_id(self):
        """The latest state log of each ticket, in one query for all of ``self`` (the
        notification templates and ``_track_subtype`` read it for whole batches)."""
        Log = self.env["terasoft.ticket.state.log"].sudo()
        Log.flush_model(["ticket_id", "date"])
        ids = [ticket_id for ticket_id in self.ids if ticket_id]
        last = (
            dict(
                self.env.execute_query(
                    SQL(
                        "SELECT DISTINCT ON (ticket_id) ticket_id, id FROM terasoft_ticket_state_log"
                        " WHERE ticket_id = ANY(%s) ORDER BY ticket_id, date DESC, id DESC",
                        ids,
                    )
                )
            )
            if ids
            else {}
        )
        for ticket in self:
            ticket.last_state_log_id = Log.browse(last.get(ticket.id))

    # ------------------------------------------------------------------ notifications

    def _last_state_log(self):
        """The latest state log of the ticket (sudo'ed, for templates): see last_state_log_id."""
        self.ensure_one()
        return self.sudo().last_state_log_id

    def _state_label(self):
        """The label of the ticket's state in the language of the environment (templates)."""
        self.ensure_one()
        return dict(self._fields["state"]._description_selection(self.env))[self.state]

    def _portal_link(self):
        """Absolute portal link with the access token (and the contact's signature, so that the
        portal chatter knows who comments): it opens the ticket without a login."""
        self.ensure_one()
        return self.get_base_url() + self.sudo()._get_share_url(pid=self.partner_id.id or None)

    def _sla_promise_hours(self):
        self.ensure_one()
        return "%g" % self._sla_first_response_target()[0]

    def _notify_move(self, move, message=None):
        """Post the update of a support or system ``move`` on each ticket (see the class doc)."""
        actor = next(row[4] for row in WORKFLOW if row[0] == move)
        if actor == CUSTOMER or self.env.context.get("install_mode") or self.env.context.get(SILENT_MOVE_KEY):
            return
        template = self.env.ref("terasoft_portal.mail_template_ticket_update", raise_if_not_found=False)
        if not template:
            return
        # nobody to tell without a contact or a message: the state log and the tracking say it all
        tickets = self.filtered(lambda ticket: ticket.partner_id or message)
        if actor == SYSTEM:  # autoclose, block, unblock: no person wrote them
            tickets = tickets.with_context(**{AUTO_SUBMITTED_HEADER_KEY: "auto-generated"})
        for subtype, group in tickets.grouped(lambda t: MOVE_SUBTYPES.get(t.state, DEFAULT_MOVE_SUBTYPE)).items():
            group._post_template_batch(template, subtype)

    def _post_template_batch(self, template, subtype_xmlid):
        """Post ``template`` on every ticket of ``self`` with one composer in mass-post mode:
        the template is rendered for all the tickets at once (per language), then Odoo's
        ``message_post`` is called for each ticket (``mail.compose.message._action_send_mail``),
        with its parent message, subscriptions and other modules' overrides. (Issue 12: the
        former batched copy of message_post auto-closed 500 tickets in 8.3–8.9 s and 3070
        queries, message_post in 10.9–11.2 s and 5060 queries: no copy for that.)
        Runs as superuser: the notification is the system's, whoever moved the tickets.

        The emails go through the mail queue, woken at once (``ir.cron._trigger``), never sent
        by the transaction that posts them: no SMTP dialogue inside a request or a batch."""
        if not self:
            return
        for ticket in self:
            ticket._portal_ensure_token()  # the portal link of the notification needs it
        # Read for the whole batch what Odoo's posting and notification of each message would
        # read ticket by ticket: the contacts' users (portal's access link, auth_signup's login
        # parameter)...
        self.partner_id.sudo().user_ids  # noqa: B018 - prefetch
        # ... and of the tickets' messages, the fields by which it picks each new message's
        # parent and References (it searches them ticket by ticket, then reads them)
        self.env["mail.message"].sudo().search([("model", "=", self._name), ("res_id", "in", self.ids)]).fetch(
            ["message_type", "date", "is_internal", "subtype_id", "message_id"]
        )
        composer = (
            self.env["mail.compose.message"]
            .sudo()
            .with_context(
                **{BATCH_POST_KEY: True},
                default_composition_mode="comment",
                default_model=self._name,
                default_res_ids=self.ids,
                default_template_id=template.id,
            )
            .create(
                {
                    "message_type": "auto_comment",
                    "subtype_id": self.env["ir.model.data"]._xmlid_to_res_id(subtype_xmlid),
                    "email_layout_xmlid": "mail.mail_notification_light",
                    "force_send": False,
                }
            )
        )
        composer._action_send_mail()
        self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()

    def _send_autoclose_reminder(self):
        template = self.env.ref("terasoft_portal.mail_template_ticket_autoclose_reminder")
        contacted = self.filtered("partner_id").with_context(**{AUTO_SUBMITTED_HEADER_KEY: "auto-generated"})
        contacted._post_template_batch(template, "terasoft_portal.mt_ticket_reminder")
        self.write({"autoclose_reminder_sent": True})

    # ------------------------------------------------------------------ acknowledgement

    @api.model_create_multi
    def create(self, vals_list):
        context = self.env.context
        if not any(context.get(key) for key in SILENT_CREATE_KEYS):
            for vals in vals_list:
                if vals.get("partner_id") or context.get("default_partner_id"):
                    vals["ack_pending"] = True
        tickets = super().create(vals_list)
        if any(tickets.mapped("ack_pending")):
            self._wake_acknowledgement_cron()
        return tickets

    @api.model
    def _wake_acknowledgement_cron(self):
        """Trigger the acknowledgement cron for its workers' next check (within a minute).

        A trigger due now would also wake the workers at once, with a NOTIFY sent on a new
        connection to the ``postgres`` database (Odoo does not pool those): some 10 ms added
        to each ticket creation, for an email that may as well leave a few seconds later."""
        # ir.cron._trigger() without its reads (env.ref's existence check, the cron's `active`):
        # the trigger of an inactive cron is merely never used, then garbage-collected
        self.env["ir.cron.trigger"].sudo().create(
            {
                "cron_id": self.env["ir.model.data"]._xmlid_to_res_id("terasoft_portal.ir_cron_ticket_acknowledge"),
                "call_at": fields.Datetime.now() + timedelta(seconds=1),
            }
        )

    def _message_auto_subscribe_notify(self, partner_ids, template):
        """Odoo's "You have been assigned" email: for a ticket waiting for its acknowledgement,
        the acknowledgement cron sends it (see ``_send_acknowledgement``), not the request."""
        return super(
            TerasoftTicket, self.filtered(lambda ticket: not ticket.ack_pending)
        )._message_auto_subscribe_notify(partner_ids, template)

    @api.model
    def _cron_acknowledge(self):
        """Acknowledge the new tickets (``ack_pending``), CRON_BATCH_SIZE at a time."""
        self.sudo()._cron_batches(
            [("ack_pending", "=", True)], lambda tickets: tickets._send_acknowledgement(), "Acknowledgement"
        )

    def _send_acknowledgement(self):
        """Post the acknowledgement on each ticket of ``self`` (one composer, rendered in each
        contact's language) and tell each assignee as Odoo does on assignment; clear the flag
        in the same transaction, so that each ticket is acknowledged exactly once."""
        self.write({"ack_pending": False})
        template = self.env.ref("terasoft_portal.mail_template_ticket_received", raise_if_not_found=False)
        if template:
            contacted = self.filtered("partner_id").with_context(**{AUTO_SUBMITTED_HEADER_KEY: "auto-replied"})
            contacted._post_template_batch(template, "terasoft_portal.mt_ticket_new")
        # as mail.thread's auto-subscription: not when the assignees created the ticket themselves
        assigned = self.filtered(lambda t: t.user_id.active and t.user_id != t.create_uid)
        for ticket in assigned.with_context(mail_notify_force_send=False):  # the queue sends them
            partner = ticket.user_id.partner_id
            ticket.with_context(lang=partner.lang)._message_auto_subscribe_notify(
                partner.ids, "mail.message_user_assigned"
            )
        if assigned:
            self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()

    def _message_track(self, fields_iter, initial_values_dict):
        """As mail.thread's, but the tracking notes of a batch (state changes without a
        subtype: support and system moves, which notify with their own message) are created
        in one ``create`` instead of one per ticket: a cron closing 500 tickets logs 500 notes."""
        notes = []
        tracking = super(TerasoftTicket, self.with_context(terasoft_tracking_notes=notes))._message_track(
            fields_iter, initial_values_dict
        )
        if notes:
            self._message_log_tracking_notes(notes)
        return tracking

    def _message_log(self, **kwargs):
        """Within ``_message_track``: keep the tracking note for the batch (see above)."""
        notes = self.env.context.get("terasoft_tracking_notes")
        if notes is None or set(kwargs) - {"body", "author_id", "tracking_value_ids"}:
            return super()._message_log(**kwargs)
        self.ensure_one()
        notes.append((self, kwargs))
        return self.env["mail.message"]

    def _message_log_tracking_notes(self, notes):
        """Create the tracking notes ``[(ticket, _message_log kwargs)]`` in one ``create``, with
        the values mail.thread's ``_message_log_batch`` gives a note, and their tracking values
        in one more (mail.message's ``create`` inserts them note by note: one query per ticket)."""
        values_list = []
        tracking_values = []
        reply_to = {}
        for ticket, kwargs in notes:
            commands = kwargs.get("tracking_value_ids") or []
            tracking_values.append(
                [command[2] for command in commands if len(command) == 3 and command[0] == Command.CREATE]
            )
            other_commands = [command for command in commands if len(command) != 3 or command[0] != Command.CREATE]
            author_id, email_from = ticket._message_compute_author(kwargs.get("author_id"), None)
            if (author_id, email_from) not in reply_to:
                reply_to[author_id, email_from] = self.env["mail.thread"]._notify_get_reply_to(
                    default=email_from, author_id=author_id
                )[False]
            values_list.append(
                {
                    "author_id": author_id,
                    "email_from": email_from,
                    "model": self._name,
                    "res_id": ticket.id,
                    "record_alias_domain_id": False,
                    "record_company_id": False,
                    "message_type": "notification",
                    "is_internal": True,
                    "subject": False,
                    "subtype_id": self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
                    "tracking_value_ids": other_commands,
                    "email_add_signature": False,
                    "message_id": generate_tracking_message_id("message-notify"),
                    "reply_to": reply_to[author_id, email_from],
                    "body": escape(kwargs.get("body") or ""),
                }
            )
        messages = self.sudo()._message_create(values_list)
        self.env["mail.tracking.value"].sudo().create(
            [
                dict(values, mail_message_id=message.id)
                for message, values_list in zip(messages, tracking_values, strict=True)
                for values in values_list
            ]
        )
        return messages

    def _notify_by_email_get_headers(self, headers=None):
        """RFC 3834: our automatic emails say so (see AUTO_SUBMITTED_HEADER_KEY), so that
        other auto-responders do not answer them (Odoo sets these headers only on its own
        out-of-office replies)."""
        headers = super()._notify_by_email_get_headers(headers=headers)
        auto_submitted = self.env.context.get(AUTO_SUBMITTED_HEADER_KEY)
        if auto_submitted:
            headers.setdefault("Auto-Submitted", auto_submitted)
            headers.setdefault("X-Auto-Response-Suppress", "OOF, AutoReply")
        return headers

    def _track_subtype(self, initial_values):
        """Staff hear about the customer's own moves (closing); support and system moves are
        notified by ``_notify_move``; the customer's reply already notifies as a comment."""
        self.ensure_one()
        if "state" in initial_values:
            move = self._last_state_log().move
            actor = next((row[4] for row in WORKFLOW if row[0] == move), None)
            if actor == CUSTOMER and move != "customer_reply":
                return self.env.ref("terasoft_portal.mt_ticket_customer_action")
        return super()._track_subtype(initial_values)

    def _notify_get_recipients(self, message, msg_vals=False, **kwargs):
        """Two rules of ours on who is notified of a message of a ticket:

        - an internal message (``is_internal`` or an internal subtype: notes, activity
          feedback) reaches no customer — no partner without an internal user, no email
          address — however it was addressed (``message_post`` already refuses notes that
          mention customers; this covers every other path, e.g. a customer following the
          ticket with internal subtypes);
        - automatic messages are not emailed to the contacts of companies that block them.
        """
        recipients = super()._notify_get_recipients(message, msg_vals=msg_vals, **kwargs)
        if not recipients:
            return recipients
        msg_vals = msg_vals or {}
        is_internal = msg_vals["is_internal"] if "is_internal" in msg_vals else message.sudo().is_internal
        subtype_id = msg_vals["subtype_id"] if "subtype_id" in msg_vals else message.sudo().subtype_id.id
        if is_internal or self.env["mail.message.subtype"].sudo().browse(subtype_id).internal:
            recipients = [r for r in recipients if not r["share"]]
        message_type = msg_vals.get("message_type") or message.message_type
        if message_type != "auto_comment" or not recipients:
            return recipients
        partners = self.env["res.partner"].sudo().browse([r["id"] for r in recipients])
        blocked = set(partners.filtered(lambda p: p.commercial_partner_id.block_auto_emails).ids)
        return [r for r in recipients if r["id"] not in blocked]

    # ------------------------------------------------------------------ email channel

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """A ticket from an email to the support alias (`assistenza@`).

        The contact is the partner whose email is the sender's (found by the mail gateway).
        An unknown sender gets a ticket anyway, without contact and flagged `needs_review`:
        support finds or creates the contact (no partner is created from an arbitrary address).
        The category is the alias default or the company setting.
        """
        values = dict(custom_values or {})
        company = self.env["res.company"].browse(values.get("company_id")) or self.env.company
        author = self.env["res.partner"].browse(msg_dict.get("author_id") or [])
        if author and not author.user_ids.filtered(lambda u: not u.share):
            values.setdefault("partner_id", author.id)
        else:
            values["needs_review"] = True
        values.setdefault("channel", "email")
        values.setdefault("category_id", company._ticket_email_category().id)
        values.setdefault("description", msg_dict.get("body"))
        if not msg_dict.get("subject"):
            values.setdefault("name", self.env._("Email from %(sender)s", sender=msg_dict.get("email_from")))
        return super().message_new(msg_dict, custom_values=values)

    def message_post(self, **kwargs):
        """An automatic email (out-of-office, auto-responder: ``AUTO_SUBMITTED_KEY``, set by the
        mail gateway, see models/mail_thread.py) is kept on the ticket as an internal note for
        support: nobody is notified (no one answers a machine), it is not the customer's reply
        (the ticket doesn't move)."""
        if self.env.context.get(AUTO_SUBMITTED_KEY):
            kwargs.pop("subtype_id", None)
            kwargs.update(subtype_xmlid="mail.mt_note", is_internal=True, partner_ids=[])
        return super().message_post(**kwargs)

    def _is_customer_post(self, post_values):
        return not self.env.context.get(AUTO_SUBMITTED_KEY) and super()._is_customer_post(post_values)
