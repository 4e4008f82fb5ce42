from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..models.terasoft_ticket import DONE_STATES
from ..models.terasoft_ticket_mail import SILENT_MOVE_KEY


class TerasoftTicketMerge(models.TransientModel):
    """Merge duplicate tickets into the one to keep (support users; backend only).

    Everything of the duplicates moves to the kept ticket: messages (and so the replies to
    their old emails), attachments, followers (once per partner), activities, status history
    (rows flagged ``merged_from_number``/``merged_from_id``) and portal download logs. The duplicates then go to
    *Discarded* through the workflow (``discard``: "Duplicate of TTnnnn", ``duplicate_of_id``),
    without their usual notification: the customer is told once, by one message on the kept
    ticket to its followers — which now include every contact of the duplicates — and to
    the contacts of all the tickets (one email per person, however many tickets were merged).
    Only tickets of one customer company (and one support company) merge together.
    """

    _name = "terasoft.ticket.merge"
    _description = "Merge Duplicate Tickets"

    ticket_ids = fields.Many2many("terasoft.ticket", string="Tickets", required=True)
    keep_ticket_id = fields.Many2one(
        "terasoft.ticket",
        "Ticket to Keep",
        required=True,
        domain="[('id', 'in', ticket_ids)]",
        help="The other tickets are merged into this one and discarded as its duplicates.",
    )
    commercial_partner_id = fields.Many2one(related="keep_ticket_id.commercial_partner_id", string="Customer Company")
    duplicate_ids = fields.Many2many("terasoft.ticket", string="Merged and Discarded", compute="_compute_duplicate_ids")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if (
            context.get("active_model") == "terasoft.ticket"
            and context.get("active_ids")
            and "ticket_ids" in fields_list
        ):
            tickets = self.env["terasoft.ticket"].browse(context["active_ids"]).exists()
            values["ticket_ids"] = [fields.Command.set(tickets.ids)]
            if "keep_ticket_id" in fields_list:
                # the oldest open ticket: the customer's first words on the matter
                candidates = tickets.filtered(lambda t: t.state not in DONE_STATES) or tickets
                values["keep_ticket_id"] = candidates.sorted(lambda t: (t.create_date, t.id))[:1].id
        return values

    @api.depends("ticket_ids", "keep_ticket_id")
    def _compute_duplicate_ids(self):
        for wizard in self:
            wizard.duplicate_ids = wizard.ticket_ids - wizard.keep_ticket_id

    def action_merge(self):
        self.ensure_one()
        keep = self.keep_ticket_id
        self._merge(keep, self.ticket_ids - keep)
        return {
            "type": "ir.actions.act_window",
            "res_model": "terasoft.ticket",
            "res_id": keep.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    @api.model
    def _merge(self, keep, duplicates):
        """Merge the tickets ``duplicates`` into ``keep`` (see the class doc). All or nothing.

        :raise AccessError: for a user who is not a support user, or who may not write one of
            the tickets;
        :raise UserError: nothing to merge, tickets of several customer companies, a kept
            ticket already closed or discarded, a duplicate that cannot be discarded.
        """
        if not self.env.su and not self.env.user.has_group("terasoft_portal.group_terasoft_portal_user"):
            raise AccessError(self.env._("Only support users may merge tickets."))
        keep.ensure_one()
        duplicates -= keep
        if not duplicates:
            raise UserError(self.env._("Choose at least one other ticket to merge into %(ref)s.", ref=keep.number))
        tickets = keep | duplicates
        tickets.check_access("write")
        if len(tickets.commercial_partner_id) != 1 or not all(t.commercial_partner_id for t in tickets):
            no_customer = self.env._("no customer")
            raise UserError(
                self.env._(
                    "Only tickets of the same customer company can be merged: %(tickets)s.",
                    tickets=", ".join(f"{t.number} ({t.commercial_partner_id.name or no_customer})" for t in tickets),
                )
            )
        if len(tickets.company_id) != 1:
            raise UserError(self.env._("Only tickets of the same support company can be merged."))
        if keep.state in DONE_STATES:
            raise UserError(
                self.env._("The ticket to keep, %(ref)s, is closed or discarded: keep an open one.", ref=keep.number)
            )
        duplicates._check_move("discard")  # before anything moves: a closed duplicate stops here

        # What belongs to the duplicates now; the discard below adds its own trace on each
        # duplicate (tracking, state log), which stays there. sudo: messages, attachments,
        # followers and logs of tickets the user may write (checked above) — their own
        # access rules would ask for each record what the ticket's access already says.
        model = keep._name
        messages = self.env["mail.message"].sudo().search([("model", "=", model), ("res_id", "in", duplicates.ids)])
        attachments = (
            self.env["ir.attachment"].sudo().search([("res_model", "=", model), ("res_id", "in", duplicates.ids)])
        )
        activities = (
            self.env["mail.activity"].sudo().search([("res_model", "=", model), ("res_id", "in", duplicates.ids)])
        )
        downloads = self.env["terasoft.attachment.download.log"].sudo().search([("ticket_id", "in", duplicates.ids)])
        logs = self.env["terasoft.ticket.state.log"].sudo().search([("ticket_id", "in", duplicates.ids)])
        followers = (
            self.env["mail.followers"].sudo().search([("res_model", "=", model), ("res_id", "in", duplicates.ids)])
        )

        reason = self.env._("Duplicate of %(ref)s", ref=keep.number)
        duplicates.with_context(**{SILENT_MOVE_KEY: True})._apply_move(
            "discard",
            message=reason,
            discard_reason=reason,
            duplicate_of_id=keep.id,
            date_discarded=fields.Datetime.now(),
        )

        messages.write({"res_id": keep.id})
        attachments.write({"res_id": keep.id})
        activities.write({"res_id": keep.id})
        downloads.write({"ticket_id": keep.id})
        self._merge_followers(keep, followers)
        # colleagues in CC of a duplicate keep seeing the request, now on the kept ticket
        if cc_partners := duplicates.cc_partner_ids - keep.cc_partner_ids:
            keep.write({"cc_partner_ids": [Command.link(partner.id) for partner in cc_partners]})
        if logs:
            # one UPDATE for all the rows, each keeping the ticket it was logged on
            # (``merged_from_*``: the first one when a merged ticket is merged again); their stored
            # commercial_partner_id stays right: one customer company (checked above)
            logs.flush_recordset()
            self.env.cr.execute(
                SQL(
                    "UPDATE terasoft_ticket_state_log log"
                    " SET merged_from_id = CASE WHEN log.merged_from_number IS NULL THEN log.ticket_id"
                    " ELSE log.merged_from_id END,"
                    " merged_from_number = COALESCE(log.merged_from_number, ticket.number), ticket_id = %s"
                    " FROM terasoft_ticket ticket WHERE ticket.id = log.ticket_id AND log.id = ANY(%s)",
                    keep.id,
                    logs.ids,
                )
            )
            logs.invalidate_recordset(["ticket_id", "merged_from_id", "merged_from_number"])
        # the documents' side of what moved (followers, messages, activities...): mail.followers
        # and the ORM do not refresh the one2many caches of a changed res_id
        self.env.flush_all()
        tickets.invalidate_recordset()
        self._merge_tell_customer(keep, duplicates)
        return keep

    @api.model
    def _merge_followers(self, keep, followers):
        """Move the ``followers`` of the duplicates to ``keep``, one per partner (mail.followers
        is unique per document and partner): a partner who already follows ``keep`` gains the
        subtypes it followed on the duplicates."""
        current = {follower.partner_id: follower for follower in keep.sudo().message_follower_ids}
        to_move = self.env["mail.followers"].sudo()
        for follower in followers:
            kept = current.get(follower.partner_id)
            if not kept:
                current[follower.partner_id] = follower
                to_move |= follower
            elif follower.subtype_ids - kept.subtype_ids:
                kept.subtype_ids |= follower.subtype_ids
        (followers - to_move).unlink()
        to_move.write({"res_id": keep.id})

    @api.model
    def _merge_tell_customer(self, keep, duplicates):
        """One public message on ``keep``, in its contact's language, to its followers and to
        the contacts of all the merged tickets: each person gets one email (Odoo notifies a
        partner once per message), through the mail queue."""
        contacts = (keep | duplicates).partner_id
        lang = keep.partner_id.lang or self.env.lang
        env = keep.with_context(lang=lang).env
        # the link with the ticket's token: a contact of the company whose visibility does not
        # cover the kept ticket (own tickets only) reaches it from this email all the same
        link = keep.get_base_url() + keep._get_share_url()
        body = Markup("<p>%s</p><p><a href='%s'>%s</a></p>") % (
            env._(
                "The tickets %(refs)s are about the same request as this ticket %(ref)s and have been merged "
                "into it: we follow up here. Their messages and attachments are now on this ticket.",
                refs=", ".join(duplicates.mapped("number")),
                ref=keep.number,
            ),
            link,
            env._("Open ticket %(ref)s", ref=keep.number),
        )
        keep.with_context(mail_notify_force_send=False, lang=lang).message_post(
            body=body,
            message_type="auto_comment",
            subtype_xmlid="terasoft_portal.mt_ticket_update",
            partner_ids=contacts.ids,
        )
        self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()
