"""Replay-safe portal forms: the routes' side of ``terasoft.idempotency.key``.

A route that creates something reads the form's ``idempotency_key``, answers the stored
result when the key was already served (``replay_response``), and otherwise stores its own
answer with ``remember`` right after creating, in the same transaction.
"""

import logging

from odoo.http import request

_logger = logging.getLogger(__name__)

FORM_KEY = "idempotency_key"
REPLAY_LOG = "answered from its idempotency key"  # counted by reliability/run.py


def idempotency_scope():
    """Whose keys: the logged-in user's, or ``public`` for visitors (their forms answer the
    same page to everyone)."""
    user = request.env.user
    return "public" if user._is_public() else f"user:{user.id}"


def _keys():
    # sudo: customers and visitors have no rights on the table; a route reads and stores
    # only its own answer, in the caller's scope.
    return request.env["terasoft.idempotency.key"].sudo()


def replay_response(key):
    """The answer to the first submission of ``key`` by this user, or None."""
    result = _keys()._replay(idempotency_scope(), key)
    if not result:
        return None
    _logger.info("%s %s %s", request.httprequest.method, request.httprequest.path, REPLAY_LOG)
    if result["url"]:
        return request.redirect(result["url"])
    data = result["json"] or {}
    if data.get("template"):
        return request.render(data["template"], data.get("values") or {})
    return request.make_json_response(data)


def remember(key, url=None, json=None):
    """Store this submission's answer (a redirect ``url`` or ``json``) under ``key``."""
    _keys()._remember(idempotency_scope(), key, url=url, json=json)
