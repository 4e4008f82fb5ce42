"""HTTP requests that live through a PostgreSQL restart (issues 6 and 12, found by the reliability suite).

An opt-in, server-wide addon: it must be loaded with ``--load=base,web,terasoft_db_outage`` (its
``post_load`` hook wraps ``odoo.http.Request._serve_db`` for the process) *and* installed in the
database (``-i terasoft_db_outage``: its ``ir.http`` overrides). The wrapper acts only for the
databases where the addon is installed; every other database of the server keeps Odoo's own
handling (served "without database", 500 pages).

What Odoo 19 does by itself when PostgreSQL restarts under load:

* a request whose connection dies mid-transaction answers 500: ``service.model.retrying`` catches
  the ``OperationalError`` and tries to roll back on the dead connection, which raises
  ``InterfaceError``; ``http_routing`` then tries to render its error page on the same dead
  cursor, fails again, and the client gets a bare 500;
* a request that starts while the server is down cannot open a cursor: ``Application.__call__``
  catches the ``RegistryError`` and serves the request "without database", so a portal page
  answers 404 (``/my/tickets`` is not a database-less route).

Odoo already serves a request again when its transaction failed on a serialization error: nothing
was committed, so running it again from scratch is safe. A request whose connection died before
COMMIT is in the same position (PostgreSQL rolled its transaction back), and so is a request that
could not open a cursor at all. So:

* before COMMIT, or before a cursor could be opened: wait until PostgreSQL accepts connections
  again (at most ``OUTAGE_WAIT`` seconds), then serve the request again from scratch, at most
  ``MAX_RETRIES`` times. The client sees a slower answer, not an error;
* during COMMIT (or in the post-commit hooks): the COMMIT may have been applied, and a POST served
  twice could create a ticket twice. So the transaction id is read right before COMMIT
  (prepare_commit) and, once PostgreSQL is back, its fate asked with ``txid_status()``, which
  PostgreSQL provides for exactly this case: committed -> the answer prepared before COMMIT is
  sent (the post-commit hooks did not run: queued mails wait for the mail queue); aborted ->
  served again as above; unknown -> a 503 that says the request may have been saved
  (``ir.http._handle_error``). GET and HEAD are served again in any case: by HTTP's definition
  they can be repeated;
* PostgreSQL still down after ``OUTAGE_WAIT``: 503 with ``Retry-After``.

"During COMMIT" is decided from the traceback: the error went through ``Cursor.commit``. This is
conservative: an error in the last flush that ``commit()`` does before sending COMMIT counts too.

Each attempt starts from the request as Odoo built it (``Request.__init__``/``_post_init``): the
attributes that routing and dispatching set on the request (``lang``, ``is_frontend``, the
rerouted ``httprequest``, ``dispatcher``, ...) are removed or restored, the session is read
again from the session store, the response starts empty. A replay that kept them was the 500 of
issue 12 (http_routing's ``_match`` returned early on ``is_frontend`` and never set
``request.lang``).

The transaction id is read with ``txid_current_if_assigned()``: a transaction that wrote nothing
has none (and is not given one); its COMMIT changes nothing, so it is served again like a GET.
The connections opened to wait for PostgreSQL and to ask ``txid_status()`` have a connect
timeout (CONNECT_TIMEOUT), so a server that does not answer at all cannot hold a worker.

Odoo internals this relies on are pinned by ``check_odoo_internals`` (called by ``post_load``,
which leaves Odoo alone when they changed shape) and by the tests (the source of
``Request._serve_db`` is pinned by its hash: any change there must be reviewed).

Why a ``post_load`` hook and not only an ``ir.http`` override: the request cursor is opened, and
the whole transaction run, by ``odoo.http.Request._serve_db``; no ``ir.http`` method runs when the
cursor cannot be opened, nor around the transaction (``service.model.retrying`` owns it). Odoo's
documented place for such process-wide behaviour is the manifest's ``post_load`` hook: it runs once
per process when the module is imported (at registry loading, i.e. in the prefork master when the
server is started with ``-d``; or at startup when listed in ``--load``/``server_wide_modules``).
The ``ir.http`` overrides (models/ir_http.py) do the rest: ``_post_dispatch`` calls
prepare_commit, ``_handle_error`` turns the error into an honest 503 without touching the dead
cursor.
"""

import hashlib
import inspect
import logging
import time

import psycopg2
import werkzeug.wrappers
from markupsafe import escape

import odoo.http
import odoo.service.model
from odoo import sql_db
from odoo.http import SAFE_HTTP_METHODS
from odoo.modules.registry import Registry
from odoo.tools.translate import LazyTranslate

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

OUTAGE_WAIT = 10.0  # seconds a request waits for PostgreSQL to come back (the issue: serve again within 10 s)
MAX_RETRIES = 2  # times a request is served again; a third outage in a row answers 503
RETRY_AFTER = 5  # seconds, in the 503's Retry-After header
POLL_INTERVAL = 0.25
CONNECT_TIMEOUT = 2  # seconds, for the connections that wait for PostgreSQL and ask txid_status()
MODULE = "terasoft_db_outage"
# SQLSTATE classes of a connection that is gone: 08 connection exception, 57P operator
# intervention (admin shutdown, crash shutdown, cannot connect now). When the server just closed
# the socket ("server closed the connection unexpectedly") or refused the connection, psycopg2
# raises a plain OperationalError without SQLSTATE.
CONNECTION_SQLSTATES = ("08", "57P")

UNAVAILABLE = _lt("The service is briefly unavailable. Please try again in a few seconds.")
UNCERTAIN = _lt(
    "The service was interrupted while saving your request. Check whether it was saved before you send it again."
)


class DatabaseGone(Exception):
    """PostgreSQL answers, but not for this database (dropped or renamed): not an outage."""


def _exception_chain(exc):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _is_dead_connection_error(exc):
    if isinstance(exc, psycopg2.InterfaceError):  # "connection already closed", "cursor already closed"
        return True
    if type(exc) is psycopg2.OperationalError:  # no SQLSTATE: the client lost the server
        return True
    return isinstance(exc, psycopg2.OperationalError) and (exc.pgcode or "").startswith(CONNECTION_SQLSTATES)


def is_connection_lost(exc):
    """Whether ``exc`` (as raised out of a request) means the database connection was lost.

    Serialization failures, lock timeouts and the like keep their SQLSTATE and are not
    connection losses: Odoo handles them itself.
    """
    if isinstance(exc, odoo.http.RegistryError):  # raised "from" the error that opening the cursor got
        exc = exc.__cause__
    return exc is not None and _is_dead_connection_error(exc)


def _commit_codes():
    codes = set()
    pending = [sql_db.BaseCursor]
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if "commit" in vars(cls):
            codes.add(cls.commit.__code__)
    return codes


def reached_commit(exc):
    """Whether ``exc`` (or an error it was raised from) went through ``Cursor.commit``: the
    transaction may then be committed, and the request must not be served again unless
    PostgreSQL says it was not (transaction_status)."""
    codes = _commit_codes()
    for error in _exception_chain(exc):
        tb = error.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code in codes:
                return True
            tb = tb.tb_next
    return False


def _connect(dbname):
    """A new connection to ``dbname``, outside Odoo's pool, with a connect timeout."""
    _name, params = sql_db.connection_info_for(dbname)
    return psycopg2.connect(connect_timeout=CONNECT_TIMEOUT, **params)


def _query(dbname, query, params=()):
    cnx = _connect(dbname)
    try:
        with cnx.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchone()
    finally:
        cnx.close()


def wait_for_database(dbname, deadline):
    """Seconds until PostgreSQL accepts a connection to ``dbname`` again, or None if it still
    refuses at ``deadline`` (``time.monotonic()``). Raises DatabaseGone when the server answers
    but ``dbname`` cannot be opened."""

    def answers(name):
        try:
            _query(name, "SELECT 1")
        except psycopg2.Error:
            return False
        return True

    start = time.monotonic()
    while True:
        if answers(dbname):
            return time.monotonic() - start
        if answers("postgres"):
            # the server is up: once more, in case it came up between the two attempts
            if answers(dbname):
                return time.monotonic() - start
            raise DatabaseGone(dbname)
        if time.monotonic() + POLL_INTERVAL > deadline:
            return None
        time.sleep(POLL_INTERVAL)


def service_unavailable(request, uncertain=False):
    """A 503 page with Retry-After, rendered without the database (which is unreachable)."""
    lang = "en_US"
    if request is not None and getattr(request, "session", None) is not None:
        lang = request.session.context.get("lang") or lang
    message = (UNCERTAIN if uncertain else UNAVAILABLE)._translate(lang)
    body = (
        f'<!DOCTYPE html><html lang="{escape(lang[:2])}"><head><meta charset="utf-8"/>'
        f"<title>503</title></head><body><h1>503</h1><p>{escape(message)}</p></body></html>"
    )
    return werkzeug.wrappers.Response(
        body,
        status=503,
        content_type="text/html; charset=utf-8",
        headers={
            "Retry-After": str(RETRY_AFTER),
            "Cache-Control": "no-store",
        },
    )


def _rewind_uploads(request):
    """Rewind the uploaded files for one more run (as ``service.model.retrying`` does);
    False if one of them cannot be read again."""
    for upload in request.httprequest.files.values():
        if not (hasattr(upload, "seekable") and upload.seekable()):
            return False
        upload.seek(0)
    return True


class _Attempt:
    """What one run of a request leaves for serve_db_through_outages (see prepare_commit)."""

    __slots__ = ("response", "txid", "txid_read")

    def __init__(self):
        self.response = None  # the answer, built before COMMIT
        self.txid = None  # the transaction id, read right before COMMIT (unsafe methods only)
        self.txid_read = False  # whether it was read (None then means: nothing written)


def prepare_commit(request, response):
    """Called by ``ir.http._post_dispatch``, in the request's transaction, before COMMIT: keep
    the answer, and for a POST (or another unsafe method) have the transaction id read after
    the last writes, so that a COMMIT cut by a lost connection can be checked afterwards."""
    attempt = getattr(request, "terasoft_attempt", None)
    if attempt is None:
        return  # not served through serve_db_through_outages (post_load hook not run)
    attempt.response = response
    cr = request.env.cr
    if request.httprequest.method in SAFE_HTTP_METHODS or cr.readonly:
        return

    def read_transaction_id():
        # NULL when the transaction wrote nothing: then it has no id, and gets none here
        cr.execute("SELECT txid_current_if_assigned()")
        attempt.txid = cr.fetchone()[0]
        attempt.txid_read = True

    cr.precommit.add(read_transaction_id)


def transaction_status(dbname, txid):
    """'committed', 'aborted', 'in progress' or None (unknown) for transaction ``txid``: what
    PostgreSQL's txid_status() is made for, a COMMIT whose answer was lost with the connection."""
    if txid is None:
        return None
    try:
        return _query(dbname, "SELECT txid_status(%s)", [txid])[0]
    except psycopg2.Error:
        return None


def serve_db_through_outages(request, serve_db):
    """``Request._serve_db`` (given as ``serve_db``), served again when the database connection
    was lost before COMMIT; see the module docstring."""
    if not _enabled_for(request.db):
        return serve_db(request)
    method, path = request.httprequest.method, request.httprequest.path
    initial_state = dict(vars(request))
    retries = 0
    deadline = None
    while True:
        attempt = request.terasoft_attempt = _Attempt()
        try:
            return serve_db(request)
        except Exception as exc:
            if not is_connection_lost(exc):
                raise
            failure = exc
        deadline = deadline or time.monotonic() + OUTAGE_WAIT
        try:
            waited = wait_for_database(request.db, deadline)
        except DatabaseGone:
            raise failure from None  # not an outage: Odoo's own handling (serve without database)
        if waited is None:
            if reached_commit(failure):
                raise failure  # 503 "check whether it was saved" (ir.http._handle_error)
            _logger.warning(
                "%s %s: database connection lost (%s) and PostgreSQL still unreachable: 503",
                method,
                path,
                type(failure).__name__,
            )
            return service_unavailable(request)
        why = "nothing committed"
        if reached_commit(failure) and method in SAFE_HTTP_METHODS:
            why = "a GET can be repeated"
        elif reached_commit(failure) and attempt.txid_read and attempt.txid is None:
            why = "its transaction wrote nothing"
        elif reached_commit(failure):
            status = transaction_status(request.db, attempt.txid)
            if status == "committed" and attempt.response is not None:
                _logger.warning(
                    "%s %s: database connection lost during COMMIT (%s), which was applied: answering as prepared",
                    method,
                    path,
                    type(failure).__name__,
                )
                return attempt.response
            if status != "aborted":
                raise failure  # 503 "check whether it was saved" (ir.http._handle_error)
            why = "its COMMIT was not applied"
        if retries >= MAX_RETRIES or not _rewind_uploads(request):
            _logger.warning(
                "%s %s: database connection lost (%s) %d times: 503", method, path, type(failure).__name__, retries + 1
            )
            return service_unavailable(request)
        retries += 1
        _logger.warning(
            "%s %s: database connection lost, %s (%s), PostgreSQL answers again after %.1f s: "
            "serving the request again (%d/%d)",
            method,
            path,
            why,
            type(failure).__name__,
            waited,
            retries,
            MAX_RETRIES,
        )
        reset_request(request, initial_state)


def reset_request(request, initial_state):
    """Put ``request`` back in the state it had before its first attempt (``initial_state``,
    ``vars(request)`` then): what routing and dispatching set on it is dropped, the rerouted
    ``httprequest`` is restored, the session is read again from the store, the response and
    the dispatcher start anew (as in ``Request.__init__``)."""
    for name in set(vars(request)) - set(initial_state):
        delattr(request, name)
    for name, value in initial_state.items():
        setattr(request, name, value)
    request.session = request._get_session_and_dbname()[0]
    request.future_response = odoo.http.FutureResponse()
    request.dispatcher = odoo.http._dispatchers["http"](request)


def _enabled_for(dbname):
    """Whether ``dbname`` has the addon installed (its registry is loaded with it). A database
    whose registry is not loaded yet keeps Odoo's handling."""
    if not dbname:
        return False
    registry = Registry.registries.get(dbname)
    return registry is not None and MODULE in registry._init_modules


# ------------------------------------------------------------------ the Odoo internals relied on
# sha256 of inspect.getsource(odoo.http.Request._serve_db) on the Odoo 19.0 tree this was
# written against. When Odoo changes it, the test fails: review that the wrapper still holds
# (one call = one transaction from cursor to COMMIT, RegistryError when no cursor can be
# opened), then update the hash.
SERVE_DB_SOURCE_SHA256 = "423269660c03bf76e23f8fb03c3b54f1b3e11fcadceb2b85eda34354c7aa2f27"


def _source_sha256(func):
    return hashlib.sha256(inspect.getsource(func).encode()).hexdigest()


def check_odoo_internals(serve_db=None):
    """The shape of the Odoo internals this module relies on; a list of what changed (empty
    when all is as expected)."""
    serve_db = serve_db or odoo.http.Request._serve_db
    problems = []
    if list(inspect.signature(serve_db).parameters) != ["self"]:
        problems.append("Request._serve_db takes other arguments than self")
    names = set(serve_db.__code__.co_names)
    for name in ("retrying", "cursor", "check_signaling", "RegistryError"):
        if name not in names:
            problems.append(f"Request._serve_db no longer uses {name}")
    if (
        "_serve_db" not in odoo.http.Application.__call__.__code__.co_names
        or "RegistryError" not in odoo.http.Application.__call__.__code__.co_names
    ):
        problems.append("Application.__call__ no longer serves _serve_db and handles RegistryError")
    if list(inspect.signature(odoo.service.model.retrying).parameters) != ["func", "env"]:
        problems.append("service.model.retrying(func, env) changed")
    if not _commit_codes() or "flush" not in sql_db.Cursor.commit.__code__.co_names:
        problems.append("Cursor.commit no longer flushes (runs the precommit hooks) before COMMIT")
    if not hasattr(odoo.http, "_dispatchers") or "http" not in odoo.http._dispatchers:
        problems.append("odoo.http._dispatchers['http'] is gone")
    if not hasattr(odoo.http.Request, "_get_session_and_dbname"):
        problems.append("Request._get_session_and_dbname is gone")
    return problems


def post_load():
    """Manifest ``post_load`` hook: route ``Request._serve_db`` through serve_db_through_outages
    (unless the Odoo internals it relies on changed shape: then Odoo is left alone)."""
    serve_db = odoo.http.Request._serve_db
    if getattr(serve_db, "terasoft_outage_wrapper", False):
        return
    problems = check_odoo_internals(serve_db)
    if problems:
        _logger.error("terasoft_db_outage not enabled, Odoo changed: %s", "; ".join(problems))
        return

    def _serve_db(self):
        return serve_db_through_outages(self, serve_db)

    _serve_db.terasoft_outage_wrapper = True
    _serve_db.terasoft_wrapped = serve_db
    _serve_db.__doc__ = serve_db.__doc__
    odoo.http.Request._serve_db = _serve_db
