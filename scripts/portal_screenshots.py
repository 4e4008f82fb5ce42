"""Screenshots of the customer portal for the README, with headless Chromium.

Usage: .venv/bin/python scripts/portal_screenshots.py http://127.0.0.1:8069 docs/
(a server with the demo database must be running; logs in as Giulia Bianchi).
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

    def shot(name, full=False):
        params = {"format": "png"}
        if full:
            height = js("document.documentElement.scrollHeight")
            cdp("Emulation.setDeviceMetricsOverride", width=1280, height=min(height, 2600),
                deviceScaleFactor=1, mobile=False)
        data = cdp("Page.captureScreenshot", **params)["data"]
        with open(f"{OUT}/{name}", "wb") as file:
            file.write(base64.b64decode(data))
        cdp("Emulation.clearDeviceMetricsOverride")

    cdp("Page.enable")
    goto(f"{BASE}/web/login")
    js("document.querySelector('input[name=login]').value='giulia.bianchi@example.com';"
       "document.querySelector('input[name=password]').value='demo';"
       "document.querySelector('form.oe_login_form button[type=submit]').click()")
    time.sleep(4)

    goto(f"{BASE}/my/tickets", wait=4)
    shot("portal_ticket_list.png", full=True)
    url = js("document.querySelector('#open_tickets ~ div a[href*=\"/my/tickets/\"]').href")
    goto(url, wait=4)
    shot("portal_ticket_page.png", full=True)
finally:
    chrome.terminate()
