import logging
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.translate import LazyTranslate

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

TICKET_STATES = [
    ("new", "Open"),
    ("waiting_support", "Waiting for Support"),
    ("waiting_customer", "Waiting for Customer"),
    ("in_progress", "In Progress"),
    ("planned", "Planned"),
    ("waiting_development", "Waiting for Development"),
    ("resolved", "Resolved"),
    ("closed", "Closed"),
    ("blocked", "Blocked"),
    ("discarded", "Discarded"),
]
# States in which the ticket is finished for the customer ("Ticket chiusi" in the portal).
DONE_STATES = ("closed", "discarded")
# States in which someone still has to act; `resolved` counts: it is only pre-closed.
OPEN_STATES = (
    "new",
    "waiting_support",
    "waiting_customer",
    "in_progress",
    "planned",
    "waiting_development",
    "resolved",
)

# Who may perform a move. Staff moves need the support user group, manager moves the manager
# group; customer moves are done by whoever may read the ticket (its portal contacts, or staff
# on their behalf); system moves only by the server itself (cron, insolvency flag, superuser).
STAFF, MANAGER, CUSTOMER, SYSTEM = "staff", "manager", "customer", "system"
DEFECT_REQUEST = ("defect", "request")
PREVIOUS = "previous"  # target of `unblock`: the state the ticket had before the block

# THE workflow: every state change of a ticket is one of these moves, and nothing else.
# (move, ticket types or None for all, from states, to state, actor)
# Buttons (`can_<move>`), the portal, incoming email, crons and RPC all ask this table.
WORKFLOW = [
    ("take_in_charge", None, ("new",), "waiting_support", STAFF),
    ("ask_customer", None, ("waiting_support",), "waiting_customer", STAFF),
    ("customer_reply", None, ("waiting_customer", "resolved"), "waiting_support", CUSTOMER),
    ("resolve", ("clarification",), ("waiting_support",), "resolved", STAFF),
    ("start_progress", DEFECT_REQUEST, ("waiting_support", "planned", "waiting_development"), "in_progress", STAFF),
    ("plan", DEFECT_REQUEST, ("in_progress", "waiting_development"), "planned", STAFF),
    ("escalate_development", DEFECT_REQUEST, ("waiting_support", "in_progress"), "waiting_development", STAFF),
    ("resolve", DEFECT_REQUEST, ("in_progress", "planned", "waiting_development"), "resolved", STAFF),
    ("customer_close", None, OPEN_STATES + ("blocked",), "closed", CUSTOMER),
    ("autoclose", None, ("resolved",), "closed", SYSTEM),
    ("block", None, OPEN_STATES, "blocked", SYSTEM),
    ("unblock", None, ("blocked",), PREVIOUS, SYSTEM),
    ("discard", None, OPEN_STATES + ("blocked",), "discarded", STAFF),
    ("reopen", None, ("closed", "discarded"), "waiting_support", MANAGER),
]
MOVES = sorted({move for move, *_rest in WORKFLOW})

# What the customer reads on a blocked ticket (portal, emails).
BLOCK_CUSTOMER_MESSAGE = _lt("Ticket non lavorabile causa blocco amministrativo. Contattare il reparto amministrativo.")
# Rows of a cron batch: one commit (and one progress report) per batch.
CRON_BATCH_SIZE = 500

# The key that unlocks the write of `state`: `_apply_move` puts this very object in the context
# and `write` compares it by identity. Context from RPC (JSON, XML-RPC) holds only strings,
# numbers, lists and dicts: no caller can send this object, whatever key or value it tries.
_MOVE_CONTEXT_KEY = "terasoft_ticket_move"
_MOVE_TOKEN = object()
# Fields that only the workflow (`_apply_move`) and the system (crons, mail gateway, data
# loading: superuser) write; staff change them by moving the ticket, never directly.
WORKFLOW_FIELDS = (
    "state_before_block",
    "date_taken",
    "date_resolved",
    "date_closed",
    "date_discarded",
    "date_last_customer_message",
    "sla_deadline",
    "sla_at_risk_date",
    "sla_status",
    "sla_breach_reported",
    "autoclose_reminder_sent",
    # the service reports' figures, computed from the state log at each move
    "first_response_hours",
    "resolution_hours",
    "reopen_count",
)
SLA_STATUSES = [
    ("on_time", "On Time"),
    ("at_risk", "At Risk"),
    ("breached", "Breached"),
    ("met", "Met"),
]


def workflow_paths(ticket_type, target, start="new"):
    """The shortest list of moves of WORKFLOW leading a ticket of ``ticket_type`` from ``start``
    to ``target`` (``unblock`` excluded: its target depends on the ticket), or None."""
    paths = {start: []}
    queue = [start]
    while queue:
        state = queue.pop(0)
        if state == target:
            return paths[state]
        for move, types, from_states, to_state, _actor in WORKFLOW:
            if (
                to_state != PREVIOUS
                and state in from_states
                and (types is None or ticket_type in types)
                and to_state not in paths
            ):
                paths[to_state] = paths[state] + [move]
                queue.append(to_state)
    return None


def workflow_diagram():
    """The state machine as plain text, generated from WORKFLOW (see docs/workflow.md)."""
    labels = dict(TICKET_STATES)
    lines = []
    for state, label in TICKET_STATES:
        moves = [row for row in WORKFLOW if state in row[2]]
        if not moves:
            continue
        lines.append(f"{label} [{state}]")
        for move, types, _from, to_state, actor in moves:
            target = (
                "(status before the block, else Open)" if to_state == PREVIOUS else f"{labels[to_state]} [{to_state}]"
            )
            kinds = ", ".join(types) if types else "all types"
            lines.append(f"  --{move}--> {target}   ({actor}; {kinds})")
        lines.append("")
    return "\n".join(lines)


class TerasoftTicket(models.Model):
    _name = "terasoft.ticket"
    _description = "Support Ticket"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_names_search = ["number", "name"]
    _mail_post_access = "read"  # portal users comment through the portal on tickets they can read

    number = fields.Char(
        # trigram: the portal searches numbers with ILIKE; the UNIQUE constraint gives the btree
        "Ticket Nr",
        readonly=True,
        copy=False,
        index="trigram",
        default=lambda self: self.env._("New"),
    )
    name = fields.Char("Title", required=True, tracking=True, index="trigram")
    description = fields.Html(sanitize=True, sanitize_style=True, index="trigram")
    ticket_type = fields.Selection(
        [("clarification", "Clarification"), ("defect", "Defect"), ("request", "Request")],
        "Type",
        required=True,
        default="clarification",
        tracking=True,
    )
    priority = fields.Selection(
        [("0", "Not urgent"), ("1", "Medium"), ("2", "Urgent")],
        required=True,
        default="0",
        tracking=True,
    )
    importance = fields.Selection(
        [("non_blocking", "Non-blocking"), ("blocking", "Blocking")],
        required=True,
        default="non_blocking",
        tracking=True,
    )
    category_id = fields.Many2one(
        "terasoft.ticket.category",
        required=True,
        index=True,
        tracking=True,
        ondelete="restrict",
    )
    partner_id = fields.Many2one(
        "res.partner",
        "Contact",
        index=True,
        tracking=True,
        help="The customer contact who opened the ticket.",
    )
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id",
        string="Customer Company",
        store=True,
        index=True,
        precompute=True,  # the stored computes of a new ticket go into its INSERT: no UPDATE after
    )
    partner_email = fields.Char(related="partner_id.email", string="Contact Email")
    user_id = fields.Many2one(
        "res.users",
        "Assigned to",
        index=True,
        tracking=True,
        domain=[("share", "=", False)],
    )
    company_id = fields.Many2one(
        "res.company",
        "Support Company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    channel = fields.Selection(
        [("portal", "Portal"), ("email", "Email"), ("phone", "Phone"), ("onsite", "On site")],
        "Support Channel",
        required=True,
        default="phone",
        tracking=True,
    )
    product_id = fields.Many2one("terasoft.product", index=True, tracking=True)
    product_version = fields.Char()
    state = fields.Selection(
        TICKET_STATES,
        "Status",
        required=True,
        default="new",
        index=True,
        tracking=True,
        group_expand="_read_group_expand_states",
        copy=False,
    )
    is_done = fields.Boolean(
        "Closed for the customer",
        compute="_compute_is_done",
        store=True,
        index=True,
        precompute=True,
        export_string_translation=False,
    )
    solution = fields.Html(sanitize=True, tracking=False)
    planned_date = fields.Datetime(tracking=True, copy=False)
    date_taken = fields.Datetime("Taken in Charge On", readonly=True, copy=False)
    date_resolved = fields.Datetime("Resolved On", readonly=True, copy=False)
    date_closed = fields.Datetime("Closed On", readonly=True, copy=False)
    sla_deadline = fields.Datetime(
        "Take-in-charge Deadline",
        compute="_compute_sla_deadline",
        store=True,
        copy=False,
        index=True,
        precompute=True,
        help="Creation + the take-in-charge target, in working hours of the support calendar.",
    )
    sla_at_risk_date = fields.Datetime(
        "SLA at Risk From",
        compute="_compute_sla_deadline",
        store=True,
        copy=False,
        precompute=True,
        export_string_translation=False,
    )
    sla_status = fields.Selection(
        SLA_STATUSES,
        "SLA",
        compute="_compute_sla_status",
        store=True,
        index=True,
        copy=False,
        precompute=True,
        help="On time / at risk (less than one working hour left) / breached / met (taken in charge "
        "in time). Refreshed every 15 minutes for tickets not yet taken in charge.",
    )
    sla_breach_reported = fields.Boolean(copy=False, export_string_translation=False)
    autoclose_reminder_sent = fields.Boolean(copy=False, export_string_translation=False)
    date_discarded = fields.Datetime("Discarded On", readonly=True, copy=False)
    needs_review = fields.Boolean(
        "To Review",
        copy=False,
        tracking=True,
        help="Created from an email whose sender matches no contact: support must find or create "
        "the contact, then clear this flag.",
    )
    email_from = fields.Char("Sender Email", copy=False, help="Sender of the email that created the ticket.")
    portal_block_message = fields.Char(compute="_compute_portal_block_message", export_string_translation=False)
    insolvent = fields.Boolean(related="commercial_partner_id.insolvent", string="Insolvency Status")
    state_before_block = fields.Selection(
        TICKET_STATES,
        "Status Before the Block",
        readonly=True,
        copy=False,
        help="Where the ticket goes back when the customer's administrative block is lifted.",
    )
    duplicate_of_id = fields.Many2one("terasoft.ticket", index="btree_not_null", copy=False)
    discard_reason = fields.Text("Reason for Discarding", copy=False)
    date_last_customer_message = fields.Datetime(
        "Last Customer Message",
        readonly=True,
        copy=False,
        help="When the customer last commented (portal or email): resets the auto-close countdown.",
    )
    state_log_ids = fields.One2many("terasoft.ticket.state.log", "ticket_id", "Status History", readonly=True)
    # One boolean per move: drives the visibility of buttons in the backend and the portal.
    can_take_in_charge = fields.Boolean(compute="_compute_can_moves", export_string_translation=False)
    can_ask_customer = fields.Boolean(compute="_compute_can_moves", export_string_translation=False)
    can_resolve = fields.Boolean(compute="_compute_can_moves", export_string_translation=False)
    can_start_progress = fields.Boolean(compute="_compute_can_moves", export_string_translation=False)
    can_plan = fields.Boolean(compute="_compute_can_moves", export_string_translation=False)
    can_escalate_development = fields.Boolean(compute="_compute_can_moves", export_string_translation=False)
    can_customer_close = fields.Boolean(compute="_compute_can_moves", export_string_translation=False)
    can_discard = fields.Boolean(compute="_compute_can_moves", export_string_translation=False)
    can_reopen = fields.Boolean(compute="_compute_can_moves", export_string_translation=False)

    _number_uniq = models.Constraint("UNIQUE(number)", "The ticket number must be unique.")
    # The portal lists and counts a company's tickets newest first, split by open/closed. The
    # ORM writes `is_done = False/True` as `IS NOT TRUE`/`IS TRUE`, which a btree cannot
    # search on: one partial index per side instead, with the multi-company rule's column, so
    # that the counts are index-only scans (at 100k tickets, 1-3 ms instead of 12-14 ms) and
    # the pages read 20 index entries. `state` rides along for the portal's state filter.
    # The default sorting ("Più recenti") is by creation date, the date the list shows.
    _portal_open_created_idx = models.Index(
        "(commercial_partner_id, company_id, create_date DESC, id DESC) INCLUDE (state) WHERE is_done IS NOT TRUE"
    )
    _portal_done_created_idx = models.Index(
        "(commercial_partner_id, company_id, create_date DESC, id DESC) INCLUDE (state) WHERE is_done IS TRUE"
    )

    @api.depends("state")
    def _compute_is_done(self):
        for ticket in self:
            ticket.is_done = ticket.state in DONE_STATES

    @api.depends("company_id", "priority", "importance", "category_id", "ticket_type", "commercial_partner_id")
    def _compute_sla_deadline(self):
        """Creation + N working hours (the SLA policy's take-in-charge target, see
        terasoft_sla_policy.py). Tickets created together share one calendar computation."""
        groups = defaultdict(lambda: self.browse())
        policies = self.env["terasoft.sla.policy"]._sla_policy_for(self)
        for ticket in self:
            if ticket.date_taken and ticket.sla_deadline:
                continue  # the promise made when the ticket was taken in charge does not change
            company = ticket.company_id or self.env.company
            # the few fields read here, not the ~100 columns of res.company (read once per group)
            company.fetch(
                ["ticket_sla_hours", "ticket_sla_hours_urgent", "ticket_sla_hours_blocking", "ticket_calendar_id"]
            )
            # precomputed before the INSERT: the creation date will be the transaction's time
            start = ticket.create_date or self.env.cr.now()
            hours, threshold = ticket._sla_first_response_target(policies[ticket])
            groups[company._ticket_calendar(), hours, threshold, start] |= ticket
        for (calendar, hours, threshold, start), tickets in groups.items():
            tickets.sla_deadline, tickets.sla_at_risk_date = self._sla_plan(calendar, hours, threshold, start)

    @api.model
    def _plan_sla(self, calendar, hours, start):
        """(deadline, at-risk date): ``start`` (naive UTC) + ``hours`` (and ``hours`` - 1)
        working hours of ``calendar``, leaves included, as ``calendar.plan_hours`` counts them;
        both found in one walk over the work intervals, day by day from the calendar's cached
        intervals of each day (``resource.calendar._ticket_work_intervals_day``): creating a
        ticket reads neither the calendar nor its attendances and leaves once the days are in
        the cache."""
        targets = {hours: None, hours - 1: None} if hours > 1 else {hours: None}
        day, elapsed = start.date(), 0.0
        for n in range(1500):  # the horizon of plan_hours: 100 windows of 14 days
            for begin, end in calendar._ticket_work_intervals_day(day + timedelta(days=n)):
                if end <= start:
                    continue
                begin = max(begin, start)
                length = (end - begin).total_seconds() / 3600
                for target in [t for t, found in targets.items() if found is None and t - elapsed <= length]:
                    targets[target] = begin + timedelta(hours=target - elapsed)
                elapsed += length
            if all(targets.values()) or (not elapsed and n >= 366):
                break  # (a year without a working hour: a calendar without working time)
        deadline = targets[hours] or start + timedelta(hours=hours)
        return deadline, (targets[hours - 1] if hours > 1 else start) or start

    @api.depends("state", "date_taken", "sla_deadline", "sla_at_risk_date")
    def _compute_sla_status(self):
        now = fields.Datetime.now()
        for ticket in self:
            if not ticket.sla_deadline:
                ticket.sla_status = "on_time"
            elif ticket.date_taken:
                ticket.sla_status = "met" if ticket.date_taken <= ticket.sla_deadline else "breached"
            elif ticket.state == "new":
                ticket.sla_status = ticket._sla_status_at(now)
            else:  # left `new` without being taken in charge (closed, discarded, blocked): frozen
                ticket.sla_status = ticket.sla_status or ticket._sla_status_at(now)

    def _sla_status_at(self, now):
        self.ensure_one()
        if now >= self.sla_deadline:
            return "breached"
        if self.sla_at_risk_date and now >= self.sla_at_risk_date:
            return "at_risk"
        return "on_time"

    @api.depends("state")
    @api.depends_context("lang")
    def _compute_portal_block_message(self):
        for ticket in self:
            ticket.portal_block_message = str(BLOCK_CUSTOMER_MESSAGE) if ticket.state == "blocked" else False

    @api.depends("state", "ticket_type")
    @api.depends_context("uid")
    def _compute_can_moves(self):
        moves = [name[len("can_") :] for name in self._fields if name.startswith("can_")]
        for ticket in self:
            allowed = ticket._allowed_moves()
            for move in moves:
                ticket[f"can_{move}"] = move in allowed

    @api.depends("number", "name")
    def _compute_display_name(self):
        for ticket in self:
            ticket.display_name = f"{ticket.number} - {ticket.name}" if ticket.number else ticket.name

    def _compute_access_url(self):
        result = super()._compute_access_url()
        for ticket in self:
            ticket.access_url = f"/my/tickets/{ticket.id}"
        return result

    @api.model
    def _read_group_expand_states(self, states, domain):
        """Show every state as a kanban column, in workflow order, even when empty."""
        return [key for key, _label in TICKET_STATES]

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            # A ticket starts Open: its status and the workflow's fields come from moves. The
            # superuser (data loading, imports by code, tests) may create a ticket anywhere.
            self._check_no_workflow_values(vals_list, creating=True)
            # pylint: disable-next=context-overridden  # drops the caller's default_state & co. on purpose
            self = self.with_context(
                {  # noqa: PLW0642 - no default_state & co. from the caller's context
                    key: value
                    for key, value in self.env.context.items()
                    if key not in {f"default_{name}" for name in ("state",) + WORKFLOW_FIELDS}
                }
            )
        sequence = self.env["ir.sequence"].sudo()  # numbering is not a right of the creator
        for vals in vals_list:
            vals["number"] = sequence.next_by_code("terasoft.ticket")
            if not vals.get("user_id") and vals.get("category_id") and not vals.get("auto_assigned"):
                category = self.env["terasoft.ticket.category"].browse(vals["category_id"])
                vals["user_id"] = category.user_id.id
        tickets = super().create(vals_list)
        if self.env.context.get("tracking_disable"):  # no auto-subscription then: see below
            for ticket in tickets.filtered("partner_id"):
                ticket.message_subscribe(partner_ids=ticket.partner_id.ids)
        # A ticket of an insolvent company starts blocked (sudo: the block is the system's move).
        tickets.filtered(lambda t: t.insolvent and t._move_target("block")).sudo()._apply_move("block")
        return tickets

    def _message_auto_subscribe_followers(self, updated_values, default_subtype_ids):
        """The contact follows its ticket: it receives the updates and its email replies land
        here. Subscribed with the assignee, in the same insertion, by mail.thread's
        auto-subscription on creation and on change (``create`` and ``write`` subscribe it
        themselves when ``tracking_disable`` skips the auto-subscription)."""
        user = self.env["res.users"].sudo().browse(updated_values.get("user_id"))
        if user:  # what Odoo reads of the assignee (a res.users/res.partner row is ~50/~90 columns)
            user.fetch(["active", "partner_id"])
            user.partner_id.fetch(["lang"])
        followers = super()._message_auto_subscribe_followers(updated_values, default_subtype_ids)
        partner = self.env["res.partner"].sudo().browse(updated_values.get("partner_id"))
        if partner:
            default, _internal, external = self.env["mail.message.subtype"].default_subtypes(self._name)
            followers.append((partner.id, (external if partner.partner_share else default).ids, False))
        return followers

    def write(self, vals):
        if self.env.context.get(_MOVE_CONTEXT_KEY) is not _MOVE_TOKEN:
            # The state changes only through a move of WORKFLOW (see _apply_move), whoever calls.
            if "state" in vals:
                raise UserError(
                    self.env._(
                        "The status of a ticket changes only through its workflow actions "
                        "(Take in charge, Resolve, ...)."
                    )
                )
            if not self.env.su:
                self._check_no_workflow_values([vals])
        result = super().write(vals)
        if vals.get("partner_id") and self.env.context.get("tracking_disable"):  # else auto-subscribed
            for ticket in self:
                ticket.message_subscribe(partner_ids=ticket.partner_id.ids)
        if "partner_id" in vals:
            # moved to an insolvent company: block; to a solvent one: lift the block
            tickets = self.filtered(lambda t: t.insolvent and t._move_target("block"))
            tickets.sudo()._apply_move("block")
            tickets = self.filtered(lambda t: t.state == "blocked" and not t.insolvent)
            tickets.sudo()._apply_move("unblock")
        return result

    def _check_no_workflow_values(self, vals_list, creating=False):
        """Refuse values of `state` (other than Open, on creation) and of WORKFLOW_FIELDS: they
        are written by `_apply_move` and the system only (see ``write``)."""
        for vals in vals_list:
            if creating and vals.get("state", "new") == "new":
                vals = {key: value for key, value in vals.items() if key != "state"}
            # on creation, the web client sends empty values for the fields of its form
            names = [name for name in ("state",) + WORKFLOW_FIELDS if name in vals and (vals[name] or not creating)]
            if names:
                raise UserError(
                    self.env._(
                        "These fields of a ticket change only through its workflow actions "
                        "(Take in charge, Resolve, ...): %(fields)s.",
                        fields=", ".join(self._fields[name]._description_string(self.env) for name in names),
                    )
                )

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        return [
            dict(vals, name=self.env._("%(name)s (copy)", name=ticket.name))
            for ticket, vals in zip(self, vals_list, strict=True)
        ]

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.number

    # ------------------------------------------------------------------ workflow engine

    def _move_target(self, move):
        """The state ``move`` leads this ticket to, or None when the move is not legal now."""
        self.ensure_one()
        for name, types, from_states, to_state, _actor in WORKFLOW:
            if name == move and self.state in from_states and (types is None or self.ticket_type in types):
                return (self.state_before_block or "new") if to_state == PREVIOUS else to_state
        return None

    def _move_actor(self, move):
        return next(actor for name, *_rest, actor in WORKFLOW if name == move)

    def _user_may(self, actor):
        """Whether the current user may perform moves of ``actor`` kind."""
        if self.env.su:
            return True
        user = self.env.user
        if actor == STAFF:
            return user.has_group("terasoft_portal.group_terasoft_portal_user")
        if actor == MANAGER:
            return user.has_group("terasoft_portal.group_terasoft_portal_manager")
        if actor == CUSTOMER:
            return True  # the caller checked that the user may read the ticket
        return False

    def _allowed_moves(self):
        """Names of the moves the current user may perform on this ticket now."""
        self.ensure_one()
        return {move for move in MOVES if self._move_target(move) and self._user_may(self._move_actor(move))}

    def _check_move(self, move):
        """Raise a UserError naming the first ticket of ``self`` on which ``move`` is illegal."""
        labels = dict(self._fields["state"]._description_selection(self.env))
        for ticket in self:
            if not ticket._move_target(move):
                raise UserError(
                    self.env._(
                        "Ticket %(ref)s (%(type)s) cannot do “%(move)s” while it is “%(state)s”.",
                        ref=ticket.number,
                        move=self._move_label(move),
                        state=labels[ticket.state],
                        type=dict(self._fields["ticket_type"]._description_selection(self.env))[ticket.ticket_type],
                    )
                )
        if not self._user_may(self._move_actor(move)):
            raise AccessError(self.env._("You are not allowed to %(move)s tickets.", move=self._move_label(move)))

    def _move_label(self, move):
        return {
            "take_in_charge": self.env._("take in charge"),
            "ask_customer": self.env._("ask the customer"),
            "customer_reply": self.env._("record the customer's reply"),
            "resolve": self.env._("resolve"),
            "start_progress": self.env._("start working"),
            "plan": self.env._("plan"),
            "escalate_development": self.env._("escalate to development"),
            "customer_close": self.env._("close"),
            "autoclose": self.env._("close automatically"),
            "block": self.env._("block"),
            "unblock": self.env._("unblock"),
            "discard": self.env._("discard"),
            "reopen": self.env._("reopen"),
        }[move]

    def _apply_move(self, move, message=None, **vals):
        """Check ``move`` on every ticket of ``self``, then change their state (and ``vals``).

        All or nothing: one illegal ticket raises before anything is written. Logs every
        change in ``terasoft.ticket.state.log`` (with ``message``, the text for the customer),
        then notifies the customer of support and system moves (see ``_notify_move``).
        Returns the tickets, for chaining.
        """
        if not self:
            return self
        self._check_move(move)
        now = fields.Datetime.now()
        durations = self._hours_in_current_states(now)
        previous_states = {ticket.id: ticket.state for ticket in self}
        logs = []
        for (target, from_state), tickets in self.grouped(lambda t: (t._move_target(move), t.state)).items():
            logs += [
                {
                    "ticket_id": ticket.id,
                    "from_state": from_state,
                    "to_state": target,
                    "move": move,
                    "date": now,
                    "message": message or False,
                    "duration_hours": durations[ticket.id],
                }
                for ticket in tickets
            ]
            extra = dict(vals, state=target)
            if target == "closed":
                extra.setdefault("date_closed", now)
            if move == "block":
                extra["state_before_block"] = from_state
            elif move == "unblock":
                extra["state_before_block"] = False
            # the caller's context (lang, tz, tracking and mail keys) plus the move's token
            tickets.with_context(**{_MOVE_CONTEXT_KEY: _MOVE_TOKEN}).write(extra)
        # the log is a fact of the system, not a right of the user who moved the ticket
        self.env["terasoft.ticket.state.log"].sudo().create(logs)
        self._sla_track_move(previous_states, now)  # stop, restart or reach the SLA clocks
        self._notify_move(move, message)
        return self

    def _hours_in_current_states(self, now):
        """{ticket id: hours since its last state change (or creation)}, in two queries at most."""
        last_change = dict(
            self.env["terasoft.ticket.state.log"]
            .sudo()
            ._read_group(
                # not the history of merged duplicates (see terasoft.ticket.merge)
                [("ticket_id", "in", self.ids), ("merged_from_number", "=", False)],
                ["ticket_id"],
                ["date:max"],
            )
        )
        result = {}
        for ticket in self:
            last = last_change.get(ticket) or ticket.create_date or now
            result[ticket.id] = round(max((now - last).total_seconds(), 0) / 3600, 2)
        return result

    def _hours_in_current_state(self, now):
        self.ensure_one()
        return self._hours_in_current_states(now)[self.id]

    # ------------------------------------------------------------------ public moves (RPC API)
    # Called from buttons without the text they need, they open the move wizard;
    # called with keyword arguments (RPC, server actions, portal), they act at once.

    def _open_move_wizard(self, move):
        return {
            "type": "ir.actions.act_window",
            "name": self._move_label(move).capitalize(),
            "res_model": "terasoft.ticket.move",
            "view_mode": "form",
            "target": "new",
            "context": {"default_move": move, "default_ticket_ids": self.ids},
        }

    def action_take_in_charge(self):
        self._check_move("take_in_charge")  # all or nothing, before the two writes below
        now = fields.Datetime.now()
        assigned = self.filtered("user_id")
        assigned._apply_move("take_in_charge", date_taken=now)
        (self - assigned)._apply_move("take_in_charge", date_taken=now, user_id=self.env.uid)
        return True

    def action_ask_customer(self, message=None):
        if not message:
            return self._open_move_wizard("ask_customer")
        self._apply_move("ask_customer", message=message)
        return True

    def action_start_progress(self, message=None):
        if not message:
            return self._open_move_wizard("start_progress")
        self._apply_move("start_progress", message=message)
        return True

    def action_plan(self, planned_date=None, message=None):
        if not planned_date:
            return self._open_move_wizard("plan")
        self._apply_move("plan", message=message, planned_date=planned_date)
        return True

    def action_escalate_development(self, message=None):
        if not message:
            return self._open_move_wizard("escalate_development")
        self._apply_move("escalate_development", message=message)
        return True

    def action_resolve(self, solution=None):
        if not solution:
            return self._open_move_wizard("resolve")
        self._apply_move(
            "resolve",
            message=solution,
            solution=solution,
            date_resolved=fields.Datetime.now(),
            autoclose_reminder_sent=False,
        )
        return True

    def action_customer_close(self):
        """The customer's "Chiudi questo ticket": final for the customer.

        Callable by the ticket's portal contacts: they have no write access, so the state
        is written as superuser once the move and the read access are checked.
        """
        self.check_access("read")
        self._check_move("customer_close")
        self.sudo()._apply_move("customer_close", date_closed=fields.Datetime.now())
        return True

    def action_discard(self, reason=None, duplicate_of_id=None):
        if not reason and not duplicate_of_id:
            return self._open_move_wizard("discard")
        if duplicate_of_id in self.ids:
            raise UserError(self.env._("A ticket cannot be a duplicate of itself."))
        self._apply_move(
            "discard", discard_reason=reason, duplicate_of_id=duplicate_of_id, date_discarded=fields.Datetime.now()
        )
        return True

    def action_reopen(self):
        self._apply_move("reopen", date_closed=False, date_discarded=False)
        return True

    def action_customer_answer_plan(self, accept, message=None):
        """The customer confirms the planned date, or proposes another one (``message``).

        Posts the answer on the ticket as the customer and notifies the assignee; the state
        does not change. Callable by the ticket's portal contacts (read access suffices).
        """
        self.ensure_one()
        self.check_access("read")
        if self.state != "planned":
            raise UserError(self.env._("Ticket %(ref)s is not planned.", ref=self.number))
        if accept:
            body = self.env._(
                "The customer confirms the planned date %(date)s.", date=fields.Datetime.to_string(self.planned_date)
            )
        elif message:
            body = self.env._("The customer proposes another date: %(message)s", message=message)
        else:
            raise UserError(self.env._("Please say which date suits you better."))
        # posted as superuser: portal users have no write access; the author stays the customer
        self.sudo().message_post(
            body=body,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            author_id=self.env.user.partner_id.id,
            partner_ids=self.user_id.partner_id.ids,
        )
        return True

    # ------------------------------------------------------------------ messages: customer replies, notes

    def message_post(self, **kwargs):
        """Every way of posting (chatter, portal, Odoo's ``/mail/message/post``, email, RPC) ends
        here, so the two rules of the ticket's messages are kept here:

        - a customer writes only public comments: what a portal user or a visitor with the
          ticket's link posts, and an email of a customer contact, is a public comment (Odoo
          files a post without ``message_type``/``subtype_xmlid`` as a note, and an email
          answering a note as a note) — so that it shows in the portal and counts as the
          customer's reply (``_message_post_after_hook``);
        - an internal note never goes to a customer: a note whose recipients (mentions,
          ``partner_ids``, ``outgoing_email_to``) include a customer is refused, with a
          message telling the agent to use *Send message* (``_notify_get_recipients`` also
          drops customers from the recipients of any internal message, e.g. activity feedback).
        """
        self.ensure_one()
        if self._is_customer_post(kwargs):
            kwargs.pop("subtype_id", None)
            kwargs.update(
                message_type="email" if kwargs.get("message_type") == "email" else "comment",
                subtype_xmlid="mail.mt_comment",
                is_internal=False,
            )
        elif self._is_internal_post(kwargs):
            self._check_note_recipients(kwargs.get("partner_ids"), kwargs.get("outgoing_email_to"))
        if self.env.context.get("terasoft_template_batch_post"):
            # a template posted by _post_template_batch carries no tracking: saying so spares
            # the notification its search of the message's tracking values (one per ticket)
            kwargs.setdefault("tracking_value_ids", [])
        return super().message_post(**kwargs)

    def _is_customer_partner(self, partner):
        """Whether ``partner`` speaks for the customer on this ticket: a contact of the ticket's
        company with no internal user."""
        self.ensure_one()
        return (
            bool(partner)
            and partner.commercial_partner_id == self.commercial_partner_id
            and not partner.user_ids.filtered(lambda user: not user.share)
        )

    def _post_subtype(self, post_values):
        """The subtype ``message_post`` gives a message posted with ``post_values`` (mt_note when
        none is given, as message_post does)."""
        if post_values.get("subtype_xmlid"):
            return (
                self.env.ref(post_values["subtype_xmlid"], raise_if_not_found=False) or self.env["mail.message.subtype"]
            )
        if post_values.get("subtype_id"):
            return self.env["mail.message.subtype"].browse(post_values["subtype_id"])
        return self.env.ref("mail.mt_note")

    def _is_customer_post(self, post_values):
        """Whether the ``message_post`` values are a customer's own words: an email whose author
        is a customer contact, or a comment (or a message with Odoo's defaults: no type, a
        plain comment or note subtype) posted by a portal user or a visitor with the ticket's
        link. Not the system's notifications posted while a customer acts (tracking, moves)."""
        message_type = post_values.get("message_type", "notification")
        if post_values.get("tracking_value_ids") or message_type not in ("notification", "comment", "email"):
            return False
        if message_type == "email":
            author_id, _email_from = self._message_compute_author(
                post_values.get("author_id"), post_values.get("email_from")
            )
            return self._is_customer_partner(self.env["res.partner"].sudo().browse(author_id))
        if self.env.user._is_internal():
            return False
        return message_type == "comment" or self._post_subtype(post_values) in (
            self.env.ref("mail.mt_comment") | self.env.ref("mail.mt_note")
        )

    def _is_internal_post(self, post_values):
        """Whether the ``message_post`` values make an internal message (subtype or flag)."""
        return bool(post_values.get("is_internal") or self._post_subtype(post_values).sudo().internal)

    def _check_note_recipients(self, partner_ids, outgoing_email_to=None):
        """Refuse an internal note addressed to customers (partners without an internal user,
        or email addresses): they would receive it by email."""
        customers = self.env["res.partner"].sudo().browse(partner_ids or []).filtered("partner_share")
        if customers or outgoing_email_to:
            names = ", ".join(customers.mapped("display_name") + ([outgoing_email_to] if outgoing_email_to else []))
            raise UserError(
                self.env._(
                    "A customer cannot be mentioned in an internal note: %(names)s would receive it by "
                    "email. Internal notes are for the support team only; to write to the customer, "
                    "use Send message.",
                    names=names,
                )
            )

    def _message_post_after_hook(self, message, msg_values):
        """A public message of the customer is the customer's reply: it moves the ticket."""
        result = super()._message_post_after_hook(message, msg_values)
        author = message.author_id
        is_public = (
            message.message_type in ("comment", "email")
            and not message.is_internal
            and message.subtype_id == self.env.ref("mail.mt_comment")
        )
        if is_public and self._is_customer_partner(author):
            # sudo: the customer has no write access; the move itself is checked by the table
            ticket = self.sudo()
            ticket.date_last_customer_message = fields.Datetime.now()
            if ticket._move_target("customer_reply"):
                ticket._apply_move("customer_reply")
        return result

    # ------------------------------------------------------------------ administrative block

    @api.model
    def _sync_insolvency(self, companies):
        """Block the open tickets of the insolvent ``companies``; unblock those of the others.

        Called when the `insolvent` flag of commercial partners changes. Runs as superuser:
        the block is a move of the system, whoever flagged the company.
        """
        tickets = self.sudo().search([("commercial_partner_id", "in", companies.ids)])
        insolvent = tickets.filtered(lambda t: t.insolvent)
        insolvent.filtered(lambda t: t._move_target("block"))._apply_move("block")
        (tickets - insolvent).filtered(lambda t: t.state == "blocked")._apply_move("unblock")
