from werkzeug.exceptions import NotFound

from odoo import http
from odoo.fields import Domain
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

SEARCH_LIMIT = 50


class FaqPortal(CustomerPortal):
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "faq_count" in counters:
            Faq = request.env["terasoft.faq"]
            values["faq_count"] = Faq.search_count([("is_published", "=", True)]) if Faq.has_access("read") else 0
        return values

    def _faq_get_visible(self, faq_id):
        """The published FAQ entry ``faq_id`` as the current user may read it, or 404."""
        faq = request.env["terasoft.faq"].search([("id", "=", faq_id), ("is_published", "=", True)])
        if not faq:
            raise NotFound()
        return faq

    @http.route(["/my/faq", "/my/faq/page/<int:page>"], type="http", auth="user", website=True, readonly=True)
    def portal_my_faq(self, page=1, search=None, category_id=None, **kw):
        Faq = request.env["terasoft.faq"]
        Category = request.env["terasoft.faq.category"]
        category = Category.browse(int(category_id)).exists() if str(category_id or "").isdigit() else Category
        domain = Domain("is_published", "=", True)
        if category:
            domain &= Domain("category_id", "child_of", category.id)
        values = self._prepare_portal_layout_values()
        values.update(
            page_name="faq",
            search=search or "",
            category=category,
            default_url="/my/faq",
            categories=Category.search([("parent_id", "=", False)]),
            faq_counts=dict(
                Faq._read_group(domain if not category else [("is_published", "=", True)], ["category_id"], ["__count"])
            ),
        )
        search = (search or "").replace("\x00", "")  # PostgreSQL refuses NUL in strings
        if search.strip():
            results = Faq._fts_search(search, domain, limit=SEARCH_LIMIT)
            values.update(results=results, faqs=Faq.browse([faq.id for faq, _excerpt in results]), pager=False)
        else:
            total = Faq.search_count(domain)
            pager = portal_pager(
                url="/my/faq",
                total=total,
                page=page,
                step=self._items_per_page,
                url_args={"category_id": category.id} if category else None,
            )
            faqs = Faq.search(
                domain, limit=self._items_per_page, offset=pager["offset"], order="category_id, sequence, id"
            )
            values.update(results=[(faq, False) for faq in faqs], faqs=faqs, pager=pager)
        return request.render("terasoft_portal.portal_my_faq", values)

    @http.route("/my/faq/<int:faq_id>", type="http", auth="user", website=True, readonly=True)
    def portal_my_faq_entry(self, faq_id, **kw):
        faq = self._faq_get_visible(faq_id)
        values = self._prepare_portal_layout_values()
        values.update(
            page_name="faq_entry",
            faq=faq,
            voted=faq.id in request.session.get("terasoft_faq_votes", []),
            # sudo: portal users have no access to ir.attachment; the entry is visible to them
            # and these are its files (downloaded through portal_my_faq_attachment)
            faq_attachments=faq.sudo().attachment_ids,
            new_ticket_url=faq._get_new_ticket_url(),
        )
        return request.render("terasoft_portal.portal_my_faq_entry", values)

    @http.route("/my/faq/<int:faq_id>/vote", type="http", auth="user", methods=["POST"], website=True)
    def portal_my_faq_vote(self, faq_id, helpful=None, **kw):
        faq = self._faq_get_visible(faq_id)
        votes = request.session.get("terasoft_faq_votes", [])
        if faq.id not in votes and helpful in ("yes", "no"):
            # sudo: customers read FAQ only; counting a vote is the one write they may cause.
            faq.sudo()._portal_vote(helpful == "yes")
            request.session["terasoft_faq_votes"] = (votes + [faq.id])[-200:]
        return request.redirect(f"/my/faq/{faq.id}?voted=1")

    @http.route("/my/faq/<int:faq_id>/attachment/<int:attachment_id>", type="http", auth="user", readonly=True)
    def portal_my_faq_attachment(self, faq_id, attachment_id, **kw):
        faq = self._faq_get_visible(faq_id)
        # sudo: portal users have no access to ir.attachment; the entry is readable and only
        # one of its own files is served
        attachment = faq.sudo().attachment_ids.filtered(lambda a: a.id == attachment_id)
        if not attachment:
            raise NotFound()
        return request.env["ir.binary"]._get_stream_from(attachment).get_response(as_attachment=True)
