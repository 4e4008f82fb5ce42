"""A portal user's browser, as a requests session against one Odoo server."""

import re

import requests

CSRF_RE = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
LANG_REDIRECT_RE = re.compile(r"^(?:https?://[^/]+)?(/[a-z]{2}(?:_[A-Z]{2})?)(/[^?#]*)(\?.*)?$")
CSRF_JS_RE = re.compile(r'csrf_token["\']?\s*:\s*["\']([^"\']+)')


class PortalClient:
    """One portal session: login, CSRF token, form posts and JSON-RPC calls.

    Every call answers the ``requests.Response`` (redirects are not followed, so a 303 after
    a form post is the server's acknowledgement).
    """

    def __init__(self, base_url, timeout=30):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.timeout = timeout
        self.csrf_token = None
        self.login_name = None

    def url(self, path):
        return path if path.startswith("http") else self.base_url + path

    def get(self, path, **kw):
        """GET without following redirects, except the frontend's language-prefix redirect
        (``/my/x`` -> ``/en/my/x`` once the session chose a language other than the default)."""
        kw.setdefault("allow_redirects", False)
        response = self.session.get(self.url(path), timeout=self.timeout, **kw)
        location = response.headers.get("Location", "")
        match = LANG_REDIRECT_RE.match(location) if response.status_code in (301, 302, 303) else None
        if match and match.group(2) == path.split("?")[0]:
            kw.pop("params", None)
            response = self.session.get(
                self.url(match.group(1) + match.group(2) + (match.group(3) or "")), timeout=self.timeout, **kw
            )
        return response

    def post(self, path, data=None, files=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf is True:
            data["csrf_token"] = self.csrf()
        elif isinstance(csrf, str):
            data["csrf_token"] = csrf
        data = data or {"submit": "1"}  # requests sends no body for an empty dict
        kw.setdefault("allow_redirects", False)
        return self.session.post(self.url(path), data=data, files=files, timeout=self.timeout, **kw)

    def csrf(self, refresh=False):
        """The session's CSRF token (read from a portal form once, then reused)."""
        if self.csrf_token and not refresh:
            return self.csrf_token
        page = self.session.get(
            self.url("/web/login" if not self.login_name else "/my/tickets/new"), timeout=self.timeout
        ).text
        match = CSRF_RE.search(page) or CSRF_JS_RE.search(page)
        if not match:
            raise RuntimeError("no CSRF token in the page")
        self.csrf_token = match.group(1)
        return self.csrf_token

    def login(self, login, password):
        """Log in through the login form; raises if the server did not open a session."""
        page = self.session.get(self.url("/web/login"), timeout=self.timeout).text
        token = (CSRF_RE.search(page) or CSRF_JS_RE.search(page)).group(1)
        response = self.session.post(
            self.url("/web/login"),
            data={
                "login": login,
                "password": password,
                "csrf_token": token,
                "redirect": "/my",
            },
            timeout=self.timeout,
            allow_redirects=False,
        )
        if response.status_code not in (302, 303) or "/web/login" in response.headers.get("Location", ""):
            raise RuntimeError(f"login of {login} failed: {response.status_code}")
        self.login_name = login
        self.csrf_token = None
        return self

    def call_kw(self, model, method, args=None, kwargs=None):
        """``/web/dataset/call_kw`` as the browser's JS does: ``(result, error_name)``."""
        response = self.session.post(
            self.url(f"/web/dataset/call_kw/{model}/{method}"),
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "id": 1,
                "params": {"model": model, "method": method, "args": args or [], "kwargs": kwargs or {}},
            },
            timeout=self.timeout,
        )
        if response.status_code >= 500:
            return None, f"HTTP {response.status_code}"
        payload = response.json()
        if "error" in payload:
            return None, (payload["error"].get("data") or {}).get("name") or payload["error"].get("message")
        return payload.get("result"), None

    def jsonrpc(self, path, params):
        return self.session.post(
            self.url(path), json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}, timeout=self.timeout
        )
