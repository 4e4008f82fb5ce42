import ipaddress
import logging
import re

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import format_date, plaintext2html

_logger = logging.getLogger(__name__)


def parse_ip_allowlist(text):
    """The networks of an allow-list text: addresses, CIDR ranges (10.0.0.0/24) or address ranges
    (10.0.0.5-10.0.0.20), separated by commas, semicolons, spaces or new lines.

    :raises ValueError: naming the first entry that is not valid.
    """
    networks = []
    for entry in re.split(r"[\s,;]+", (text or "").replace(" - ", "-").strip()):
        if not entry:
            continue
        try:
            if "-" in entry and "/" not in entry:
                first, last = (ipaddress.ip_address(part.strip()) for part in entry.split("-", 1))
                networks.extend(ipaddress.summarize_address_range(first, last))
            else:
                networks.append(ipaddress.ip_network(entry, strict=False))
        except (ValueError, TypeError) as error:
            raise ValueError(entry) from error
    return networks


class ResPartner(models.Model):
    # pylint: disable-next=consider-merging-classes-inherited  # one file per concern (portal access)
    _inherit = "res.partner"

    ip_allowlist = fields.Text(
        "IP Allow-list",
        help="Addresses (or CIDR ranges such as 192.0.2.0/24, or ranges such as 192.0.2.10-192.0.2.20) "
        "the portal users of this contact may connect from, when the IP allow-list is enforced "
        "(Settings). On a contact it replaces the company's list; empty on both means no restriction.",
    )

    @api.constrains("ip_allowlist")
    def _check_ip_allowlist(self):
        for partner in self:
            try:
                parse_ip_allowlist(partner.ip_allowlist)
            except ValueError as error:
                raise ValidationError(
                    self.env._(
                        "%(entry)s is not a valid IP address, CIDR range or address range "
                        "(IP allow-list of %(partner)s).",
                        entry=error.args[0],
                        partner=partner.display_name,
                    )
                ) from None

    # ------------------------------------------------------------------ IP allow-list
    def _get_ip_allowlist_networks(self):
        """The networks this contact may connect from: its own list, else its company's; an empty
        list means no restriction."""
        self.ensure_one()
        for partner in (self, self.commercial_partner_id):
            if partner.ip_allowlist and partner.ip_allowlist.strip():
                return parse_ip_allowlist(partner.ip_allowlist)
        return []

    def _is_ip_allowed(self, address):
        """Whether ``address`` (a string) is in this contact's allow-list (True when it has none)."""
        self.ensure_one()
        networks = self._get_ip_allowlist_networks()
        if not networks:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        return any(ip in network for network in networks if network.version == ip.version)

    # ------------------------------------------------------------------ support period
    def _get_support_period(self):
        """(start, end) of this contact's support period: its own dates, else its company's."""
        self.ensure_one()
        company = self.commercial_partner_id
        return (
            self.support_start_date or company.support_start_date,
            self.support_end_date or company.support_end_date,
        )

    def _portal_support_period_error(self, date=None):
        """Why this contact may not open tickets today (``date``), or None when inside its support
        period. The new-ticket form shows the message and refuses the ticket; reading stays open."""
        self.ensure_one()
        today = date or fields.Date.context_today(self)
        start, end = self._get_support_period()
        if start and today < start:
            return self.env._(
                "Your support period starts on %(date)s: you can open tickets from that day. "
                "Contact us if you need help earlier.",
                date=format_date(self.env, start),
            )
        if end and today > end:
            return self.env._(
                "Your support period ended on %(date)s: you can still read your tickets, but not "
                "open new ones. Contact us to renew it.",
                date=format_date(self.env, end),
            )
        return None

    def _portal_block_error(self):
        """The manual's "Bloccato" text when this contact's company is blocked for administrative
        reasons (insolvency), else None: the portal says it on the home page and on the new-ticket
        form, before the customer writes a ticket that support may not work on."""
        self.ensure_one()
        if not self.commercial_partner_id.insolvent:
            return None
        return self.env._(
            "Your company's support is blocked for administrative reasons: new tickets cannot be "
            "worked on. Please contact the administration department."
        )

    # ------------------------------------------------------------------ change requests
    def _get_change_request_user(self):
        """Staff member who handles data changes of this partner: the company's salesperson
        ("Assigned to"), else the contact's, else the default set in Settings, else the admin."""
        self.ensure_one()
        company = self.commercial_partner_id
        for user in (company.user_id, self.user_id):
            if user and user.active and not user.share:
                return user
        param = self.env["ir.config_parameter"].sudo().get_param("terasoft_portal.change_request_user_id")
        user = self.env["res.users"].sudo().browse(int(param)).exists() if param and param.isdigit() else None
        return user or self.env.ref("base.user_admin")

    def _portal_request_change(self, message, author):
        """Record a portal "Report a change" request on this partner (a company or contact the
        author may read): a to-do activity for the staff member in charge and an internal note
        with the text. Call on a sudo'ed partner. Returns the activity."""
        self.ensure_one()
        body = Markup("<p>%s</p>%s") % (
            self.env._("Change requested from the portal by %(author)s:", author=author.display_name),
            plaintext2html(message),
        )
        self.message_post(body=body, message_type="comment", subtype_xmlid="mail.mt_note", author_id=author.id)
        activity = self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Portal change request: %(partner)s", partner=self.display_name),
            note=body,
            user_id=self._get_change_request_user().id,
        )
        _logger.info("Portal change request on partner %s by partner %s", self.id, author.id)
        return activity
