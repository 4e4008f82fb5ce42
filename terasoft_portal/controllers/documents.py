from werkzeug.exceptions import NotFound

from odoo import http
from odoo.fields import Domain
from odoo.http import request
from odoo.tools.misc import formatLang, get_lang

from odoo.addons.portal.controllers.portal import CustomerPortal

from ..models.terasoft_document import DOCUMENT_CATEGORIES

DESCRIPTION_MAX = 160  # characters of a description shown in the list (the whole text is its title)


def format_file_size(env, size):
    """``size`` bytes in the units a customer reads, in the user's number format: "820 KB",
    "1,5 MB" in Italian ("1.5 MB" in English); one decimal below 100, none above."""
    if not size:
        return ""
    if size < 1024:
        return env._("%(count)s bytes", count=size)
    value, unit = size / 1024, "KB"
    for bigger in ("MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    text = formatLang(env, value, digits=0 if value >= 100 else 1)
    decimal_point = get_lang(env).decimal_point
    if text.endswith(decimal_point + "0"):
        text = text[: -len(decimal_point) - 1]
    return f"{text}\N{NO-BREAK SPACE}{unit}"


def shorten_text(text, limit=DESCRIPTION_MAX):
    """``text`` on one line, cut at a word boundary before ``limit`` characters with an ellipsis."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip(" ,.;:") + "\N{HORIZONTAL ELLIPSIS}"


class DocumentPortal(CustomerPortal):
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "document_count" in counters:
            Document = request.env["terasoft.document"]
            values["document_count"] = (
                Document.search_count(Document._portal_domain(request.env.user.partner_id))
                if Document.has_access("read")
                else 0
            )
        return values

    @http.route("/my/documents", type="http", auth="user", website=True, readonly=True)
    def portal_my_documents(self, search=None, category=None, **kw):
        Document = request.env["terasoft.document"]
        domain = Document._portal_domain(request.env.user.partner_id)
        if category in dict(DOCUMENT_CATEGORIES):
            domain &= Domain("category", "=", category)
        search = (search or "").replace("\x00", "")  # PostgreSQL refuses NUL in strings
        if search.strip():
            domain &= (
                Domain("name", "ilike", search)
                | Domain("description", "ilike", search)
                | Domain("product_id.name", "ilike", search)
                | Domain("product_version", "ilike", search)
            )
        documents = Document.search(domain)
        labels = dict(Document._fields["category"]._description_selection(request.env))
        groups = [
            (key, labels[key], documents.filtered(lambda d, key=key: d.category == key))
            for key, _label in DOCUMENT_CATEGORIES
        ]
        values = self._prepare_portal_layout_values()
        values.update(
            page_name="documents",
            search=search or "",
            category=category,
            documents=documents,
            groups=[group for group in groups if group[2]],
            categories=list(labels.items()),
            human_size=lambda size: format_file_size(request.env, size),
            shorten=shorten_text,
        )
        return request.render("terasoft_portal.portal_my_documents", values)

    # read/write: each download increments download_count (_portal_stream)
    @http.route("/my/documents/<int:document_id>/download", type="http", auth="user")
    def portal_my_document_download(self, document_id, **kw):
        Document = request.env["terasoft.document"]
        # Visibility is decided with the user's own rights (record rule + portal domain): a
        # document of another company answers 404, as does an id that does not exist.
        document = Document.search(
            Domain("id", "=", document_id) & Document._portal_domain(request.env.user.partner_id)
        )
        if not document:
            raise NotFound()
        # sudo: the file field is staff-only so that it is downloadable only through this check.
        return document.sudo()._portal_stream().get_response(as_attachment=True)
