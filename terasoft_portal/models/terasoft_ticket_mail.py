from odoo import api, models

from .terasoft_ticket import CUSTOMER, WORKFLOW

# Subtype of the customer notification, by the state a support or system move leads to.
MOVE_SUBTYPES = {
    "resolved": "terasoft_portal.mt_ticket_resolved",
    "closed": "terasoft_portal.mt_ticket_closed",
    "blocked": "terasoft_portal.mt_ticket_blocked",
    "discarded": "terasoft_portal.mt_ticket_discarded",
}
DEFAULT_MOVE_SUBTYPE = "terasoft_portal.mt_ticket_update"
CREATED_KEY = "terasoft.ticket.created"  # precommit data: tickets that get the acknowledgement


class TerasoftTicket(models.Model):
    """Notifications and the email channel of tickets.

    Who gets what:
    - creation: the acknowledgement (`mail_template_ticket_received`) through ``_track_template``
      (so ``mail_notrack``/``tracking_disable`` imports send none);
    - support and system moves (actor not `customer` in WORKFLOW): one message per ticket from
      `mail_template_ticket_update`, rendered in the contact's language, posted as a public
      `auto_comment` with a `mt_ticket_*` subtype: the contact and the followers get it by email,
      the portal shows it; the staff's text (question, diagnosis, solution) is in it;
    - customer moves: staff are told through the tracking message (``_track_subtype``);
    - internal notes: never to customers (Odoo's `mt_note` is internal);
    - `block_auto_emails` on the customer company: no automatic message (`auto_comment`) is
      emailed to its contacts; they still see it in the portal.
    """

    _inherit = "terasoft.ticket"
    _primary_email = "email_from"  # message_new stores the sender there

    # ------------------------------------------------------------------ notifications

    def _last_state_log(self):
        self.ensure_one()
        return self.env["terasoft.ticket.state.log"].sudo().search([("ticket_id", "=", self.id)], limit=1)

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
        return "%g" % self.company_id._ticket_sla_hours(self.priority, self.importance)

    def _notify_move(self, move, message=None):
        """Post the update of a support or system ``move`` on each ticket (see the class doc)."""
        actor = next(row[4] for row in WORKFLOW if row[0] == move)
        if actor == CUSTOMER or self.env.context.get("install_mode"):
            return
        template = self.env.ref("terasoft_portal.mail_template_ticket_update", raise_if_not_found=False)
        if not template:
            return
        # nobody to tell without a contact or a message: the state log and the tracking say it all
        tickets = self.filtered(lambda ticket: ticket.partner_id or message)
        for subtype, group in tickets.grouped(lambda t: MOVE_SUBTYPES.get(t.state, DEFAULT_MOVE_SUBTYPE)).items():
            group._post_template_batch(template, subtype)

    def _post_template_batch(self, template, subtype_xmlid):
        """Post ``template`` on every ticket of ``self`` with one composer: the template is
        rendered for all the tickets at once (per language), not one composer per ticket as
        ``message_post_with_source`` does; a cron closing thousands of tickets relies on it.
        Runs as superuser: the notification is the system's, whoever moved the tickets."""
        if not self:
            return
        composer = self.env["mail.compose.message"].sudo().with_context(
            default_composition_mode="comment",
            default_model=self._name,
            default_res_ids=self.ids,
            default_template_id=template.id,
        ).create({
            "message_type": "auto_comment",
            "subtype_id": self.env["ir.model.data"]._xmlid_to_res_id(subtype_xmlid),
            "email_layout_xmlid": "mail.mail_notification_light",
        })
        composer._action_send_mail()

    def _send_autoclose_reminder(self):
        template = self.env.ref("terasoft_portal.mail_template_ticket_autoclose_reminder")
        self.filtered("partner_id")._post_template_batch(template, "terasoft_portal.mt_ticket_reminder")
        self.write({"autoclose_reminder_sent": True})

    @api.model_create_multi
    def create(self, vals_list):
        tickets = super().create(vals_list)
        if not self.env.context.get("install_mode"):
            self.env.cr.precommit.data.setdefault(CREATED_KEY, set()).update(tickets.filtered("partner_id").ids)
        return tickets

    def _track_template(self, changes):
        """The acknowledgement on creation (number, title, take-in-charge promise)."""
        templates = super()._track_template(changes)
        created = self.env.cr.precommit.data.get(CREATED_KEY, set())
        if self.id in created:  # on creation `changes` lists the tracked fields given (`name` at least)
            created.discard(self.id)
            templates["state"] = (self.env.ref("terasoft_portal.mail_template_ticket_received"), {
                "subtype_xmlid": "terasoft_portal.mt_ticket_new",
                "email_layout_xmlid": "mail.mail_notification_light",
            })
        return templates

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
        """Automatic messages are not emailed to the contacts of companies that block them."""
        recipients = super()._notify_get_recipients(message, msg_vals=msg_vals, **kwargs)
        message_type = (msg_vals or {}).get("message_type") or message.message_type
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
