"""Screenshots of the customer portal for the README, with headless Chromium.

Usage: .venv/bin/python scripts/portal_screenshots.py http://127.0.0.1:8069 docs/
(a server with the demo database must be running; logs in as Giulia Bianchi).
Each page is taken at desktop width (1280 px) and at phone width (390 px, ``*_phone.png``).
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
chrome = subprocess.Popen(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           f"--remote-debugging-port={PORT}", f"--user-data-dir={profile}",
                           "--window-size=1280,900", "--lang=it-IT", "about:blank"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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

    def shot(name, full=False, width=1280):
        params = {"format": "png"}
        mobile = width < 600
        if full or mobile:
            # lay the page out at the width first, then measure its height
            cdp("Emulation.setDeviceMetricsOverride", width=width, height=900 if not mobile else 844,
                deviceScaleFactor=1, mobile=mobile)
            time.sleep(1)
            height = js("document.documentElement.scrollHeight")
            cdp("Emulation.setDeviceMetricsOverride", width=width, height=min(height, 2600 if not mobile else 3200),
                deviceScaleFactor=1, mobile=mobile)
            time.sleep(0.5)
        data = cdp("Page.captureScreenshot", **params)["data"]
        with open(f"{OUT}/{name}", "wb") as file:
            file.write(base64.b64decode(data))
        cdp("Emulation.clearDeviceMetricsOverride")

    def shots(name, url, wait=4):
        """``name``.png at desktop width and ``name``_phone.png at 390 px."""
        goto(url, wait=wait)
        shot(f"{name}.png", full=True)
        goto(url, wait=wait)
        shot(f"{name}_phone.png", width=390)

    cdp("Page.enable")
    # a fresh server builds its assets on the first page: wait for the login form's script
    for _attempt in range(3):
        goto(f"{BASE}/web/login", wait=5)
        js("document.querySelector('input[name=login]').value='giulia.bianchi@example.com';"
           "document.querySelector('input[name=password]').value='demo';"
           "document.querySelector('form.oe_login_form button[type=submit]').click()")
        for _tick in range(30):
            time.sleep(1)
            if "/web/login" not in (js("location.pathname") or "/web/login"):
                break
        if "/web/login" not in (js("location.pathname") or "/web/login"):
            break
    else:
        sys.exit("could not log in as giulia.bianchi@example.com")

    goto(f"{BASE}/my/tickets", wait=4)
    url = js("document.querySelector('#open_tickets ~ div a[href*=\"/my/tickets/\"]').href")
    shots("portal_ticket_list", f"{BASE}/my/tickets")
    shots("portal_ticket_page", url)
    shots("portal_home", f"{BASE}/my")
    shots("portal_ticket_new", f"{BASE}/my/tickets/new")
    shots("portal_preferences", f"{BASE}/my/account")
finally:
    chrome.terminate()
