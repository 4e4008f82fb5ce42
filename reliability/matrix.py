"""Isolation matrix: portal user A (Alfa Paghe) against the records of user B (Beta Servizi).

Generated, not hand-listed:

* routes: every rule of Odoo's routing map whose endpoint is defined in terasoft_portal.
  Each rule needs a *probe builder* in :data:`ROUTE_PROBES`; a rule without one is a
  failure of the suite ("no probe"), so a new route cannot slip through unexercised.
* models: every model with an ACL for ``base.group_portal`` (or a global ACL) in
  ``ir.model.access``; B's records are those B can search and A cannot. Over
  ``/web/dataset/call_kw`` A must get AccessError/MissingError (read, write, unlink,
  message_post) or nothing (search_read, search_count).

Both the live run (``run.py``) and the quick test drive it through :class:`~client.PortalClient`;
``env_scope`` is a context manager yielding a superuser env that sees the server's data.
"""

import base64
import uuid
from dataclasses import dataclass, field

MODULE = "odoo.addons.terasoft_portal"
REFUSED = {"odoo.exceptions.AccessError", "odoo.exceptions.MissingError"}


@dataclass
class Probe:
    """One request of user A and what it must answer."""

    route: str
    action: str  # read, write, comment, close, download, search, create
    method: str
    path: str
    data: dict = field(default_factory=dict)
    expect: str = "404"  # "404", "absent" (200 without B's marker), "not5xx"
    json: dict = None


@dataclass
class Result:
    name: str
    ok: bool
    detail: str = ""


# ---------------------------------------------------------------- routes
def portal_rules(env):
    """The routing map's rules whose endpoint is terasoft_portal's code, sorted by URL."""
    import threading

    threading.current_thread().dbname = env.cr.dbname
    rules = []
    for rule in env["ir.http"].routing_map().iter_rules():
        func = getattr(rule.endpoint, "func", rule.endpoint)
        module = getattr(getattr(func, "__func__", func), "__module__", "")
        if module.startswith(MODULE):
            rules.append(rule)
    return sorted(rules, key=lambda r: r.rule)


def _ticket_routes(t):
    b, a = t["b_ticket"], t["a_ticket"]
    return {
        "/my/tickets/<int:ticket_id>": [Probe("", "read", "GET", f"/my/tickets/{b}")],
        "/my/tickets/<int:ticket_id>/comment": [
            Probe("", "comment", "POST", f"/my/tickets/{b}/comment", {"comment": "A was here " + t["marker"]})
        ],
        "/my/tickets/<int:ticket_id>/close": [Probe("", "close", "POST", f"/my/tickets/{b}/close")],
        "/my/tickets/<int:ticket_id>/plan": [
            Probe("", "write", "POST", f"/my/tickets/{b}/plan", {"answer": "accept", "message": "ok"})
        ],
        "/my/tickets/<int:ticket_id>/attachments/<int:attachment_id>": [
            Probe("", "download", "GET", f"/my/tickets/{b}/attachments/{t['b_attachment']}"),
            Probe("", "download", "GET", f"/my/tickets/{b}/attachments/{t['b_message_attachment']}"),
            # A's own ticket, B's file: the attachment must belong to the ticket
            Probe("", "download", "GET", f"/my/tickets/{a}/attachments/{t['b_attachment']}"),
        ],
        "/my/tickets": [
            Probe("", "search", "GET", f"/my/tickets?search={t['search']}", expect="absent"),
            Probe("", "search", "GET", "/my/tickets?filterby=all&show=all", expect="absent"),
        ],
        "/my/tickets/page/<int:page>": [Probe("", "search", "GET", "/my/tickets/page/1?filterby=all", expect="absent")],
        "/my/tickets/export/<any(csv,xlsx):file_format>": [
            Probe("", "search", "GET", f"/my/tickets/export/csv?search={t['search']}", expect="absent"),
            Probe("", "search", "GET", "/my/tickets/export/csv", expect="absent"),
        ],
        "/my/tickets/new": [
            # B's ids in every id-like field: the ticket must still be A's (checked in run_routes)
            Probe(
                "",
                "create",
                "POST",
                "/my/tickets/new",
                {
                    "name": "Isolation create " + t["marker_a"],
                    "category_id": str(t["category"]),
                    "partner_id": str(t["b_partner"]),
                    "commercial_partner_id": str(t["b_company"]),
                    "company_id": str(t["b_company"]),
                    "user_id": str(t["b_user"]),
                    "id": str(b),
                    "ticket_id": str(b),
                    "parent_id": str(b),
                    "description": "x",
                },
                expect="created",
            )
        ],
        # colleagues in CC: B's ticket is not A's to share, B's contact is never A's colleague
        "/my/tickets/<int:ticket_id>/cc/add": [
            Probe("", "write", "POST", f"/my/tickets/{b}/cc/add", {"partner_id": str(t["b_partner"])}),
            Probe("", "write", "POST", f"/my/tickets/{a}/cc/add", {"partner_id": str(t["b_partner"])}),
        ],
        "/my/tickets/<int:ticket_id>/cc/remove": [
            Probe("", "write", "POST", f"/my/tickets/{b}/cc/remove", {"partner_id": str(t["b_partner"])}),
        ],
        "/my/tickets/faq_suggest": [
            Probe("", "search", "POST", "/my/tickets/faq_suggest", expect="absent", json={"term": t["search"]})
        ],
    }


def _other_routes(t):
    return {
        "/my/contacts/<int:partner_id>": [
            Probe("", "read", "GET", f"/my/contacts/{t['b_partner']}"),
            Probe("", "read", "GET", f"/my/contacts/{t['b_company']}"),
        ],
        "/my/contacts": [Probe("", "search", "GET", "/my/contacts", expect="absent")],
        "/my/company": [Probe("", "read", "GET", "/my/company", expect="absent")],
        "/my/change_request": [
            Probe("", "write", "POST", "/my/change_request", {"partner_id": str(t["b_partner"]), "message": "x"}),
            Probe("", "write", "POST", "/my/change_request", {"partner_id": str(t["b_company"]), "message": "x"}),
        ],
        "/my/documents": [
            Probe("", "search", "GET", f"/my/documents?search={t['search']}", expect="absent"),
            Probe("", "search", "GET", "/my/documents", expect="absent"),
        ],
        "/my/documents/<int:document_id>/download": [
            Probe("", "download", "GET", f"/my/documents/{t['b_document']}/download")
        ],
        "/my/faq": [
            Probe("", "search", "GET", f"/my/faq?search={t['search']}", expect="absent"),
            Probe("", "search", "GET", f"/my/faq?category_id={t['b_faq_category']}", expect="absent"),
        ],
        "/my/faq/page/<int:page>": [Probe("", "search", "GET", "/my/faq/page/1", expect="absent")],
        "/my/faq/<int:faq_id>": [Probe("", "read", "GET", f"/my/faq/{t['b_faq']}")],
        "/my/faq/<int:faq_id>/vote": [Probe("", "write", "POST", f"/my/faq/{t['b_faq']}/vote", {"helpful": "yes"})],
        "/my/faq/<int:faq_id>/attachment/<int:attachment_id>": [
            Probe("", "download", "GET", f"/my/faq/{t['b_faq']}/attachment/{t['b_faq_attachment']}"),
            # a published FAQ with B's ticket attachment id
            Probe("", "download", "GET", f"/my/faq/{t['a_faq']}/attachment/{t['b_attachment']}"),
        ],
        # Routes without a record in their URL or form: exercised, must not leak B's marker.
        "/my/language": [
            Probe(
                "",
                "write",
                "POST",
                "/my/language",
                {"lang": "en_US", "redirect": f"/my/tickets/{t['b_ticket']}"},
                expect="not5xx",
            )
        ],
        # Odoo's preferences form and account deletion, overridden here: B's contact and
        # company are not A's to edit (Odoo answers 403), A is not deleted (company contact)
        "/my/address/submit": [
            Probe(
                "",
                "write",
                "POST",
                "/my/address/submit",
                {
                    "partner_id": str(t["b_partner"]),
                    "name": "A was here",
                    "company_name": "A was here",
                    "email": "a@example.com",
                },
                expect="not5xx",
            ),
            Probe(
                "",
                "write",
                "POST",
                "/my/address/submit",
                {"partner_id": str(t["b_company"]), "name": "A was here", "email": "a@example.com"},
                expect="not5xx",
            ),
        ],
        "/my/deactivate_account": [
            Probe("", "write", "POST", "/my/deactivate_account", {"validation": "x", "password": "x"}, expect="not5xx")
        ],
        # the rating pages open with the email's token only: a guessed one shows nothing
        "/rate/<string:token>/<int:rate>": [Probe("", "read", "GET", f"/rate/{uuid.uuid4().hex}/5")],
        "/rate/<string:token>/submit_feedback": [
            Probe("", "write", "POST", f"/rate/{uuid.uuid4().hex}/submit_feedback", {"rate": "1", "feedback": "x"})
        ],
        "/access/request": [Probe("", "read", "GET", "/access/request", expect="absent")],
        "/web/login": [Probe("", "read", "GET", "/web/login", expect="not5xx")],
        "/web/reset_password": [Probe("", "read", "GET", "/web/reset_password", expect="absent")],
    }


def route_probes(rules, targets):
    """``(probes, failures)``: the probes of every rule, and a failure per rule without a builder."""
    table = {**_ticket_routes(targets), **_other_routes(targets)}
    probes, failures = [], []
    for rule in rules:
        if rule.rule not in table:
            failures.append(Result(f"route {rule.rule}", False, "no probe: teach reliability/matrix.py this route"))
            continue
        for probe in table[rule.rule]:
            probe.route = rule.rule
            probes.append(probe)
    # the language switch changes the session's cookies and language: send it last
    probes.sort(key=lambda p: p.route == "/my/language")
    return probes, failures


# ---------------------------------------------------------------- targets
def prepare_targets(env, user_a, user_b):
    """Create B's records the matrix attacks (ticket with files and a comment, a document,
    an unpublished FAQ with a file, a saved filter) and return their ids. Superuser env."""
    marker = "ISOB" + uuid.uuid4().hex[:10]
    Ticket = env["terasoft.ticket"]
    b_partner = user_b.partner_id
    category = env["terasoft.ticket.category"].search([], limit=1)
    b_ticket = Ticket.create(
        {
            "name": f"Beta secret {marker}",
            "partner_id": b_partner.id,
            "category_id": category.id,
            "description": f"<p>{marker}</p>",
        }
    )
    a_ticket = Ticket.create(
        {"name": "Alfa own ticket", "partner_id": user_a.partner_id.id, "category_id": category.id}
    )
    Attachment = env["ir.attachment"]
    b_attachment = Attachment.create(
        {"name": f"{marker}.txt", "raw": marker.encode(), "res_model": "terasoft.ticket", "res_id": b_ticket.id}
    )
    message = (
        b_ticket.with_user(user_b)
        .sudo()
        .message_post(
            body=f"Beta comment {marker}",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            author_id=b_partner.id,
            attachment_ids=Attachment.create(
                {"name": f"{marker}-msg.txt", "raw": b"beta", "res_model": "mail.compose.message", "res_id": 0}
            ).ids,
        )
    )
    document = env["terasoft.document"].create(
        {
            "name": f"Beta manual {marker}",
            "category": "manual",
            "is_published": True,
            "visibility": "companies",
            "partner_ids": [(6, 0, [b_partner.commercial_partner_id.id])],
            "file": base64.b64encode(marker.encode()),
            "file_name": f"{marker}.pdf",
        }
    )
    # FAQ categories are shared by design: its name carries no marker
    faq_category = env["terasoft.faq.category"].create({"name": "Hidden category"})
    b_faq = env["terasoft.faq"].create(
        {"name": f"Unpublished {marker}", "category_id": faq_category.id, "is_published": False}
    )
    b_faq_attachment = Attachment.create(
        {"name": f"{marker}-faq.txt", "raw": b"faq", "res_model": "terasoft.faq", "res_id": b_faq.id}
    )
    b_faq.attachment_ids = [(4, b_faq_attachment.id)]
    a_faq = env["terasoft.faq"].search([("is_published", "=", True)], limit=1)
    env["ir.filters"].create(
        {"name": f"B filter {marker}", "model_id": "terasoft.ticket", "user_ids": [(6, 0, [user_b.id])]}
    )
    env.flush_all()
    return {
        # lists echo the search term: search with a prefix, look for the whole marker
        "marker": marker,
        "search": marker[:-3],
        "marker_a": "ISOA" + uuid.uuid4().hex[:10],
        "b_ticket": b_ticket.id,
        "a_ticket": a_ticket.id,
        "b_attachment": b_attachment.id,
        "b_message": message.id,
        "b_message_attachment": message.attachment_ids[:1].id,
        "b_partner": b_partner.id,
        "b_company": b_partner.commercial_partner_id.id,
        "b_user": user_b.id,
        "b_document": document.id,
        "b_faq": b_faq.id,
        "b_faq_attachment": b_faq_attachment.id,
        "b_faq_category": faq_category.id,
        "a_faq": a_faq.id,
        "category": category.id,
        "a_partner": user_a.partner_id.id,
        "user_a": user_a.id,
        "user_b": user_b.id,
    }


def fingerprint(env, targets):
    """What must not change when A attacks: B's ticket, document, FAQ, partners (superuser)."""
    env.invalidate_all()
    ticket = env["terasoft.ticket"].browse(targets["b_ticket"])
    partners = env["res.partner"].browse([targets["b_partner"], targets["b_company"]])
    faq = env["terasoft.faq"].browse(targets["b_faq"])
    cr = env.cr
    cr.execute("SELECT count(*), max(id) FROM mail_message WHERE model='terasoft.ticket' AND res_id=%s", (ticket.id,))
    messages = cr.fetchone()
    cr.execute(
        "SELECT count(*) FROM mail_activity WHERE res_model='res.partner' AND res_id IN %s", (tuple(partners.ids),)
    )
    activities = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM terasoft_attachment_download_log WHERE ticket_id=%s", (ticket.id,))
    downloads = cr.fetchone()[0]
    return {
        "ticket": (ticket.state, ticket.write_date, ticket.name, ticket.partner_id.id, messages, downloads),
        "partners": [(p.write_date, p.name) for p in partners],
        "activities": activities,
        "document": env["terasoft.document"].browse(targets["b_document"]).download_count,
        "faq": (faq.helpful_yes_count, faq.helpful_no_count, faq.is_published),
    }


# ---------------------------------------------------------------- running
def _check_probe(probe, response, targets):
    status = response.status_code
    body = response.text if "text" in response.headers.get("Content-Type", "") or probe.json else ""
    if status >= 500:
        return f"HTTP {status}"
    if status in (301, 302, 303) and probe.expect in ("404", "absent"):
        return f"HTTP {status} to {response.headers.get('Location')}, expected {probe.expect}"
    if probe.expect == "404":
        return None if status == 404 else f"HTTP {status}, expected 404"
    if probe.expect == "absent":
        if status != 200:
            return f"HTTP {status}, expected 200"
        return f"B's marker {targets['marker']} in the answer" if targets["marker"] in body else None
    if probe.expect == "created":
        return None if status in (303, 302) else f"HTTP {status}, expected a redirect to the new ticket"
    return None  # not5xx


def run_routes(clients, env_scope, rules, targets):
    """Send every route probe as A; return the list of :class:`Result` (one per probe)."""
    client = clients["a"]
    probes, results = route_probes(rules, targets)
    for probe in probes:
        try:
            if probe.json is not None:
                response = client.jsonrpc(probe.path, probe.json)
            elif probe.method == "POST":
                response = client.post(probe.path, probe.data)
            else:
                response = client.get(probe.path)
            error = _check_probe(probe, response, targets)
        except Exception as exc:  # connection errors are failures too
            error = f"{type(exc).__name__}: {exc}"
        results.append(Result(f"{probe.action} {probe.method} {probe.path}", error is None, error or ""))
    with env_scope() as env:
        created = env["terasoft.ticket"].search([("name", "like", targets["marker_a"])])
        ok = len(created) == 1 and created.partner_id.id == targets["a_partner"]
        results.append(
            Result(
                "create with B's ids: ticket belongs to A",
                ok,
                "" if ok else f"{len(created)} tickets, partners {created.partner_id.ids}",
            )
        )
    return results


def portal_models(env):
    """Models with an ACL for base.group_portal or for everyone (read perm), sorted."""
    env.cr.execute(
        """
        SELECT DISTINCT m.model FROM ir_model_access a JOIN ir_model m ON m.id = a.model_id
         WHERE a.active AND a.perm_read
           AND (a.group_id IS NULL OR a.group_id = %s)
         ORDER BY m.model""",
        (env.ref("base.group_portal").id,),
    )
    return [model for (model,) in env.cr.fetchall() if model in env]


def _write_values(Model, record_sudo):
    for name in ("name", "display_name", "description", "body", "login", "comment"):
        fld = Model._fields.get(name)
        if fld and fld.store and not fld.readonly and fld.type in ("char", "text", "html"):
            return {name: "pwned"}
    for name, fld in Model._fields.items():
        if (
            fld.store
            and not fld.readonly
            and not fld.compute
            and name not in ("id",)
            and fld.type in ("char", "text", "boolean", "integer")
        ):
            return {name: record_sudo[name] if fld.type != "char" else "pwned"}
    return {"write_date": False}


def rpc_probes(env, targets, limit=5):
    """``[(model, action, method, args, kwargs)]`` for B's records of every portal model
    (superuser env; B's records: searchable by B, not by A)."""
    user_a = env["res.users"].browse(targets["user_a"])
    user_b = env["res.users"].browse(targets["user_b"])
    probes, notes = [], []
    for model in portal_models(env):
        Model = env[model]
        if Model._abstract:
            continue
        try:
            ids_b = Model.with_user(user_b).search([], order="id desc", limit=200).ids
            seen_a = set(Model.with_user(user_a).search([("id", "in", ids_b)]).ids)
        except Exception as exc:  # B itself cannot search: nothing of B's to attack
            notes.append(f"{model}: B cannot search ({type(exc).__name__})")
            continue
        exclusive = [i for i in ids_b if i not in seen_a][:limit]
        if not exclusive:
            notes.append(f"{model}: no B-only records")
            continue
        values = _write_values(Model, Model.browse(exclusive[0]))
        probes += [
            (model, "read", "read", [exclusive, ["id", "display_name"]], {}),
            (model, "search", "search_read", [[("id", "in", exclusive)], ["id"]], {}),
            (model, "search", "search_count", [[("id", "in", exclusive)]], {}),
            (model, "write", "write", [exclusive, values], {}),
            (model, "unlink", "unlink", [exclusive], {}),
        ]
        if "message_post" in dir(Model):
            probes.append(
                (model, "comment", "message_post", [exclusive[:1]], {"body": "A was here", "message_type": "comment"})
            )
    return probes, notes


def run_rpc(clients, env_scope, targets):
    """Send every RPC probe as A over /web/dataset/call_kw; return ``(results, notes)``."""
    client = clients["a"]
    with env_scope() as env:
        probes, notes = rpc_probes(env, targets)
        before = _rpc_state(env, probes)
    results = []
    for model, action, method, args, kwargs in probes:
        try:
            result, error = client.call_kw(model, method, args, kwargs)
        except Exception as exc:
            result, error = None, f"{type(exc).__name__}: {exc}"
        if action == "search" and error is None:
            ok = result in ([], 0)
            detail = "" if ok else f"found {result!r:.80}"
        else:
            ok = error in REFUSED
            detail = "" if ok else f"answered {error or repr(result)[:80]}"
        results.append(Result(f"rpc {model}.{method}", ok, detail))
    with env_scope() as env:
        after = _rpc_state(env, probes)
    if before != after:
        changed = [m for m in before if before[m] != after.get(m)]
        results.append(Result("rpc: B's records unchanged", False, f"changed: {changed}"))
    return results, notes


def _rpc_state(env, probes):
    state = {}
    for model, action, _method, args, _kwargs in probes:
        if action == "read":
            env.invalidate_all()
            records = env[model].browse(args[0]).exists()
            state[model] = [(r.id, str(r.write_date) if "write_date" in r._fields else "") for r in records]
    return state


def run_matrix(clients, env_scope, user_logins=None):
    """The whole matrix; ``clients['a']`` is A's logged-in client. Returns ``(results, notes)``."""
    with env_scope() as env:
        user_a = env["res.users"].search([("login", "=", (user_logins or {}).get("a", "giulia.bianchi@example.com"))])
        user_b = env["res.users"].search([("login", "=", (user_logins or {}).get("b", "luca.verdi@example.com"))])
        targets = prepare_targets(env, user_a, user_b)
        rules = portal_rules(env)
    # a new transaction: tracking messages of the new records are written at commit
    with env_scope() as env:
        before = fingerprint(env, targets)
    results = run_routes(clients, env_scope, rules, targets)
    with env_scope() as env:
        after = fingerprint(env, targets)
    results.append(
        Result("routes: B's records unchanged", before == after, "" if before == after else f"{before} -> {after}")
    )
    rpc_results, notes = run_rpc(clients, env_scope, targets)
    return results + rpc_results, notes, len(rules)
