from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

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
OPEN_STATES = ("new", "waiting_support", "waiting_customer", "in_progress", "planned",
               "waiting_development", "resolved")

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


class TerasoftTicket(models.Model):
    _name = "terasoft.ticket"
    _description = "Support Ticket"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_names_search = ["number", "name"]
    _mail_post_access = "read"  # portal users comment through the portal on tickets they can read

    number = fields.Char(
        "Ticket Nr", readonly=True, copy=False, index=True, default=lambda self: self.env._("New"),
    )
    name = fields.Char("Title", required=True, tracking=True)
    description = fields.Html(sanitize=True, sanitize_style=True)
    ticket_type = fields.Selection(
        [("clarification", "Clarification"), ("defect", "Defect"), ("request", "Request")],
        "Type", required=True, default="clarification", tracking=True,
    )
    priority = fields.Selection(
        [("0", "Not urgent"), ("1", "Medium"), ("2", "Urgent")],
        required=True, default="0", tracking=True,
    )
    importance = fields.Selection(
        [("non_blocking", "Non-blocking"), ("blocking", "Blocking")],
        required=True, default="non_blocking", tracking=True,
    )
    category_id = fields.Many2one(
        "terasoft.ticket.category", "Category", required=True, index=True, tracking=True,
        ondelete="restrict",
    )
    partner_id = fields.Many2one(
        "res.partner", "Contact", index=True, tracking=True,
        help="The customer contact who opened the ticket.",
    )
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", string="Customer Company", store=True, index=True,
    )
    partner_email = fields.Char(related="partner_id.email", string="Contact Email")
    user_id = fields.Many2one(
        "res.users", "Assigned to", index=True, tracking=True, domain=[("share", "=", False)],
    )
    company_id = fields.Many2one(
        "res.company", "Support Company", required=True, index=True,
        default=lambda self: self.env.company,
    )
    channel = fields.Selection(
        [("portal", "Portal"), ("email", "Email"), ("phone", "Phone"), ("onsite", "On site")],
        "Support Channel", required=True, default="phone", tracking=True,
    )
    product_id = fields.Many2one("terasoft.product", "Product", index=True, tracking=True)
    product_version = fields.Char("Product Version")
    state = fields.Selection(
        TICKET_STATES, "Status", required=True, default="new", index=True, tracking=True,
        group_expand="_read_group_expand_states", copy=False,
    )
    is_done = fields.Boolean(
        "Closed for the customer", compute="_compute_is_done", store=True, index=True,
        export_string_translation=False,
    )
    solution = fields.Html(sanitize=True, tracking=False)
    planned_date = fields.Datetime("Planned Date", tracking=True, copy=False)
    date_taken = fields.Datetime("Taken in Charge On", readonly=True, copy=False)
    date_resolved = fields.Datetime("Resolved On", readonly=True, copy=False)
    date_closed = fields.Datetime("Closed On", readonly=True, copy=False)
    sla_deadline = fields.Datetime("Take-in-charge Deadline", readonly=True, copy=False, index=True)
    insolvent = fields.Boolean(related="commercial_partner_id.insolvent", string="Insolvency Status")
    state_before_block = fields.Selection(
        TICKET_STATES, "Status Before the Block", readonly=True, copy=False,
        help="Where the ticket goes back when the customer's administrative block is lifted.",
    )
    duplicate_of_id = fields.Many2one("terasoft.ticket", "Duplicate Of", index="btree_not_null", copy=False)
    discard_reason = fields.Text("Reason for Discarding", copy=False)
    date_last_customer_message = fields.Datetime(
        "Last Customer Message", readonly=True, copy=False,
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
    # The portal lists a company's tickets newest first, split by open/closed.
    _portal_list_idx = models.Index("(commercial_partner_id, is_done, id DESC)")

    @api.depends("state")
    def _compute_is_done(self):
        for ticket in self:
            ticket.is_done = ticket.state in DONE_STATES

    @api.depends("state", "ticket_type")
    @api.depends_context("uid")
    def _compute_can_moves(self):
        moves = [name[len("can_"):] for name in self._fields if name.startswith("can_")]
        for ticket in self:
            allowed = ticket._allowed_moves()
            for move in moves:
                ticket[f"can_{move}"] = move in allowed

    @api.depends("number", "name")
    def _compute_display_name(self):
        for ticket in self:
            ticket.display_name = f"{ticket.number} - {ticket.name}" if ticket.number else ticket.name

    def _compute_access_url(self):
        super()._compute_access_url()
        for ticket in self:
            ticket.access_url = f"/my/tickets/{ticket.id}"

    @api.model
    def _read_group_expand_states(self, states, domain):
        """Show every state as a kanban column, in workflow order, even when empty."""
        return [key for key, _label in TICKET_STATES]

    @api.model_create_multi
    def create(self, vals_list):
        sequence = self.env["ir.sequence"].sudo()  # numbering is not a right of the creator
        for vals in vals_list:
            vals["number"] = sequence.next_by_code("terasoft.ticket")
            if not vals.get("user_id") and vals.get("category_id"):
                category = self.env["terasoft.ticket.category"].browse(vals["category_id"])
                vals["user_id"] = category.user_id.id
        return super().create(vals_list)

    def write(self, vals):
        if "state" in vals and not self.env.context.get("terasoft_ticket_move"):
            # The state changes only through a move of WORKFLOW (see _apply_move).
            raise UserError(self.env._(
                "The status of a ticket changes only through its workflow actions "
                "(Take in charge, Resolve, ...)."))
        return super().write(vals)

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        return [dict(vals, name=self.env._("%(name)s (copy)", name=ticket.name))
                for ticket, vals in zip(self, vals_list)]

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
        return {
            move for move in MOVES
            if self._move_target(move) and self._user_may(self._move_actor(move))
        }

    def _check_move(self, move):
        """Raise a UserError naming the first ticket of ``self`` on which ``move`` is illegal."""
        labels = dict(self._fields["state"]._description_selection(self.env))
        for ticket in self:
            if not ticket._move_target(move):
                raise UserError(self.env._(
                    "Ticket %(ref)s (%(type)s) cannot do “%(move)s” while it is “%(state)s”.",
                    ref=ticket.number, move=self._move_label(move), state=labels[ticket.state],
                    type=dict(self._fields["ticket_type"]._description_selection(self.env))[ticket.ticket_type],
                ))
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

    def _apply_move(self, move, **vals):
        """Check ``move`` on every ticket of ``self``, then change their state (and ``vals``).

        All or nothing: one illegal ticket raises before anything is written. Logs every
        change in ``terasoft.ticket.state.log``. Returns the tickets, for chaining.
        """
        self._check_move(move)
        now = fields.Datetime.now()
        logs = []
        for (target, from_state), tickets in self.grouped(lambda t: (t._move_target(move), t.state)).items():
            logs += [{
                "ticket_id": ticket.id,
                "from_state": from_state,
                "to_state": target,
                "move": move,
                "duration_hours": ticket._hours_in_current_state(now),
            } for ticket in tickets]
            extra = dict(vals, state=target)
            if move == "block":
                extra["state_before_block"] = from_state
            elif move == "unblock":
                extra["state_before_block"] = False
            tickets.with_context(terasoft_ticket_move=move).write(extra)
        # the log is a fact of the system, not a right of the user who moved the ticket
        self.env["terasoft.ticket.state.log"].sudo().create(logs)
        return self

    def _hours_in_current_state(self, now):
        self.ensure_one()
        last = self.state_log_ids.sorted("date")[-1:].date or self.create_date or now
        return round((now - last).total_seconds() / 3600, 2)

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

    def _post_public(self, body):
        """Post ``body`` as a public reply of support on each ticket of ``self``."""
        for ticket in self:
            ticket.message_post(body=body, message_type="comment", subtype_xmlid="mail.mt_comment")

    def action_take_in_charge(self):
        self._check_move("take_in_charge")
        now = fields.Datetime.now()
        for ticket in self:
            ticket._apply_move("take_in_charge", date_taken=now, user_id=ticket.user_id.id or self.env.uid)
        return True

    def action_ask_customer(self, message=None):
        if not message:
            return self._open_move_wizard("ask_customer")
        self._apply_move("ask_customer")
        self._post_public(message)
        return True

    def action_start_progress(self, message=None):
        if not message:
            return self._open_move_wizard("start_progress")
        self._apply_move("start_progress")
        self._post_public(message)
        return True

    def action_plan(self, planned_date=None, message=None):
        if not planned_date:
            return self._open_move_wizard("plan")
        self._apply_move("plan", planned_date=planned_date)
        if message:
            self._post_public(message)
        return True

    def action_escalate_development(self, message=None):
        if not message:
            return self._open_move_wizard("escalate_development")
        self._apply_move("escalate_development")
        self._post_public(message)
        return True

    def action_resolve(self, solution=None):
        if not solution:
            return self._open_move_wizard("resolve")
        self._apply_move("resolve", solution=solution, date_resolved=fields.Datetime.now())
        self._post_public(solution)
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
        self._apply_move("discard", discard_reason=reason, duplicate_of_id=duplicate_of_id)
        return True

    def action_reopen(self):
        self._apply_move("reopen", date_closed=False)
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
            body = self.env._("The customer confirms the planned date %(date)s.",
                              date=fields.Datetime.to_string(self.planned_date))
        elif message:
            body = self.env._("The customer proposes another date: %(message)s", message=message)
        else:
            raise UserError(self.env._("Please say which date suits you better."))
        # posted as superuser: portal users have no write access; the author stays the customer
        self.sudo().message_post(
            body=body, message_type="comment", subtype_xmlid="mail.mt_comment",
            author_id=self.env.user.partner_id.id,
            partner_ids=self.user_id.partner_id.ids,
        )
        return True

    # ------------------------------------------------------------------ customer replies

    def _message_post_after_hook(self, message, msg_values):
        """A public message of the customer is the customer's reply: it moves the ticket."""
        result = super()._message_post_after_hook(message, msg_values)
        author = message.author_id
        is_public = message.message_type in ("comment", "email") and not message.is_internal \
            and message.subtype_id == self.env.ref("mail.mt_comment")
        if is_public and author and author.commercial_partner_id == self.commercial_partner_id \
                and not author.user_ids.filtered(lambda u: not u.share):
            # sudo: the customer has no write access; the move itself is checked by the table
            ticket = self.sudo()
            ticket.date_last_customer_message = fields.Datetime.now()
            if ticket._move_target("customer_reply"):
                ticket._apply_move("customer_reply")
        return result
