"""Customer-portal side of terasoft.ticket: what the portal pages need from the model.

Kept apart from terasoft_ticket.py (the workflow's home) so that the portal and the state
machine evolve in separate files. Nothing here writes ``state``: customer actions go
through the workflow's ``action_customer_*`` methods and ``message_post``.
"""

import re

from odoo import api, fields, models
from odoo.exceptions import MissingError
from odoo.fields import Domain
from odoo.tools import SQL, format_datetime, plaintext2html
from odoo.tools.translate import LazyTranslate

from .terasoft_ticket import TICKET_STATES

TITLE_MAX_LENGTH = 200
VERSION_MAX_LENGTH = 32
_lt = LazyTranslate(__name__)

# One line under the status badge of the portal's ticket page: the manual's table of states.
STATE_HELP = {
    "new": _lt("New support request."),
    "waiting_support": _lt("The ticket is waiting for an answer from the support operator."),
    "waiting_customer": _lt("The operator asked you for more information and is waiting for your answer."),
    "in_progress": _lt("The operator found that an activity is needed; the ticket waits for it to be completed."),
    "planned": _lt("Activity planned and agreed with you."),
    "waiting_development": _lt("Handled by the analysis and development department."),
    "resolved": _lt("The ticket is resolved and waits to be closed for good."),
    "closed": _lt("Closed."),
    "blocked": _lt(
        "The ticket cannot be worked on because of an administrative block. "
        "Please contact the administration department."
    ),
    "discarded": _lt(
        "Duplicate tickets and requests not about support (sales, system administration...) "
        "are put in this state to be deleted."
    ),
}

# The portal's ticket search matches Italian word forms ("timbratura" finds "timbrature"), as the
# FAQ search does: the words of a ticket are in the generated column search_vector (see init),
# the number and title with weight A, the description with weight D.
FTS_CONFIG = "italian"
FTS_WEIGHTS = {"all": "", "name": "A", "description": "D"}
MAX_QUERY_WORDS = 12


class TerasoftTicket(models.Model):
    # pylint: disable-next=consider-merging-classes-inherited  # one file per concern
    _inherit = "terasoft.ticket"

    download_log_ids = fields.One2many(
        "terasoft.attachment.download.log",
        "ticket_id",
        "Attachment Downloads",
        readonly=True,
    )
    # The portal's "Status" sorting follows the workflow (Aperto, Attesa supporto, ...), as the
    # customer reads the column, not the alphabetical order of the technical codes.
    state_sequence = fields.Integer(
        compute="_compute_state_sequence",
        store=True,
        precompute=True,
        export_string_translation=False,
    )

    @api.depends("state")
    def _compute_state_sequence(self):
        sequence = {state: index for index, (state, _label) in enumerate(TICKET_STATES)}
        for ticket in self:
            ticket.state_sequence = sequence.get(ticket.state, 0)

    def init(self):
        """search_vector: a stored generated column (PostgreSQL keeps it in sync with number, name
        and description on every write; the ORM never reads it) with its GIN index. HTML tags
        of the description are not words for to_tsvector's parser."""
        self.env.cr.execute(
            SQL(
                "ALTER TABLE terasoft_ticket ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS ("
                "setweight(to_tsvector(%(config)s, coalesce(number, '') || ' ' || coalesce(name, '')), 'A') || "
                "setweight(to_tsvector(%(config)s, coalesce(description, '')), 'D')) STORED",
                config=SQL(f"'{FTS_CONFIG}'::regconfig"),
            )
        )
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS terasoft_ticket_search_vector_idx ON terasoft_ticket USING gin (search_vector)"
        )

    # ------------------------------------------------------------------ portal search
    @api.model
    def _portal_search_domain(self, text, search_in="all"):
        """The portal list's search: ``text`` in the fields of ``search_in`` with ILIKE (ticket
        numbers, partial codes), or, for the number/title (``all``, ``name``) and the description,
        all its words in any Italian form (full text search; the last word also as a prefix).
        Returns a Domain."""
        fields_by_input = {
            "all": ["number", "name"],
            "number": ["number"],
            "name": ["name"],
            "description": ["description"],
            "category": ["category_id.complete_name"],
            "product": ["product_id.name"],
            "contact": ["partner_id.name"],
        }
        names = fields_by_input.get(search_in, fields_by_input["all"])
        domain = Domain.OR(Domain(name, "ilike", text) for name in names)
        weight = FTS_WEIGHTS.get(search_in)
        words = re.findall(r"\w+", text)[:MAX_QUERY_WORDS]  # only \w+ reaches to_tsquery: no syntax injection
        if weight is None or not words:
            return domain
        # "word:A" (weight A only), "word:*" (prefix), "word:*A" (both)
        labels = [weight] * len(words)
        if len(words[-1]) >= 3:
            labels[-1] = "*" + weight
        expression = " & ".join(f"{word}:{label}" if label else word for word, label in zip(words, labels, strict=True))
        # the generated column follows these: write pending values before the search reads it
        self.flush_model(["number", "name", "description"])
        fts = Domain.custom(
            to_sql=lambda model, alias, query: SQL(
                "%s @@ to_tsquery(%s::regconfig, %s)", SQL.identifier(alias, "search_vector"), FTS_CONFIG, expression
            )
        )
        return domain | fts

    # ------------------------------------------------------------------ attachments: rules
    @api.model
    def _portal_attachment_rules(self):
        """Return ``(max_bytes, allowed_extensions)`` from the settings (sudo: portal callers)."""
        return self.env["ir.attachment"]._terasoft_upload_rules()

    @api.model
    def _portal_check_files(self, files):
        """Validate uploaded files against the settings: allowed types, checked on the
        extension and on the content, size, no zip bombs (see ir.attachment).

        :param files: list of ``(filename, content_bytes)``
        :return: a list of error messages (empty when every file is accepted)
        """
        return self.env["ir.attachment"]._terasoft_upload_errors(files)

    def _portal_attach_files(self, files):
        """Create the attachments of ``files`` on this ticket (sudo) and return them."""
        self.ensure_one()
        return (
            self.env["ir.attachment"]
            .sudo()
            .create(
                [
                    {
                        "name": filename,
                        "raw": content,
                        "res_model": self._name,
                        "res_id": self.id,
                    }
                    for filename, content in files
                ]
            )
        )

    # ------------------------------------------------------------------ creation from the portal
    @api.model
    def _portal_create_ticket(self, form, files):
        """Validate the portal's "New ticket" form and create the ticket.

        Runs as the portal user: the ticket is created in sudo, for the current user's
        contact, with ``channel='portal'``.

        :param dict form: the raw form values (strings), keyed by field name
        :param files: list of ``(filename, content_bytes)`` from the ``attachments`` input
        :return: ``(ticket, errors)``; ``ticket`` is an empty recordset when ``errors``
            (a dict ``{field_name: message}``) is not empty
        """
        errors = {}
        vals = {}
        partner = self.env.user.partner_id
        # What the creation reads of the contact, its company and the support company, in one
        # narrow query each: reading one field of a res.partner (~90 columns) or a res.company
        # (~100) fetches them all, four times per ticket (the contact's time zone for the date
        # check, the customer company's support period, the SLA targets, the author and the
        # reply-to of the creation message).
        partner.fetch(
            [
                *("tz", "lang", "name", "email", "commercial_partner_id", "partner_share"),
                *("support_start_date", "support_end_date"),
            ]
        )
        partner.commercial_partner_id.fetch(["support_start_date", "support_end_date", "insolvent"])
        self.env.company.fetch(
            [
                *("name", "alias_domain_id", "ticket_calendar_id"),
                *("ticket_sla_hours", "ticket_sla_hours_urgent", "ticket_sla_hours_blocking"),
            ]
        )
        period_error = partner._portal_support_period_error()
        if period_error:
            errors["support_period"] = period_error
        name = (form.get("name") or "").strip()
        if not name:
            errors["name"] = self.env._("Please give the ticket a title.")
        elif len(name) > TITLE_MAX_LENGTH:
            errors["name"] = self.env._("The title is too long (at most %(max)s characters).", max=TITLE_MAX_LENGTH)
        vals["name"] = name
        for field_name in ("priority", "importance", "ticket_type"):
            value = form.get(field_name) or self._fields[field_name].default(self)
            if value not in dict(self._fields[field_name]._description_selection(self.env)):
                errors[field_name] = self.env._("Please choose a value from the list.")
            vals[field_name] = value
        category = self._portal_browse_active("terasoft.ticket.category", form.get("category_id"))
        if category and not category.portal_visible:  # internal (triage) categories are staff's
            category = category.browse()
        if not category:
            errors["category_id"] = self.env._("Please choose a category.")
        vals["category_id"] = category.id
        if form.get("product_id"):
            product = self._portal_browse_active("terasoft.product", form.get("product_id"))
            if not product:
                errors["product_id"] = self.env._("Please choose a product from the list.")
            vals["product_id"] = product.id
        version = (form.get("product_version") or "").strip()
        if len(version) > VERSION_MAX_LENGTH:
            errors["product_version"] = self.env._(
                "The version is too long (at most %(max)s characters).", max=VERSION_MAX_LENGTH
            )
        vals["product_version"] = version
        description = (form.get("description") or "").strip()
        file_errors = self._portal_check_files(files)
        if file_errors:
            errors["attachments"] = " ".join(file_errors)
        if errors:
            return self.browse(), errors
        partner = self.env.user.partner_id
        # the acknowledgement and the assignee's notice are sent by a cron (ack_pending); any
        # other email goes through the mail queue: no SMTP dialogue in the portal request
        ticket = (
            self.sudo()
            .with_context(mail_notify_force_send=False)
            .create(
                {
                    **vals,
                    # The customer types plain text: escape it, keep its line breaks.
                    "description": plaintext2html(description) if description else False,
                    "partner_id": partner.id,
                    "channel": "portal",
                }
            )
        )
        if files:
            ticket._portal_attach_files(files)
        return ticket, {}

    @api.model
    def _portal_browse_active(self, model_name, value):
        """The active record of ``model_name`` whose id is the string ``value``, or empty."""
        try:
            record_id = int(value or 0)
        except (TypeError, ValueError):
            return self.env[model_name]
        if record_id <= 0:
            return self.env[model_name]
        record = self.env[model_name].sudo().browse(record_id)
        try:  # one query, that also fetches what create() reads next (exists() would be a second)
            return record if record.active else self.env[model_name]
        except MissingError:
            return self.env[model_name]

    # ------------------------------------------------------------------ page content
    def _portal_public_messages(self):
        """Public messages of the ticket (comments and emails, no internal note), oldest first.

        Call on a sudo'ed ticket the user may see; returns sudo'ed ``mail.message``.
        """
        self.ensure_one()
        return (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("model", "=", self._name),
                    ("res_id", "=", self.id),
                    ("message_type", "in", ("comment", "email", "email_outgoing")),
                    ("is_internal", "=", False),
                    ("subtype_id.internal", "=", False),
                ],
                order="date asc, id asc",
            )
        )

    def _portal_attachments(self):
        """Attachments a customer may download: those of the ticket itself and of its public
        messages, never those of internal notes. Call on a sudo'ed ticket; returns sudo'ed.
        """
        self.ensure_one()
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "=", self.id),
                    ("res_field", "=", False),
                ],
                order="id asc",
            )
        )
        if not attachments:  # most tickets: nothing to filter, no second search
            return attachments
        internal = (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("model", "=", self._name),
                    ("res_id", "=", self.id),
                    ("attachment_ids", "!=", False),
                    "|",
                    ("is_internal", "=", True),
                    ("subtype_id.internal", "=", True),
                ]
            )
        )
        return attachments - internal.attachment_ids

    def _portal_download_attachment(self, attachment_id):
        """Return the sudo'ed attachment ``attachment_id`` if the customer may download it from
        this (sudo'ed, access-checked) ticket, after logging the download; else an empty recordset.
        """
        self.ensure_one()
        attachment = self._portal_attachments().filtered(lambda a: a.id == attachment_id)
        if attachment:
            self.env["terasoft.attachment.download.log"].sudo().create(
                {
                    "user_id": self.env.user.id,
                    "attachment_id": attachment.id,
                    "attachment_name": attachment.name,
                    "ticket_id": self.id,
                }
            )
        return attachment

    def _portal_format_datetime(self, value):
        """``value`` as customers read it, e.g. "lun 2 dicembre, 11:00" in Italian."""
        tz = self.env.user.tz or self.env.context.get("tz") or "Europe/Rome"
        return format_datetime(self.env, value, tz=tz, dt_format="EEE d MMMM, HH:mm")

    def _portal_state_help(self):
        """The one-line explanation of the ticket's status, for the customer."""
        self.ensure_one()
        help_text = STATE_HELP.get(self.state)
        return str(help_text) if help_text else ""

    def _portal_last_question(self):
        """What support is waiting for while the ticket waits for the customer: the message of
        the last "ask the customer" move (sanitized HTML), or False. Call on a sudo'ed ticket."""
        self.ensure_one()
        if self.state != "waiting_customer":
            return False
        log = (
            self.env["terasoft.ticket.state.log"]
            .sudo()
            .search([("ticket_id", "=", self.id), ("move", "=", "ask_customer")], order="date desc, id desc", limit=1)
        )
        return log.message or False

    # ------------------------------------------------------------------ customer comment
    def _portal_post_comment(self, text, files):
        """Post the customer's comment (plain text, escaped) with its files on this sudo'ed
        ticket, as the current user's contact. The workflow reacts to customer comments.

        :return: ``(message, errors)``; errors is a list of messages, nothing posted then
        """
        self.ensure_one()
        text = (text or "").strip()
        errors = self._portal_check_files(files)
        if not text and not files:
            errors.append(self.env._("Write a comment or attach a file."))
        if errors:
            return self.env["mail.message"], errors
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                [
                    {
                        "name": filename,
                        "raw": content,
                        "res_model": "mail.compose.message",
                        "res_id": 0,
                    }
                    for filename, content in files
                ]
            )
        )
        message = self.message_post(
            body=plaintext2html(text) if text else "",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            author_id=self.env.user.partner_id.id,
            attachment_ids=attachments.ids,
        )
        return message, []
