import http.server
import inspect

from odoo.service import server
from odoo.tests import HttpCase, tagged

from ..banner import SERVER_HEADER, post_load


@tagged("standard", "post_install", "-at_install")
class TestServerBanner(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        post_load()  # as when the addon is loaded server-wide (idempotent)

    def test_odoo_and_python_code_it_relies_on(self):
        """Pinned: the handlers of both servers derive from CommonRequestHandler, and Python's
        send_response takes the Server header from version_string(). A change here needs a review."""
        self.assertTrue(issubclass(server.RequestHandler, server.CommonRequestHandler))
        self.assertTrue(issubclass(server.CommonRequestHandler, http.server.BaseHTTPRequestHandler))
        self.assertIn("handler=CommonRequestHandler", inspect.getsource(server.BaseWSGIServerNoBind.__init__))
        self.assertIn(
            "self.send_header('Server', self.version_string())",
            inspect.getsource(http.server.BaseHTTPRequestHandler.send_response),
        )

    def test_answers_carry_no_version(self):
        for path in ("/web/login", "/my", "/does-not-exist"):
            response = self.url_open(path, allow_redirects=False)
            self.assertEqual(response.headers.get("Server"), SERVER_HEADER, path)
            self.assertNotIn("Werkzeug", str(response.headers))
            self.assertNotIn("Python", str(response.headers))
