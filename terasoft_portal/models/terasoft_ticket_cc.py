"""Colleagues in CC: contacts of the ticket's customer company who follow the ticket.

The customer adds them from the portal (or staff from the form). A contact in CC:
- follows the ticket with the subtypes the ticket's contact gets (the external default
  subtypes: the updates of support and system moves, public comments), so it receives the
  same emails;
- sees the ticket in its portal whatever its ticket scope (record rule
  ``rule_ticket_portal_cc``, OR'ed with the scope rule ``rule_ticket_portal``).

Only contacts of the same commercial partner with an email address can be put in CC — never
an arbitrary address (it would leak the customer's data): the portal offers a list built by
the server (``_portal_cc_candidates``) and checks the posted id against it; a constraint
checks the company for every other writer. ``cc_partner_ids`` is a dedicated many2many
(its relation table is indexed both ways) rather than ``message_partner_ids``: the record
rule reads one small table instead of the followers of every ticket.
"""

from odoo import Command, api, fields, models
from odoo.exceptions import ValidationError


class TerasoftTicket(models.Model):
    # pylint: disable-next=consider-merging-classes-inherited  # one file per concern (CC)
    _inherit = "terasoft.ticket"

    cc_partner_ids = fields.Many2many(
        "res.partner",
        "terasoft_ticket_cc_partner_rel",
        "ticket_id",
        "partner_id",
        "Colleagues in CC",
        copy=False,
        domain="[('commercial_partner_id', '=', commercial_partner_id), ('email', '!=', False)]",
        help="Contacts of the customer company who follow the ticket: they receive its updates "
        "by email and see it in their portal, whatever their ticket visibility.",
    )

    @api.constrains("cc_partner_ids", "partner_id")
    def _check_cc_partners(self):
        for ticket in self:
            foreign = ticket.cc_partner_ids - ticket.cc_partner_ids.filtered_domain(
                [("commercial_partner_id", "=", ticket.commercial_partner_id.id)]
            )
            if foreign:
                raise ValidationError(
                    self.env._(
                        "Only contacts of the customer company can be in CC of ticket %(ticket)s: %(names)s.",
                        ticket=ticket.number,
                        names=", ".join(foreign.mapped("display_name")),
                    )
                )

    def _cc_subscribe(self, partners):
        """Make ``partners`` followers of the ticket with the subtypes of its contact."""
        self.ensure_one()
        default, _internal, external = self.env["mail.message.subtype"].default_subtypes(self._name)
        for share, group in partners.grouped("partner_share").items():
            self.message_subscribe(partner_ids=group.ids, subtype_ids=(external if share else default).ids)

    @api.model_create_multi
    def create(self, vals_list):
        tickets = super().create(vals_list)
        for ticket in tickets.filtered("cc_partner_ids"):
            ticket._cc_subscribe(ticket.cc_partner_ids)
        return tickets

    def write(self, vals):
        if "cc_partner_ids" not in vals:
            return super().write(vals)
        before = {ticket.id: ticket.cc_partner_ids for ticket in self}
        result = super().write(vals)
        for ticket in self:
            added = ticket.cc_partner_ids - before[ticket.id]
            removed = before[ticket.id] - ticket.cc_partner_ids - ticket.partner_id
            if added:
                ticket._cc_subscribe(added)
            if removed:
                ticket.message_unsubscribe(partner_ids=removed.ids)
        return result

    # ------------------------------------------------------------------ portal
    def _portal_cc_candidates(self):
        """The colleagues the customer may put in CC (sudo'ed ``res.partner``, by name): active
        contacts of the ticket's company (not the company itself) with an email address, other
        than the ticket's contact and those already in CC. Call on a sudo'ed ticket.

        One query, which also reads the names and emails of the contacts in CC (the page
        shows them): the colleagues are searched first, the CC taken out afterwards."""
        self.ensure_one()
        if not self.commercial_partner_id:
            return self.env["res.partner"].sudo()
        colleagues = (
            self.env["res.partner"]
            .sudo()
            .search_fetch(
                [
                    ("commercial_partner_id", "=", self.commercial_partner_id.id),
                    ("id", "!=", self.commercial_partner_id.id),
                    ("email", "!=", False),
                    ("partner_share", "=", True),  # no employee of the support company
                ],
                ["name", "email"],
                order="name, id",
            )
        )
        return colleagues - self.partner_id - self.cc_partner_ids

    def _portal_add_cc(self, partner_id):
        """Put the contact ``partner_id`` (an int from the form) in CC, if it is one of
        ``_portal_cc_candidates``. Call on a sudo'ed, access-checked ticket; True if added."""
        self.ensure_one()
        if self.is_done:
            return False
        partner = self._portal_cc_candidates().filtered(lambda candidate: candidate.id == partner_id)
        if not partner:
            return False
        self.write({"cc_partner_ids": [Command.link(partner.id)]})
        return True

    def _portal_remove_cc(self, partner_id):
        """Take the contact ``partner_id`` out of the CC (it stops following the ticket and,
        without another right, no longer sees it). Call on a sudo'ed, access-checked ticket;
        True if removed."""
        self.ensure_one()
        if partner_id not in self.cc_partner_ids.ids:
            return False
        self.write({"cc_partner_ids": [Command.unlink(partner_id)]})
        return True
