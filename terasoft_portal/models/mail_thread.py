import logging
import re

from odoo import api, models
from odoo.tools.mail import email_split

_logger = logging.getLogger(__name__)

# Context key set while an automatic email (see ``auto_submitted_reason``) is routed to a
# ticket: the ticket keeps it as an internal note, nobody is notified, the ticket doesn't move.
AUTO_SUBMITTED_KEY = "terasoft_auto_submitted"
# RFC 2076 / de facto: mailing lists, bulk mailings and some responders
AUTO_PRECEDENCE = {"bulk", "junk", "auto_reply", "list"}
# Headers whose mere presence marks an automatic message (responders, Exchange's OOF)
AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")
AUTO_SENDERS = {"mailer-daemon", "postmaster"}
# Out-of-office subjects, Italian and English, as responders write them: the marker at the
# start (after any Re:/R:/I:/Fwd:), then a colon or nothing else. "Timbrature fuori sede" is
# a customer's subject, "Fuori sede: Re: [TT0012] ..." an out-of-office reply.
AUTO_SUBJECT = re.compile(
    r"^\s*(?:(?:re|r|aw|sv|i|fw|fwd|rif)\s*:\s*)*"
    r"(?:risposta\s+automatica|automatic\s+reply|auto[-\s]?reply|auto[-\s]?response|"
    r"out\s+of\s+(?:the\s+)?office|fuori\s+sede|fuori\s+ufficio|auto)\s*(?::|$)",
    re.IGNORECASE,
)


def auto_submitted_reason(message, message_dict):
    """Why the incoming email ``message`` (an ``email.message.EmailMessage``, parsed into
    ``message_dict`` by mail.thread's ``message_parse``) was written by a machine — an
    auto-responder (RFC 3834), a bounce or delivery report, a bulk mailing — or None for a
    person's email. Odoo's own bounce detection (``is_bounce``) counts too."""
    auto_submitted = (message.get("Auto-Submitted") or "").strip().lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto_submitted}"
    for header in AUTO_HEADERS:
        if message.get(header) is not None:
            return f"{header}: {message.get(header)}"
    precedence = (message.get("Precedence") or "").strip().lower()
    if precedence in AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    if message_dict.get("is_bounce"):
        return "bounce"
    return_path = message.get("Return-Path")
    if return_path is not None and return_path.strip() in ("<>", ""):
        return "empty Return-Path"
    sender = (email_split(message_dict.get("email_from") or "") or [""])[0]
    if sender.split("@", 1)[0].lower() in AUTO_SENDERS:
        return f"sender {sender}"
    content_type = message.get_content_type()
    if content_type == "multipart/report" or "report-type=" in (message.get("Content-Type") or "").lower():
        return f"Content-Type: {content_type}"
    subject = message_dict.get("subject") or ""
    if AUTO_SUBJECT.match(subject):
        return f"subject {subject!r}"
    return None


class MailThread(models.AbstractModel):
    """Auto-reply protection of the ticket email channel (``assistenza@`` and replies).

    Only routes to ``terasoft.ticket`` are concerned; every other model's email routing is
    left exactly as Odoo does it. Odoo itself routes no bounce (``message_route`` hands them
    to ``_routing_handle_bounce`` first) and sets ``Auto-Submitted`` only on its own
    out-of-office replies; it does not look at the ``Auto-Submitted`` of incoming emails.
    """

    _inherit = "mail.thread"

    @api.model
    def _message_route_process(self, message, message_dict, routes):
        """An automatic email creates no ticket; on an existing ticket it is kept as an
        internal note that notifies nobody and moves nothing (``AUTO_SUBMITTED_KEY``), so
        that no acknowledgement or update answers it and two auto-responders cannot loop."""
        if not any(route[0] == "terasoft.ticket" for route in routes or ()):
            return super()._message_route_process(message, message_dict, routes)
        reason = auto_submitted_reason(message, message_dict)
        if not reason:
            return super()._message_route_process(message, message_dict, routes)
        kept = [route for route in routes if route[0] != "terasoft.ticket" or route[1]]
        if len(kept) < len(routes):
            _logger.info(
                "Automatic email from %s with Message-Id %s (%s): no ticket created",
                message_dict.get("email_from"),
                message_dict.get("message_id"),
                reason,
            )
        if not kept:
            return False
        return super(MailThread, self.with_context(**{AUTO_SUBMITTED_KEY: reason}))._message_route_process(
            message, message_dict, kept
        )
