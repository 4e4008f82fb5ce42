from odoo import api, fields, models
from odoo.tools import plaintext2html

from odoo.addons.rating.models.rating_data import RATING_LIMIT_OK

# The three answers to "Com'è andata?", Odoo's rating values (rating.rating.rating).
RATING_HAPPY, RATING_NEUTRAL, RATING_UNHAPPY = 5, 3, 1
RATING_VALUES = (RATING_HAPPY, RATING_NEUTRAL, RATING_UNHAPPY)


class TerasoftTicket(models.Model):
    """Satisfaction rating of a closed ticket (Odoo's ``rating.mixin``).

    - Each closure of a ticket with a contact opens one rating request (``rating.rating``, not
      yet ``consumed``) for the contact, rating the assignee (``_rating_get_operator``); the
      closing email and the portal page link to Odoo's ``/rate/<token>/<value>`` routes with
      its token. Created when the ticket closes, so that the pages that show the links only
      read. Leaving ``closed`` (reopen) drops the request if not answered: a reopened ticket
      is rated again, with a new token, when it closes again.
    - A second answer on the same token updates the same rating and its chatter message
      (Odoo's ``rating_apply``): one rating per closure.
    - The rating's chatter message has the internal subtype ``mt_ticket_rating``: staff see it
      and the assignee following the ticket is notified; customers never. Not a plain comment
      or note, it is not taken for the customer's reply (``_is_customer_post``): it moves nothing.
    - An unhappy answer reopens nothing; it schedules one activity for the support manager.
    """

    # pylint: disable-next=consider-merging-classes-inherited  # one file per concern (rating)
    _name = "terasoft.ticket"
    # rating.mixin first: it extends mail.thread, so it must come before it in the bases
    # (["terasoft.ticket", "rating.mixin"] gives no consistent MRO)
    _inherit = ["rating.mixin", "terasoft.ticket"]

    # ------------------------------------------------------------------ requests, one per closure

    def write(self, vals):
        reopened = self.browse()
        if "state" in vals and vals["state"] != "closed":
            reopened = self.filtered(lambda ticket: ticket.state == "closed")
        result = super().write(vals)
        if vals.get("state") == "closed":
            self._rating_open_requests()
        elif reopened:
            reopened._rating_drop_requests()
        return result

    def _rating_open_requests(self):
        """Open the rating request of this closure for each ticket of ``self`` with a contact
        (in one ``create``); unanswered requests of earlier closures are dropped."""
        tickets = self.filtered("partner_id")
        if not tickets:
            return
        tickets._rating_drop_requests()
        model_id = self.env["ir.model"]._get_id(self._name)
        # sudo: the request is the system's, whoever closed the ticket (portal contacts,
        # the auto-close cron); rating.rating has no access rights for portal users
        self.env["rating.rating"].sudo().create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": ticket.id,
                    "partner_id": ticket.partner_id.id,
                    "rated_partner_id": ticket._rating_get_operator().id,
                    "is_internal": False,
                }
                for ticket in tickets
            ]
        )

    def _rating_drop_requests(self):
        """Delete the unanswered rating requests of ``self`` (their links then answer 404)."""
        # sudo: the requests are the system's, dropped when the caller's move reopened the ticket
        self.env["rating.rating"].sudo().search(
            [("res_model", "=", self._name), ("res_id", "in", self.ids), ("consumed", "=", False)]
        ).unlink()

    def _rating_closure(self):
        """The rating (request) of the current closure: the latest rating of the closed ticket,
        for its contact; sudo'ed, empty when there is none. Reads only."""
        self.ensure_one()
        if self.state != "closed" or not self.partner_id:
            return self.env["rating.rating"].sudo()
        return (
            self.env["rating.rating"]
            .sudo()
            .search(
                [("res_model", "=", self._name), ("res_id", "=", self.id), ("partner_id", "=", self.partner_id.id)],
                order="id desc",
                limit=1,
            )
        )

    def _rating_links(self):
        """[(value, label, absolute URL)] of the three answers of the current closure, happy
        first (the closing email and the portal page); [] when the ticket cannot be rated."""
        self.ensure_one()
        rating = self._rating_closure()
        if not rating:
            return []
        base_url = self.get_base_url()
        labels = self._rating_labels()
        return [(value, labels[value], f"{base_url}/rate/{rating.access_token}/{value}") for value in RATING_VALUES]

    def _rating_portal_closure(self):
        """The current closure's rating for the portal page, when the viewer is the contact
        who rates (logged in, or a visitor with the ticket's access token from the email):
        colleagues of the contact see neither the question nor the answer. Sudo'ed."""
        self.ensure_one()
        rating = self._rating_closure()
        user = self.env.user
        if rating and (user._is_public() or user.partner_id == rating.partner_id):
            return rating
        return rating.browse()

    @api.model
    def _rating_labels(self):
        return {
            RATING_HAPPY: self.env._("Happy"),
            RATING_NEUTRAL: self.env._("So-so"),
            RATING_UNHAPPY: self.env._("Unhappy"),
        }

    def _rating_get_access_token(self, partner=None):
        """Odoo's token for ``partner`` (default: the contact): the current closure's when the
        contact asks, so that every link of this closure rates the same rating."""
        self.ensure_one()
        if (partner or self._rating_get_partner()) == self.partner_id:
            self.check_access("read")
            rating = self._rating_closure()
            if rating:
                return rating.access_token
        return super()._rating_get_access_token(partner=partner)

    # ------------------------------------------------------------------ answers

    def _rating_apply_get_default_subtype_id(self):
        return self.env["ir.model.data"]._xmlid_to_res_id("terasoft_portal.mt_ticket_rating")

    def _get_allowed_message_params(self):
        """No ``rating_value`` from Odoo's chatter routes (``/mail/message/post``,
        ``/mail/message/update_content``): a ticket is rated through its closure's token only."""
        return super()._get_allowed_message_params() - {"rating_value"}

    def message_post(self, **kwargs):
        """Drop ``rating_value`` (rating's mail.thread would create a rating, as superuser, for
        whoever posts, e.g. a portal user over RPC): see ``_get_allowed_message_params``."""
        kwargs.pop("rating_value", None)
        return super().message_post(**kwargs)

    def rating_apply(self, rate, token=None, rating=None, feedback=None, subtype_xmlid=None, notify_delay_send=False):
        """Odoo's, plus: an answer that turns the rating unhappy schedules one activity for
        the support manager (a second unhappy answer on the same rating does not)."""
        if token and not rating:
            rating = self.env["rating.rating"].sudo().search([("access_token", "=", token)], limit=1)
        was_unhappy = bool(rating) and rating.consumed and rating.rating < RATING_LIMIT_OK
        rating = super().rating_apply(
            rate,
            token=token,
            rating=rating,
            feedback=feedback,
            subtype_xmlid=subtype_xmlid,
            notify_delay_send=notify_delay_send,
        )
        if rate < RATING_LIMIT_OK and not was_unhappy:
            self._rating_report_unhappy(rating)
        return rating

    def _rating_report_unhappy(self, rating):
        """One to-do activity for the support manager of the ticket's company, as the SLA
        breach does (``_report_sla_breach``), with the customer's comment."""
        self.ensure_one()
        manager = self.company_id._ticket_manager()
        if not manager:
            return
        # sudo: the customer (public or portal user) rated; the activity is the system's
        self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(
            {
                "res_model_id": self.env["ir.model"]._get_id(self._name),
                "res_id": self.id,
                "activity_type_id": self.env.ref("mail.mail_activity_data_todo").id,
                "user_id": manager.id,
                "date_deadline": fields.Date.context_today(self),
                "summary": self.with_context(lang=manager.lang).env._("Unhappy customer: %(ref)s", ref=self.number),
                "note": plaintext2html(rating.feedback) if rating.feedback else False,
            }
        )

    # ------------------------------------------------------------------ backend

    def action_view_ratings(self):
        """The ratings of this ticket (stat button of the form)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("rating.rating_rating_action")
        action["domain"] = [("res_model", "=", self._name), ("res_id", "=", self.id), ("consumed", "=", True)]
        action["context"] = {"create": False}
        return action
