"""No version banner: Odoo's HTTP servers answer ``Server: Odoo``.

Python's ``http.server.BaseHTTPRequestHandler.send_response`` writes the ``Server`` header of
every answer from ``version_string()`` (``Werkzeug/x.y Python/3.z`` for Odoo's handlers) before
any Odoo code sees the answer, so no ``ir.http`` hook can change it. This server-wide addon
replaces ``version_string`` on Odoo's ``CommonRequestHandler``, the base of the handlers of the
threaded server (``RequestHandler``) and of the prefork workers (``BaseWSGIServerNoBind``).
It changes the whole process, hence its own opt-in addon, loaded with ``--load``; its tests pin
the code of Odoo and Python it relies on.
"""

import http.server
import logging

from odoo.service import server

_logger = logging.getLogger(__name__)

SERVER_HEADER = "Odoo"


def _version_string(self):
    return SERVER_HEADER


def post_load():
    handler = getattr(server, "CommonRequestHandler", None)
    if handler is None or not issubclass(handler, http.server.BaseHTTPRequestHandler):
        _logger.error(
            "terasoft_http_banner: Odoo's CommonRequestHandler changed shape; the Server header is left as is"
        )
        return
    handler.version_string = _version_string
