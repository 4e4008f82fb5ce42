import re

from lxml import html as lxml_html
from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL

# Both text-search configurations index every entry: staff write FAQ in Italian, but product
# names, error messages and some entries are in English. A query matches when all its words
# match in either configuration.
FTS_CONFIGS = ("italian", "english")
# ts_headline wraps matches in these; the excerpt is escaped before they become <mark> tags.
HEADLINE_START, HEADLINE_STOP = "\x02", "\x03"
MAX_QUERY_WORDS = 12
# Elements after which the plain text of an answer goes to a new line.
BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "table",
}


def html_to_text(html):
    """The words of an HTML answer as a reader sees them: no tags, no entities, and none of the
    ``*bold*`` / ``/italic/`` / ``[1] link`` marks ``html2plaintext`` writes (search excerpts
    show them to customers literally). One line per block, spaces collapsed."""
    if not html or not str(html).strip():
        return ""
    root = lxml_html.fragment_fromstring(str(html), create_parent="div")
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line)


class TerasoftFaq(models.Model):
    _name = "terasoft.faq"
    _description = "FAQ Entry"
    _order = "sequence, id"

    name = fields.Char("Question", required=True)
    answer = fields.Html(sanitize=True, sanitize_style=True)
    answer_text = fields.Text(
        "Answer (plain text)",
        compute="_compute_answer_text",
        store=True,
        export_string_translation=False,
    )
    keywords = fields.Char(help="Extra words the search should find this entry with (synonyms, error codes).")
    category_id = fields.Many2one("terasoft.faq.category", required=True, index=True, ondelete="restrict")
    product_id = fields.Many2one("terasoft.product", index=True)
    is_published = fields.Boolean("Published", default=False, index=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    attachment_ids = fields.Many2many(
        "ir.attachment",
        "terasoft_faq_ir_attachment_rel",
        "faq_id",
        "attachment_id",
        "Attachments",
        help="Manuals and screenshots shown with the answer.",
    )
    helpful_yes_count = fields.Integer("Helpful", default=0, readonly=True, copy=False)
    helpful_no_count = fields.Integer("Not Helpful", default=0, readonly=True, copy=False)
    website_url = fields.Char("Portal URL", compute="_compute_website_url")

    # search_vector is a generated column (see init): the ORM never writes it, PostgreSQL keeps it
    # in sync with name, keywords and answer_text on every INSERT/UPDATE.
    def init(self):
        parts = []
        for config in FTS_CONFIGS:
            parts += [
                f"setweight(to_tsvector('{config}', coalesce(name, '')), 'A')",
                f"setweight(to_tsvector('{config}', coalesce(keywords, '')), 'B')",
                f"setweight(to_tsvector('{config}', coalesce(answer_text, '')), 'C')",
            ]
        self.env.cr.execute(
            SQL(
                "ALTER TABLE terasoft_faq ADD COLUMN IF NOT EXISTS search_vector tsvector "
                "GENERATED ALWAYS AS (%s) STORED",
                SQL(" || ".join(parts)),
            )
        )
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS terasoft_faq_search_vector_idx ON terasoft_faq USING gin (search_vector)"
        )

    @api.depends("answer")
    def _compute_answer_text(self):
        for faq in self:
            faq.answer_text = html_to_text(faq.answer)

    @api.model
    def _recompute_answer_text(self):
        """Called on every install/update of the module (data/terasoft_faq_data.xml): the plain
        text is a stored compute, which an update of its code alone does not refresh."""
        # pylint: disable-next=no-search-all  # every FAQ, once per module update
        faqs = self.with_context(active_test=False).sudo().search([])
        for faq in faqs:
            text = html_to_text(faq.answer)
            if faq.answer_text != text:
                faq.answer_text = text

    def _compute_website_url(self):
        for faq in self:
            faq.website_url = f"/my/faq/{faq.id}"

    @api.model_create_multi
    def create(self, vals_list):
        faqs = super().create(vals_list)
        faqs._link_attachments()
        return faqs

    def write(self, vals):
        res = super().write(vals)
        if "attachment_ids" in vals:
            self._link_attachments()
        return res

    def _link_attachments(self):
        """Attach uploaded files to their FAQ, so they follow its access rules (an attachment
        without res_id is readable only by its uploader)."""
        for faq in self:
            faq.attachment_ids.filtered(lambda a: not a.res_id).sudo().write(  # uploader may be any staff
                {"res_model": self._name, "res_id": faq.id}
            )

    # ------------------------------------------------------------------ full-text search
    @api.model
    def _fts_query(self, text, match_all=True):
        """The tsquery for ``text``: its words joined with AND (``match_all``) or OR, the last word
        as a prefix (typing "cedol" finds "cedolino"). Returns an SQL, or None when ``text`` has
        no word. Only \\w+ words reach to_tsquery, so its syntax cannot be injected."""
        words = re.findall(r"\w+", text or "")[:MAX_QUERY_WORDS]
        if not words:
            return None
        if len(words[-1]) >= 3:
            words[-1] += ":*"
        expression = (" & " if match_all else " | ").join(words)
        return SQL(
            " || ".join(["to_tsquery(%s::regconfig, %s)"] * len(FTS_CONFIGS)),
            *[arg for config in FTS_CONFIGS for arg in (config, expression)],
        )

    @api.model
    def _fts_search(self, text, domain=None, limit=None, offset=0, match_all=True):
        """Search FAQ entries matching ``text``, best first: an entry whose question equals the
        text, then by ts_rank (question weighs more than keywords, keywords more than answer).

        Runs with the caller's access rights (record rules apply). Returns a list of
        ``(faq, excerpt)`` where ``excerpt`` is safe Markup with the matches in <mark>.
        """
        tsquery = self._fts_query(text, match_all=match_all)
        if tsquery is None:
            return []
        # The generated search_vector column is computed from these: write pending values first.
        self.flush_model(["name", "keywords", "answer_text", "is_published", "sequence", "category_id"])
        query = self._search(Domain(domain or Domain.TRUE), limit=limit, offset=offset)
        vector = SQL.identifier(query.table, "search_vector")
        normalized = " ".join(re.findall(r"\w+", text.lower()))
        query.add_where(SQL("%s @@ (%s)", vector, tsquery))
        query.order = SQL(
            "(trim(regexp_replace(lower(%s), '\\W+', ' ', 'g')) = %s) DESC, ts_rank(%s, %s) DESC, %s, %s",
            SQL.identifier(query.table, "name"),
            normalized,
            vector,
            tsquery,
            SQL.identifier(query.table, "sequence"),
            SQL.identifier(query.table, "id"),
        )
        options = (
            f"StartSel={HEADLINE_START}, StopSel={HEADLINE_STOP}, MaxWords=30, MinWords=12, "
            'MaxFragments=2, FragmentDelimiter=" … "'
        )
        rows = self.env.execute_query(
            query.select(
                SQL.identifier(query.table, "id"),
                SQL(
                    "ts_headline('italian', coalesce(%s, ''), %s, %s)",
                    SQL.identifier(query.table, "answer_text"),
                    tsquery,
                    options,
                ),
            )
        )
        return [(self.browse(faq_id), self._excerpt_markup(headline)) for faq_id, headline in rows]

    @api.model
    def _excerpt_markup(self, headline):
        """The excerpt as safe Markup: everything escaped, then the markers made <mark> tags."""
        text = escape(headline or "")
        return Markup(text.replace(HEADLINE_START, Markup("<mark>")).replace(HEADLINE_STOP, Markup("</mark>")))

    @api.model
    def _excerpt_parts(self, excerpt):
        """The excerpt (Markup from ``_excerpt_markup``) as a list of ``{'text', 'mark'}`` pieces of
        plain text, for a client that builds the DOM itself (text nodes and <mark> elements)."""
        parts = []
        for index, piece in enumerate(re.split(r"</?mark>", str(excerpt or ""))):
            if piece:
                parts.append({"text": Markup(piece).unescape(), "mark": bool(index % 2)})
        return parts

    @api.model
    def _portal_search(self, query, limit=5):
        """Published FAQ entries answering ``query`` (e.g. a ticket title), for suggestions.

        Any word may match (OR), so a long ticket title still finds entries; the ranking puts
        entries matching more words first. Runs with the caller's rights.
        Returns a list of dicts ``{'id', 'name', 'url', 'excerpt', 'excerpt_parts'}``: ``excerpt``
        is Markup, ``excerpt_parts`` the same as pieces of plain text (see ``_excerpt_parts``).
        """
        results = self._fts_search(query, [("is_published", "=", True)], limit=limit, match_all=False)
        return [
            {
                "id": faq.id,
                "name": faq.name,
                "url": faq.website_url,
                "excerpt": excerpt,
                "excerpt_parts": self._excerpt_parts(excerpt),
            }
            for faq, excerpt in results
        ]

    # ------------------------------------------------------------------ portal
    def _portal_vote(self, helpful):
        """Count one "Was this helpful?" answer. Called on a sudo'ed record the portal checked."""
        self.ensure_one()
        column = "helpful_yes_count" if helpful else "helpful_no_count"
        # An increment in SQL: two customers voting at once must not lose a vote.
        self.env.cr.execute(
            SQL(
                "UPDATE terasoft_faq SET %s = COALESCE(%s, 0) + 1 WHERE id = %s",
                SQL.identifier(column),
                SQL.identifier(column),
                self.id,
            )
        )
        self.invalidate_recordset([column])

    def _get_new_ticket_url(self):
        """The new-ticket form prefilled with this entry's ticket category and a link to it."""
        self.ensure_one()
        url = f"/my/tickets/new?faq_id={self.id}"
        ticket_category = self.category_id._get_ticket_category()
        if ticket_category:
            url += f"&category_id={ticket_category.id}"
        return url
