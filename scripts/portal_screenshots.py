"""Screenshots of the customer portal for the README, with headless Chromium.

Usage: .venv/bin/python scripts/portal_screenshots.py http://127.0.0.1:8069 docs/ [page ...]
(a server with the demo database must be running; logs in as Giulia Bianchi, in Italian).
Every page is shot at desktop width (1280 px, ``portal_<page>.png``) and at phone width
(390 px, ``portal_<page>_phone.png``), whole page. Pages: see PAGES; none given = all.
"""

import base64
import json
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

BASE, OUT = sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/")
PORT = 9333
profile = tempfile.mkdtemp()
chrome = subprocess.Popen(
    [
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--remote-debugging-port={PORT}",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
        "--lang=it-IT",
        "about:blank",
    ],
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)
try:
    for _ in range(50):
        try:
            pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{PORT}/json"))
            break
        except OSError:
            time.sleep(0.2)
    ws = websocket.create_connection(next(p for p in pages if p["type"] == "page")["webSocketDebuggerUrl"])
    counter = iter(range(1, 10**6))

    def cdp(method, **params):
        msg_id = next(counter)
        ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            message = json.loads(ws.recv())
            if message.get("id") == msg_id:
                return message.get("result", {})

    def goto(url, wait=3):
        cdp("Page.navigate", url=url)
        time.sleep(wait)

    def js(expression):
        return cdp("Runtime.evaluate", expression=expression, returnByValue=True).get("result", {}).get("value")

    def first_link(pattern):
        """The first link of the page whose URL matches the regular expression ``pattern``."""
        return js(
            "[...document.querySelectorAll('a[href]')].map(a => a.href)"
            f".find(h => new RegExp({json.dumps(pattern)}).test(h)) || ''"
        )

    def capture(page, url, wait=3):
        """``url`` at desktop and phone width, the whole page, into portal_<page>[_phone].png."""
        for width, suffix, mobile in ((1280, "", False), (390, "_phone", True)):
            cdp(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=900 if not mobile else 844,
                deviceScaleFactor=1,
                mobile=mobile,
            )
            goto(url, wait)
            height = js("document.documentElement.scrollHeight") or 900
            cdp(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=min(height, 4000),
                deviceScaleFactor=1,
                mobile=mobile,
            )
            time.sleep(0.5)
            data = cdp("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"]
            with open(f"{OUT}/portal_{page}{suffix}.png", "wb") as file:
                file.write(base64.b64decode(data))
        cdp("Emulation.clearDeviceMetricsOverride")

    wanted = set(sys.argv[3:])
    cdp("Page.enable")
    # Odoo sets a user's time zone from the browser's at the first login: be in Rome
    cdp("Emulation.setTimezoneOverride", timezoneId="Europe/Rome")
    # pages of a visitor, before logging in
    for page, path in (("login", "/web/login"), ("access_request", "/access/request")):
        if not wanted or page in wanted:
            capture(page, f"{BASE}{path}")
    for _attempt in range(3):  # a cold server may still be building its assets
        goto(f"{BASE}/web/login")
        js(
            "document.querySelector('input[name=login]').value='giulia.bianchi@example.com';"
            "document.querySelector('input[name=password]').value='demo';"
            "document.querySelector('form.oe_login_form button[type=submit]').click()"
        )
        time.sleep(4)
        if "/web/login" not in (js("location.pathname") or "/web/login"):
            break

    # the detail pages: the first ticket, FAQ entry and contact the lists link to
    goto(f"{BASE}/my/tickets", wait=4)
    ticket_url = first_link(r"/my/tickets/\d+$")
    goto(f"{BASE}/my/faq", wait=3)
    faq_url = first_link(r"/my/faq/\d+$")
    goto(f"{BASE}/my/contacts", wait=3)
    contact_url = first_link(r"/my/contacts/\d+$")
    PAGES = [
        ("home", f"{BASE}/my"),
        ("ticket_list", f"{BASE}/my/tickets"),
        ("ticket_new", f"{BASE}/my/tickets/new"),
        ("ticket_page", ticket_url),
        ("faq", f"{BASE}/my/faq"),
        ("faq_entry", faq_url),
        ("documents", f"{BASE}/my/documents"),
        ("contacts", f"{BASE}/my/contacts"),
        ("contact", contact_url),
        ("company", f"{BASE}/my/company"),
        ("preferences", f"{BASE}/my/account"),
    ]
    for page, url in PAGES:
        if url and (not wanted or page in wanted):
            capture(page, url, wait=4 if page.startswith("ticket") else 3)
finally:
    chrome.terminate()
