import csv
import io
from urllib.parse import urlencode

import babel.dates
import xlsxwriter
from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.fields import Domain
from odoo.http import content_disposition, request
from odoo.tools import format_date
from odoo.tools.misc import babel_locale_parse, get_lang, posix_to_ldml

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..models.terasoft_ticket import DONE_STATES, OPEN_STATES
from .idempotency import FORM_KEY, remember, replay_response

# Columns of the ticket tables (and of their links), fetched in one query; the company is
# read along with the contacts' names (it is the user's, which the portal layout reads).
LIST_FIELDS = [
    "number",
    "name",
    "partner_id",
    "commercial_partner_id",
    "state",
    "priority",
    "user_id",
    "create_date",
    "is_done",
]

# Inputs of the new-ticket form that a link may fill in (query string of a GET).
PREFILL_INPUTS = (
    "name",
    "category_id",
    "product_id",
    "product_version",
    "priority",
    "importance",
    "ticket_type",
    "description",
)

# The portal's languages; the choice also becomes the user's preference.
PORTAL_LANGS = ("it_IT", "en_US")

# A spreadsheet cell starting with one of these is read as a formula (or a DDE command) by
# Excel and LibreOffice: a ticket titled "=HYPERLINK(...)" (titles also come from email
# subjects) would run in the customer's spreadsheet. OWASP's "CSV injection" advice.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value):
    """``value`` as a CSV cell that spreadsheets show as text: a leading apostrophe before
    anything that would start a formula (Excel and LibreOffice hide it)."""
    value = "" if value is None else str(value)
    return f"'{value}" if value.startswith(FORMULA_PREFIXES) else value


class TicketPortal(CustomerPortal):
    _items_per_page = 20

    # ------------------------------------------------------------------ home
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "ticket_count" in counters:
            Ticket = request.env["terasoft.ticket"]
            values["ticket_count"] = Ticket.search_count([("is_done", "=", False)]) if Ticket.has_access("read") else 0
        return values

    @staticmethod
    def _ticket_prefetch_partners(partners):
        """Read, in one query, the few fields the ticket pages show of ``partners`` (sudo'ed)
        together with those that the pages and Odoo's portal layout read of the user's own
        partner and company (``user_id`` of both, the user's time zone for ``env.tz``).

        Reading one field of a partner fetches all its ~80 columns, once per partner the page
        touches. (Not on ``/my``: its tiles read the user's whole partner anyway.) Call it
        before anything reads the user's time zone.
        """
        partner_sudo = request.env.user.partner_id  # env.user is sudo'ed
        (partners | partner_sudo).fetch(["name", "insolvent", "user_id", "commercial_partner_id", "tz"])
        partner_sudo.commercial_partner_id.fetch(["name", "user_id"])  # no query when read above
        request.env.company.sudo().fetch(["name", "uses_default_logo"])  # the layout's header

    # ------------------------------------------------------------------ list: searchbar
    def _ticket_get_searchbar_sortings(self):
        return {
            # each sorting follows what its column shows: "Creato il" newest first, the number,
            # Urgente before Non urgente, the statuses in the order of the workflow
            "newest": {"label": request.env._("Newest"), "order": "create_date desc, id desc"},
            "number": {"label": request.env._("Ticket Nr"), "order": "number desc"},
            "priority": {"label": request.env._("Priority"), "order": "priority desc, create_date desc, id desc"},
            "state": {"label": request.env._("Status"), "order": "state_sequence, create_date desc, id desc"},
        }

    def _ticket_get_searchbar_filters(self):
        """State filter: all, all open, and each state. ``tables`` names the tables (open,
        closed) that can hold tickets under the filter: the others are not even counted."""
        filters = {
            "all": {"label": request.env._("All"), "domain": [], "tables": ("open", "closed")},
            "open": {"label": request.env._("All open"), "domain": [("is_done", "=", False)], "tables": ("open",)},
        }
        labels = dict(request.env["terasoft.ticket"]._fields["state"]._description_selection(request.env))
        for state in OPEN_STATES + DONE_STATES + ("blocked",):
            filters[state] = {
                "label": labels[state],
                "domain": [("state", "=", state)],
                "tables": ("closed",) if state in DONE_STATES else ("open",),
            }
        return filters

    def _ticket_get_searchbar_shows(self):
        """ "Mostra": all the tickets the user may see (Tutti) or only the user's own (Mio)."""
        return {
            "all": {"label": request.env._("All"), "domain": []},
            "mine": {"label": request.env._("Mine"), "domain": [("partner_id", "=", request.env.user.partner_id.id)]},
        }

    def _ticket_get_searchbar_inputs(self):
        return {
            "all": {"input": "all", "label": request.env._("Search in number and title")},
            "number": {"input": "number", "label": request.env._("Search in Ticket Nr")},
            "name": {"input": "name", "label": request.env._("Search in Title")},
            "description": {"input": "description", "label": request.env._("Search in Description")},
            "category": {"input": "category", "label": request.env._("Search in Category")},
            "product": {"input": "product", "label": request.env._("Search in Product")},
            "contact": {"input": "contact", "label": request.env._("Search in Contact")},
        }

    def _ticket_get_search_domain(self, search_in, search):
        return request.env["terasoft.ticket"]._portal_search_domain(search, search_in)

    def _prepare_ticket_list_values(
        self, page=1, sortby=None, filterby=None, show=None, search=None, search_in="all", closed_page=1
    ):
        """Everything the ticket list (and its export) needs; searches as the user, so the
        record rules (and the contact's ticket scope) apply. The open and the closed tables
        have a pager each: ``page`` (in the path) for the open one, ``closed_page`` (a query
        parameter) for the closed one."""
        sortings = self._ticket_get_searchbar_sortings()
        filters = self._ticket_get_searchbar_filters()
        shows = self._ticket_get_searchbar_shows()
        inputs = self._ticket_get_searchbar_inputs()
        sortby = sortby if sortby in sortings else "newest"
        filterby = filterby if filterby in filters else "all"
        show = show if show in shows else "all"
        search_in = search_in if search_in in inputs else "all"
        # PostgreSQL refuses NUL in strings (a 500): no one types it, drop it
        search = search.replace("\x00", "") if isinstance(search, str) else None
        domain = Domain(filters[filterby]["domain"]) & Domain(shows[show]["domain"])
        if search:
            domain &= self._ticket_get_search_domain(search_in, search)
        Ticket = request.env["terasoft.ticket"]
        open_domain = domain & Domain("is_done", "=", False)
        closed_domain = domain & Domain("is_done", "=", True)
        tables = filters[filterby].get("tables", ("open", "closed"))
        open_count = Ticket.search_count(open_domain) if "open" in tables else 0
        closed_count = Ticket.search_count(closed_domain) if "closed" in tables else 0
        url_args = {"sortby": sortby, "filterby": filterby, "show": show, "search_in": search_in, "search": search}
        closed_page = int(closed_page) if str(closed_page).isdigit() else 1
        pager = portal_pager(
            url="/my/tickets",
            url_args={**url_args, **({"closed_page": closed_page} if closed_page > 1 else {})},
            total=open_count,
            page=page,
            step=self._items_per_page,
        )
        closed_pager = self._ticket_closed_pager(pager, url_args, closed_count, closed_page)
        order = sortings[sortby]["order"]
        # The ids of each table first, then one read of the columns the tables show (a ticket
        # row also carries ~500 characters of description). Selecting only ids lets PostgreSQL
        # walk the list indexes in order and stop after one page; asked for the columns too, it
        # prefers to read and sort every ticket of the company in the state filtered on.
        open_tickets = (
            Ticket.search(open_domain, order=order, limit=self._items_per_page, offset=pager["offset"])
            if open_count
            else Ticket
        )
        closed_tickets = (
            Ticket.search(closed_domain, order=order, limit=self._items_per_page, offset=closed_pager["offset"])
            if closed_count
            else Ticket
        )
        (open_tickets | closed_tickets).fetch(LIST_FIELDS)
        # Read for display as superuser: the records were found as the user, and the names of
        # colleagues and support staff are not readable by portal users.
        open_tickets, closed_tickets = open_tickets.sudo(), closed_tickets.sudo()
        open_rows, closed_rows = self._ticket_list_rows(open_tickets, closed_tickets)
        mine = show == "mine"
        return {
            **self._prepare_portal_layout_values(),
            "page_name": "ticket",
            "default_url": "/my/tickets",
            "domain": domain,
            "order": order,
            "open_tickets": open_tickets,
            "closed_tickets": closed_tickets,
            "open_rows": open_rows,
            "closed_rows": closed_rows,
            "open_count": open_count,
            "closed_count": closed_count,
            # the tables the filter can fill; the others are not shown at all
            "tables": tables,
            # headings that say whose tickets they are
            "open_title": request.env._("My open tickets") if mine else request.env._("Company's open tickets"),
            "closed_title": request.env._("My closed tickets") if mine else request.env._("Company's closed tickets"),
            "pager": pager,
            "closed_pager": closed_pager,
            "searchbar_sortings": sortings,
            "searchbar_filters": filters,
            "searchbar_shows": shows,
            "searchbar_inputs": inputs,
            "sortby": sortby,
            "filterby": filterby,
            "show": show,
            "search_in": search_in,
            "search": search,
        }

    def _ticket_closed_pager(self, pager, url_args, total, closed_page):
        """The pager of the closed table: Odoo's pager, with the page number in the query
        parameter ``closed_page`` of the current open page's URL (the path holds the open
        table's page)."""
        closed_pager = portal_pager(url="/my/tickets", total=total, page=closed_page, step=self._items_per_page)
        base = pager["page"]["url"].split("?")[0]

        def link(num):
            args = {key: value for key, value in url_args.items() if value is not None}
            if num > 1:
                args["closed_page"] = num
            return f"{base}?{urlencode(args)}#closed_tickets"

        for key in ("page", "page_first", "page_previous", "page_next", "page_last"):
            closed_pager[key]["url"] = link(closed_pager[key]["num"])
        for entry in closed_pager["pages"]:
            if entry["url"]:
                entry["url"] = link(entry["num"])
        return closed_pager

    def _ticket_list_rows(self, *ticket_lists):
        """The rows of the ticket tables, one list of dicts of display strings per recordset
        of ``ticket_lists`` (sudo'ed, fetched with LIST_FIELDS).

        Built here rather than with QWeb field widgets: a ``t-field`` recomputes the field's
        description (selection labels, translations) and the date format for every cell, and
        reading one field of a related partner fetches its ~80 columns. Here the labels are
        looked up once, each day is formatted once (in the user's time zone and language, as
        the ``date`` widget does), and the names come from one narrow query. Call it before
        anything else reads the user's partner (see ``_ticket_prefetch_partners``).
        """
        env = request.env
        Ticket = env["terasoft.ticket"]
        tickets = Ticket.sudo().union(*ticket_lists)
        tickets.user_id.fetch(["partner_id"])
        self._ticket_prefetch_partners(tickets.partner_id | tickets.commercial_partner_id | tickets.user_id.partner_id)
        states = dict(Ticket._fields["state"]._description_selection(env))
        priorities = dict(Ticket._fields["priority"]._description_selection(env))
        days = {}

        def day(value):
            local = fields.Datetime.context_timestamp(Ticket, value).date()
            if local not in days:
                days[local] = format_date(env, local)
            return days[local]

        return [
            [
                {
                    "url": f"/my/tickets/{ticket.id}",  # = access_url, without computing it per record
                    "number": ticket.number,
                    "name": ticket.name,
                    "contact": ticket.partner_id.name or "",
                    "state": ticket.state,
                    "state_label": states[ticket.state],
                    "priority_label": priorities[ticket.priority],
                    "user": ticket.user_id.partner_id.name or "",
                    "created": day(ticket.create_date),
                }
                for ticket in tickets_list
            ]
            for tickets_list in ticket_lists
        ]

    # Read/write on purpose, like the ticket page below (not readonly=True although they only
    # read): read-your-writes. After "Nuovo ticket" the customer is redirected to the new
    # ticket's page and then goes back to the list; a readonly route is served from the
    # streaming standby (db_replica_host), which may lag the primary by a few hundred ms, so
    # the ticket just created could answer 404 on its page or be missing from the list. These
    # are also the pages used right after a comment or a closing. (The CSV/XLSX export and the
    # FAQ/documents/contacts pages are readonly: nobody expects them to show a write of the
    # same second.) See docs/scaling.md.
    @http.route(["/my/tickets", "/my/tickets/page/<int:page>"], type="http", auth="user", website=True)
    def portal_my_tickets(
        self, page=1, sortby=None, filterby=None, show=None, search=None, search_in="all", closed_page=1, **kw
    ):
        values = self._prepare_ticket_list_values(page, sortby, filterby, show, search, search_in, closed_page)
        request.session["my_tickets_history"] = (values["open_tickets"] | values["closed_tickets"]).ids[:100]
        return request.render("terasoft_portal.portal_my_tickets", values)

    # ------------------------------------------------------------------ list: export
    def _ticket_export_rows(self, tickets):
        header = [
            request.env._("Ticket Nr"),
            request.env._("Title"),
            request.env._("Contact"),
            request.env._("Status"),
            request.env._("Priority"),
            request.env._("Assigned to"),
            request.env._("Category"),
            request.env._("Product"),
            request.env._("Created On"),
            request.env._("Closed"),
        ]
        Ticket = request.env["terasoft.ticket"]
        states = dict(Ticket._fields["state"]._description_selection(request.env))
        priorities = dict(Ticket._fields["priority"]._description_selection(request.env))
        rows = [
            [
                ticket.number,
                ticket.name,
                ticket.partner_id.name or "",
                states[ticket.state],
                priorities[ticket.priority],
                ticket.user_id.name or "",
                ticket.category_id.complete_name or "",
                ticket.product_id.name or "",
                ticket.create_date.strftime("%Y-%m-%d %H:%M"),
                request.env._("Yes") if ticket.is_done else request.env._("No"),
            ]
            for ticket in tickets
        ]
        return header, rows

    @http.route("/my/tickets/export/<any(csv,xlsx):file_format>", type="http", auth="user", website=True, readonly=True)
    def portal_my_tickets_export(
        self, file_format, sortby=None, filterby=None, show=None, search=None, search_in="all", **kw
    ):
        values = self._prepare_ticket_list_values(1, sortby, filterby, show, search, search_in)
        tickets = request.env["terasoft.ticket"].search(values["domain"], order=values["order"]).sudo()
        header, rows = self._ticket_export_rows(tickets)
        if file_format == "csv":
            buffer = io.StringIO()
            # Italian Excel expects ";" (the comma is the decimal separator there)
            delimiter = ";" if (request.env.lang or "").startswith("it") else ","
            writer = csv.writer(buffer, delimiter=delimiter)
            writer.writerow([spreadsheet_text(cell) for cell in header])
            writer.writerows([spreadsheet_text(cell) for cell in row] for row in rows)
            content = buffer.getvalue().encode("utf-8-sig")  # BOM: Excel opens accents right
            mimetype = "text/csv; charset=utf-8"
        else:
            output = io.BytesIO()
            # every cell is written as text: no formula, no link, whatever it starts with
            workbook = xlsxwriter.Workbook(
                output, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
            )
            sheet = workbook.add_worksheet(request.env._("Tickets"))
            bold = workbook.add_format({"bold": True})
            sheet.write_row(0, 0, header, bold)
            for index, row in enumerate(rows, start=1):
                sheet.write_row(index, 0, row)
            workbook.close()
            content = output.getvalue()
            mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return request.make_response(
            content,
            headers=[
                ("Content-Type", mimetype),
                ("Content-Disposition", content_disposition(f"tickets.{file_format}")),
            ],
        )

    # ------------------------------------------------------------------ new ticket
    def _prepare_ticket_form_values(self, form=None, errors=None):
        Ticket = request.env["terasoft.ticket"]
        env = request.env
        max_bytes, allowed = Ticket._portal_attachment_rules()
        partner = env.user.partner_id
        categories = env["terasoft.ticket.category"].search([("portal_visible", "=", True)])
        return {
            **self._prepare_portal_layout_values(),
            "page_name": "ticket_new",
            "form": form or {},
            "errors": errors or {},
            # shown before the customer writes anything (the server refuses or blocks later)
            "block_error": partner._portal_block_error(),
            "support_period_error": partner._portal_support_period_error(),
            "categories": [(category.id, category._portal_label()) for category in categories],
            "products": env["terasoft.product"].search([]),
            "priorities": Ticket._fields["priority"]._description_selection(env)[::-1],
            "importances": Ticket._fields["importance"]._description_selection(env)[::-1],
            "ticket_types": Ticket._fields["ticket_type"]._description_selection(env),
            "max_size_mb": max_bytes // (1024 * 1024),
            "allowed_extensions": ", ".join(sorted(allowed)),
        }

    def _ticket_form_prefill(self, query):
        """The form's first values from the query string: any of its inputs (``name``,
        ``category_id``, ``product_id``...), and from ``faq_id`` ("Apri un ticket su questo
        argomento" of an FAQ entry) the entry's question as title, its product and its ticket
        category, unless given."""
        form = {key: value for key, value in query.items() if key in PREFILL_INPUTS and isinstance(value, str)}
        faq_id = query.get("faq_id")
        if str(faq_id or "").isdigit() and "terasoft.faq" in request.env:
            faq = request.env["terasoft.faq"].search([("id", "=", int(faq_id)), ("is_published", "=", True)])
            if faq:
                form.setdefault("name", faq.name)
                ticket_category = faq.category_id._get_ticket_category()
                if ticket_category:
                    form.setdefault("category_id", str(ticket_category.id))
                if faq.product_id:
                    form.setdefault("product_id", str(faq.product_id.id))
        return form

    @staticmethod
    def _uploaded_files(name):
        """The files of the multiple file input ``name`` as ``(filename, bytes)``."""
        return [
            (upload.filename, upload.read()) for upload in request.httprequest.files.getlist(name) if upload.filename
        ]

    @http.route("/my/tickets/new", type="http", auth="user", methods=["GET", "POST"], website=True)
    def portal_ticket_new(self, **form):
        if request.httprequest.method == "GET":
            return request.render(
                "terasoft_portal.portal_ticket_new", self._prepare_ticket_form_values(self._ticket_form_prefill(form))
            )
        form.pop("attachments", None)
        form.pop("csrf_token", None)
        key = form.pop(FORM_KEY, None)
        replay = replay_response(key)
        if replay:
            return replay  # sent again (double click, retry): the first answer, nothing created
        ticket, errors = request.env["terasoft.ticket"]._portal_create_ticket(form, self._uploaded_files("attachments"))
        if errors:
            # nothing was created: the form comes back with the same key
            values = self._prepare_ticket_form_values(form, errors)
            values[FORM_KEY] = key
            return request.render("terasoft_portal.portal_ticket_new", values)
        remember(key, url=ticket.access_url)
        return request.redirect(ticket.access_url)

    @http.route("/my/tickets/faq_suggest", type="jsonrpc", auth="user", readonly=True)
    def portal_ticket_faq_suggest(self, term="", **kw):
        """Up to 5 FAQ entries matching the title being typed (none without the FAQ model)."""
        # JSON lets a client send any type: anything but a string finds nothing
        term = term.strip() if isinstance(term, str) else ""
        if len(term) < 3 or "terasoft.faq" not in request.env:
            return []
        return request.env["terasoft.faq"]._portal_search(term, limit=5)

    # ------------------------------------------------------------------ ticket page
    def _ticket_check_access(self, ticket_id, access_token=None):
        """The sudo'ed ticket if the user may see it (record rules, or a valid access token);
        NotFound otherwise: never tell whether someone else's ticket exists."""
        if access_token and not access_token.isascii():
            raise NotFound()  # Odoo's token comparison raises TypeError (a 500) on non-ASCII text
        try:
            ticket_sudo = self._document_check_access("terasoft.ticket", ticket_id, access_token)
        except (AccessError, MissingError):
            raise NotFound() from None
        # _document_check_access answers as the superuser (env.user = root): keep the real user
        # as env.user, so that comments, answers and download logs are the customer's.
        return ticket_sudo.with_user(request.env.user).sudo()

    def _ticket_page_prefetch(self, ticket_sudo, messages, attachments):
        """Read, in one query per model, only the fields the ticket page shows of the records
        around the ticket (all sudo'ed): reading one field of a partner, user or message
        fetches all its columns (~80 for a partner), once per record kind the page touches."""
        ticket_sudo.user_id.fetch(["partner_id"])
        messages.fetch(["author_id", "email_from", "date", "body", "attachment_ids"])
        self._ticket_prefetch_partners(
            ticket_sudo.partner_id
            | ticket_sudo.commercial_partner_id
            | ticket_sudo.user_id.partner_id
            | messages.author_id
        )
        (attachments | messages.attachment_ids).fetch(["name"])
        ticket_sudo.category_id.fetch(["complete_name"])
        ticket_sudo.product_id.fetch(["name"])

    @staticmethod
    def _datetime_formatter():
        """A function writing a datetime as QWeb's ``datetime`` field widget does (the
        language's date and time formats, the user's time zone), with the language's pattern
        worked out once per page instead of once per value."""
        env = request.env
        lang = get_lang(env)
        locale = babel_locale_parse(lang.code)
        pattern = posix_to_ldml(f"{lang.date_format} {lang.time_format}", locale=locale)
        Ticket = env["terasoft.ticket"]

        def format_value(value):
            if not value:
                return ""
            local = fields.Datetime.context_timestamp(Ticket, value)
            return babel.dates.format_datetime(local, format=pattern, locale=locale)

        return format_value

    def _prepare_ticket_page_values(self, ticket_sudo, access_token=None, **kwargs):
        messages = ticket_sudo._portal_public_messages()
        attachments = ticket_sudo._portal_attachments()
        self._ticket_page_prefetch(ticket_sudo, messages, attachments)
        env = request.env
        # the labels of the ticket's selection fields, as their t-field widgets would write them
        labels = {
            name: dict(ticket_sudo._fields[name]._description_selection(env))[ticket_sudo[name]]
            for name in ("state", "priority", "channel", "ticket_type", "importance")
        }
        values = {
            "page_name": "ticket",
            "ticket": ticket_sudo,
            "labels": labels,
            "messages": messages,
            "attachments": attachments,
            "format_dt": ticket_sudo._portal_format_datetime,
            "datetime_text": self._datetime_formatter(),
            # Write actions are for logged-in users who may see the ticket through the record
            # rules; an access token from an email only shows the page.
            "can_act": not request.env.user._is_public() and ticket_sudo.with_user(request.env.user).has_access("read"),
            "comment_errors": kwargs.get("comment_errors") or [],
            "comment_text": kwargs.get("comment_text") or "",
            "state_help": ticket_sudo._portal_state_help(),
            "last_question": ticket_sudo._portal_last_question(),
            "autoclose_date": ticket_sudo._get_autoclose_date(),
            "sla_targets": ticket_sudo._sla_portal_targets(),
            "plan_error": kwargs.get("plan_error"),
            "close_error": kwargs.get("close_error"),
        }
        # No session history key for Odoo's record pager: it would give the neighbouring
        # tickets access tokens (a write on every page view) and put them in the links.
        values = self._get_page_view_values(ticket_sudo, access_token, values, None, False)
        history = request.session.get("my_tickets_history", [])
        if ticket_sudo.id in history:
            index = history.index(ticket_sudo.id)
            if index > 0:
                values["prev_record"] = f"/my/tickets/{history[index - 1]}"
            if index < len(history) - 1:
                values["next_record"] = f"/my/tickets/{history[index + 1]}"
        return {**self._prepare_portal_layout_values(), **values}

    # read/write on purpose: read-your-writes, see portal_my_tickets
    @http.route("/my/tickets/<int:ticket_id>", type="http", auth="public", website=True)
    def portal_my_ticket(self, ticket_id, access_token=None, **kw):
        if request.env.user._is_public() and not access_token:
            return request.redirect(f"/web/login?redirect=/my/tickets/{ticket_id}")
        ticket_sudo = self._ticket_check_access(ticket_id, access_token)
        # a comment refused by the comment route comes back here with its text (post/redirect/get)
        draft = request.session.get("terasoft_comment_draft") or {}
        if draft.get("ticket_id") == ticket_sudo.id:
            request.session.pop("terasoft_comment_draft")
        else:
            draft = {}
        return request.render(
            "terasoft_portal.portal_my_ticket",
            self._prepare_ticket_page_values(
                ticket_sudo, access_token, comment_errors=draft.get("errors"), comment_text=draft.get("text")
            ),
        )

    def _ticket_check_user_access(self, ticket_id):
        """The sudo'ed ticket if the logged-in user may see it by the record rules, else 404.
        Used by every route that changes something or serves a file: no access token there."""
        return self._ticket_check_access(ticket_id)

    @http.route("/my/tickets/<int:ticket_id>/comment", type="http", auth="user", methods=["POST"], website=True)
    def portal_ticket_comment(self, ticket_id, comment="", **kw):
        ticket_sudo = self._ticket_check_user_access(ticket_id)
        replay = replay_response(kw.get(FORM_KEY))
        if replay:
            return replay
        _message, errors = ticket_sudo._portal_post_comment(comment, self._uploaded_files("attachments"))
        if errors:
            # Post/redirect/get: the ticket's own URL shows the errors and the typed text (a
            # reload of this POST-only URL would answer "405 Method Not Allowed").
            request.session["terasoft_comment_draft"] = {
                "ticket_id": ticket_sudo.id,
                "text": (comment or "")[:20000],
                "errors": errors,
            }
            return request.redirect(f"{ticket_sudo.access_url}#add_comment")
        remember(kw.get(FORM_KEY), url=f"{ticket_sudo.access_url}#comments")
        return request.redirect(f"{ticket_sudo.access_url}#comments")

    @http.route("/my/tickets/<int:ticket_id>/close", type="http", auth="user", methods=["POST"], website=True)
    def portal_ticket_close(self, ticket_id, **kw):
        ticket_sudo = self._ticket_check_user_access(ticket_id)
        replay = replay_response(kw.get(FORM_KEY))
        if replay:
            return replay
        try:
            ticket_sudo.action_customer_close()
        except UserError as error:
            return request.render(
                "terasoft_portal.portal_my_ticket",
                self._prepare_ticket_page_values(ticket_sudo, close_error=str(error)),
            )
        remember(kw.get(FORM_KEY), url=ticket_sudo.access_url)
        return request.redirect(ticket_sudo.access_url)

    @http.route("/my/tickets/<int:ticket_id>/plan", type="http", auth="user", methods=["POST"], website=True)
    def portal_ticket_answer_plan(self, ticket_id, answer=None, message="", **kw):
        ticket_sudo = self._ticket_check_user_access(ticket_id)
        replay = replay_response(kw.get(FORM_KEY))
        if replay:
            return replay
        try:
            ticket_sudo.action_customer_answer_plan(answer == "accept", message=(message or "").strip() or None)
        except UserError as error:
            return request.render(
                "terasoft_portal.portal_my_ticket", self._prepare_ticket_page_values(ticket_sudo, plan_error=str(error))
            )
        remember(kw.get(FORM_KEY), url=f"{ticket_sudo.access_url}#comments")
        return request.redirect(f"{ticket_sudo.access_url}#comments")

    @http.route(
        "/my/tickets/<int:ticket_id>/attachments/<int:attachment_id>",
        type="http",
        auth="user",
        methods=["GET"],
        website=True,
    )
    def portal_ticket_attachment(self, ticket_id, attachment_id, **kw):
        ticket_sudo = self._ticket_check_user_access(ticket_id)
        attachment_sudo = ticket_sudo._portal_download_attachment(attachment_id)
        if not attachment_sudo:
            raise NotFound()
        stream = request.env["ir.binary"]._get_stream_from(attachment_sudo, "raw")
        return stream.get_response(as_attachment=True)

    # ------------------------------------------------------------------ language
    @http.route("/my/language", type="http", auth="public", methods=["POST"], website=True)
    def portal_set_language(self, lang=None, redirect="/my", **kw):
        """Italiano / English, from the login page or the portal: the choice becomes the
        logged-in user's language; on the login page it holds for the session and is given
        to the user at login."""
        if lang not in PORTAL_LANGS or lang not in request.env["res.lang"]._get_frontend():
            raise NotFound()
        if not redirect.startswith("/") or redirect.startswith("//"):
            redirect = "/my"
        if request.env.user._is_public():
            request.session["terasoft_lang"] = lang
        else:
            request.env.user.sudo().lang = lang
        request.session.context = dict(request.session.context, lang=lang)
        # Frontend URLs carry the language prefix (/it/my): drop it, the cookie decides.
        url_codes = [data.url_code for data in request.env["res.lang"]._get_frontend().values()]
        parts = redirect.split("/", 2)
        if len(parts) > 1 and parts[1] in url_codes:
            redirect = "/" + (parts[2] if len(parts) > 2 else "")
        response = request.redirect(redirect)
        response.set_cookie("frontend_lang", lang)
        return response
