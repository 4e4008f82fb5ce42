"""HTTP requests that live through a PostgreSQL restart (issue 6, found by the reliability suite).

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
import logging
import time

import psycopg2
import werkzeug.wrappers
from markupsafe import escape

import odoo.http
from odoo import sql_db
from odoo.http import SAFE_HTTP_METHODS
from odoo.tools.translate import LazyTranslate

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

OUTAGE_WAIT = 10.0  # seconds a request waits for PostgreSQL to come back (the issue: serve again within 10 s)
MAX_RETRIES = 2  # times a request is served again; a third outage in a row answers 503
RETRY_AFTER = 5  # seconds, in the 503's Retry-After header
POLL_INTERVAL = 0.25
# SQLSTATE classes of a connection that is gone: 08 connection exception, 57P operator
# intervention (admin shutdown, crash shutdown, cannot connect now). When the server just closed
# the socket ("server closed the connection unexpectedly") or refused the connection, psycopg2
# raises a plain OperationalError without SQLSTATE.
CONNECTION_SQLSTATES = ("08", "57P")

UNAVAILABLE = _lt("The service is briefly unavailable. Please try again in a few seconds.")
UNCERTAIN = _lt("The service was interrupted while saving your request. "
                "Check whether it was saved before you send it again.")


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


def wait_for_database(dbname, deadline):
    """Seconds until PostgreSQL accepts a connection to ``dbname`` again, or None if it still
    refuses at ``deadline`` (``time.monotonic()``). Raises DatabaseGone when the server answers
    but ``dbname`` cannot be opened."""
    def answers(name):
        try:
            with sql_db.db_connect(name).cursor() as cr:
                cr.execute("SELECT 1")
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
    body = (f'<!DOCTYPE html><html lang="{escape(lang[:2])}"><head><meta charset="utf-8"/>'
            f"<title>503</title></head><body><h1>503</h1><p>{escape(message)}</p></body></html>")
    return werkzeug.wrappers.Response(body, status=503, content_type="text/html; charset=utf-8", headers={
        "Retry-After": str(RETRY_AFTER),
        "Cache-Control": "no-store",
    })


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
    __slots__ = ("response", "txid")

    def __init__(self):
        self.response = None  # the answer, built before COMMIT
        self.txid = None  # the transaction id, read right before COMMIT (unsafe methods only)


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
        cr.execute("SELECT txid_current()")
        attempt.txid = cr.fetchone()[0]
    cr.precommit.add(read_transaction_id)


def transaction_status(dbname, txid):
    """'committed', 'aborted', 'in progress' or None (unknown) for transaction ``txid``: what
    PostgreSQL's txid_status() is made for, a COMMIT whose answer was lost with the connection."""
    if txid is None:
        return None
    try:
        with sql_db.db_connect(dbname).cursor() as cr:
            cr.execute("SELECT txid_status(%s)", [txid])
            return cr.fetchone()[0]
    except psycopg2.Error:
        return None


def serve_db_through_outages(request, serve_db):
    """``Request._serve_db`` (given as ``serve_db``), served again when the database connection
    was lost before COMMIT; see the module docstring."""
    method, path = request.httprequest.method, request.httprequest.path
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
            raise failure  # not an outage: Odoo's own handling (serve without database)
        if waited is None:
            if reached_commit(failure):
                raise failure  # 503 "check whether it was saved" (ir.http._handle_error)
            _logger.warning("%s %s: database connection lost (%s) and PostgreSQL still unreachable: 503",
                            method, path, type(failure).__name__)
            return service_unavailable(request)
        why = "nothing committed"
        if reached_commit(failure) and method in SAFE_HTTP_METHODS:
            why = "a GET can be repeated"
        elif reached_commit(failure):
            status = transaction_status(request.db, attempt.txid)
            if status == "committed" and attempt.response is not None:
                _logger.warning("%s %s: database connection lost during COMMIT (%s), which was applied: "
                                "answering as prepared", method, path, type(failure).__name__)
                return attempt.response
            if status != "aborted":
                raise failure  # 503 "check whether it was saved" (ir.http._handle_error)
            why = "its COMMIT was not applied"
        if retries >= MAX_RETRIES or not _rewind_uploads(request):
            _logger.warning("%s %s: database connection lost (%s) %d times: 503", method, path,
                            type(failure).__name__, retries + 1)
            return service_unavailable(request)
        retries += 1
        _logger.warning("%s %s: database connection lost, %s (%s), PostgreSQL answers again after %.1f s: "
                        "serving the request again (%d/%d)", method, path, why,
                        type(failure).__name__, waited, retries, MAX_RETRIES)
        # start from the stored session and an empty response, like service.model.retrying
        request.session = request._get_session_and_dbname()[0]
        request.future_response = odoo.http.FutureResponse()


def post_load():
    """Manifest ``post_load`` hook: route ``Request._serve_db`` through serve_db_through_outages."""
    serve_db = odoo.http.Request._serve_db
    if getattr(serve_db, "terasoft_outage_wrapper", False):
        return

    def _serve_db(self):
        return serve_db_through_outages(self, serve_db)

    _serve_db.terasoft_outage_wrapper = True
    _serve_db.__doc__ = serve_db.__doc__
    odoo.http.Request._serve_db = _serve_db
