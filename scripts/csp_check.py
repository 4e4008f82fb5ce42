"""Load portal pages in headless Chromium, logged in as a user, and print the
Content-Security-Policy violations and script errors each one logs (CDP over websocket).

    .venv/bin/python scripts/csp_check.py http://127.0.0.1:8069 giulia.bianchi@example.com demo \
        /my /my/tickets /my/tickets/new /my/faq /web/login /access/request /web/reset_password
"""

import json
import re
import subprocess
import sys
import tempfile
import time

import requests
import websocket

BASE = sys.argv[1]
login, password = sys.argv[2], sys.argv[3]
paths = sys.argv[4:]
s = requests.Session()
page = s.get(f"{BASE}/web/login").text
csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
r = s.post(f"{BASE}/web/login", data={"login": login, "password": password, "csrf_token": csrf}, allow_redirects=False)
sid = s.cookies.get("session_id")
proc = subprocess.Popen(
    [
        "/usr/bin/chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--remote-debugging-port=9377",
        "--user-data-dir=" + tempfile.mkdtemp(prefix="csp_check_"),
        "about:blank",
    ],
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)
try:
    for _ in range(50):
        try:
            tabs = requests.get("http://127.0.0.1:9377/json", timeout=5).json()
            break
        except requests.ConnectionError:
            time.sleep(0.2)
    tab = next(t for t in tabs if t["type"] == "page")
    ws = websocket.create_connection(tab["webSocketDebuggerUrl"])
    n = [0]

    def send(method, **params):
        n[0] += 1
        ws.send(json.dumps({"id": n[0], "method": method, "params": params}))
        return n[0]

    for m in ("Log.enable", "Runtime.enable", "Page.enable", "Network.enable"):
        send(m)
    host = re.sub(r"https?://([^:/]+).*", r"\1", BASE)
    if sid:
        send("Network.setCookie", name="session_id", value=sid, domain=host, path="/")
    for path in paths:
        send("Page.navigate", url=BASE + path)
        end = time.time() + 6
        ws.settimeout(0.5)
        problems = []
        while time.time() < end:
            try:
                msg = json.loads(ws.recv())
            except websocket.WebSocketTimeoutException:
                continue
            meth = msg.get("method")
            if meth == "Log.entryAdded":
                e = msg["params"]["entry"]
                if e["level"] in ("error", "warning"):
                    problems.append(f"LOG {e['level']} {e.get('source')}: {e['text'][:300]}")
            elif meth == "Runtime.exceptionThrown":
                problems.append("EXC " + json.dumps(msg["params"]["exceptionDetails"])[:300])
            elif meth == "Runtime.consoleAPICalled" and msg["params"]["type"] in ("error", "warning"):
                problems.append("CONSOLE " + json.dumps(msg["params"]["args"])[:300])
        print(path, "OK" if not problems else "")
        for p in problems:
            print("   ", p)
finally:
    proc.terminate()
