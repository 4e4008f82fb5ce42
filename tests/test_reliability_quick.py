"""Quick part of the reliability suite (the full one is ``make reliability``).

* the isolation matrix, generated from the routing map and the portal ACLs (full);
* a bounded, derandomized Hypothesis run of hostile inputs on the new-ticket form and the
  comment route;
* concurrent ticket creation through the portal form.
"""

import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from odoo.tools import mute_logger

from .common import TerasoftHttpCase

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reliability import hostile, matrix  # noqa: E402
from reliability.client import PortalClient  # noqa: E402

DEMO_PASSWORD = "demo"
QUIET = (
    "odoo.http",
    "odoo.addons.base.models.ir_http",
    "werkzeug",
    "odoo.sql_db",
    "odoo.addons.terasoft_portal.controllers.access",
)


class TestReliabilityQuick(TerasoftHttpCase):
    @contextmanager
    def _env_scope(self):
        """The test transaction, as the server sees it (the HttpCase server shares it)."""
        self.env.invalidate_all()
        yield self.env
        self.env.flush_all()

    def _client(self, login):
        return PortalClient(self.base_url(), timeout=60).login(login, DEMO_PASSWORD)

    @contextmanager
    def _server(self):
        """Plain requests sessions (several users, threads) reach the test server."""
        self.env.flush_all()
        with self.allow_requests(all_requests=True), mute_logger(*QUIET):
            yield

    def test_isolation_matrix(self):
        with self._server():
            clients = {"a": self._client("giulia.bianchi@example.com")}
            results, notes, rule_count = matrix.run_matrix(clients, self._env_scope)
        failures = [f"{r.name}: {r.detail}" for r in results if not r.ok]
        self.assertGreaterEqual(rule_count, 20, "the routing map lost terasoft_portal's routes")
        rpc = [r for r in results if r.name.startswith("rpc ")]
        # pylint: disable-next=print-used  # the test's summary, read in the test log
        print(
            f"\nisolation: {rule_count} routes, {len(results) - len(rpc)} route probes, {len(rpc)} RPC probes; "
            f"{'; '.join(notes)}"
        )
        self.assertGreaterEqual(len({r.name.split(".")[0] for r in rpc}), 3, "too few models with B-only records")
        self.assertFalse(failures, "isolation failures:\n" + "\n".join(failures))

    def test_hostile_ticket_form_and_comment(self):
        with self._server():
            clients = {"a": self._client("giulia.bianchi@example.com")}
            with self._env_scope() as env:
                targets = hostile.prepare(env, "giulia.bianchi@example.com", "luca.verdi@example.com")
                before = hostile.b_fingerprint(env, targets)
            requests_ = hostile.generate(targets, count=200, kinds=("new_ticket", "comment"), seed=6)
            stats = hostile.execute(clients, requests_, targets, threads=1)
            with self._env_scope() as env:
                stats["failures"] += hostile.db_checks(env, targets, before, stats)
        # pylint: disable-next=print-used  # the test's summary, read in the test log
        print(
            f"\nhostile: {stats['sent']} requests, statuses {dict(stats['statuses'])}, "
            f"{stats['ack_tickets']} tickets and {stats['ack_comments']} comments acknowledged"
        )
        self.assertEqual(stats["sent"], 200)
        self.assertFalse(stats["failures"], "\n".join(stats["failures"][:20]))

    def test_hostile_staff_notes_and_context_keys(self):
        """The support user over RPC: notes mentioning customers, context keys and workflow
        values on write/create/copy (issue 10). All refused, 0 leaks, nothing moved."""
        with self._server():
            client = self._client("supporto@example.com")
            with self._env_scope() as env:
                targets = hostile.prepare(env, "giulia.bianchi@example.com", "luca.verdi@example.com")
                before = hostile.staff_fingerprint(env, targets)
            calls = hostile.generate_staff(targets, 60, seed=10)
            stats = hostile.execute_staff(client, calls)
            with self._env_scope() as env:
                stats["failures"] += hostile.staff_db_checks(env, targets, before)
                leaks = hostile.internal_leaks(env)
        # pylint: disable-next=print-used  # the test's summary, read in the test log
        print(
            f"\nstaff over RPC: {stats['sent']} calls {dict(stats['kinds'])}, {stats['refused']} refused, {leaks} leaks"
        )
        self.assertEqual(stats["sent"], 60)
        self.assertEqual(len(stats["kinds"]), 5)
        self.assertEqual(leaks, 0)
        self.assertFalse(stats["failures"], "\n".join(stats["failures"][:20]))

    def test_concurrent_ticket_creation(self):
        """4 sessions x 5 tickets through the form: every acknowledged ticket exists once."""
        logins = [
            "giulia.bianchi@example.com",
            "luca.verdi@example.com",
            "marco.rossi@example.com",
            "franco.neri@example.com",
        ]
        category = str(self.cat_paghe.id)
        acknowledged, errors = [], []

        def worker(client, index):
            for n in range(5):
                marker = f"CONC-{index}-{n}-quick"
                try:
                    response = client.post(
                        "/my/tickets/new", {"name": marker, "category_id": category, "description": "concurrency"}
                    )
                except Exception as exc:
                    errors.append(repr(exc))
                    continue
                if response.status_code == 303:
                    acknowledged.append(marker)
                else:
                    errors.append(f"{marker}: HTTP {response.status_code}")

        with self._server():
            clients = [self._client(login) for login in logins]
            threads = [threading.Thread(target=worker, args=(c, i)) for i, c in enumerate(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=90)
        self.env.invalidate_all()
        self.assertFalse(errors)
        self.assertEqual(len(acknowledged), 20)
        for marker in acknowledged:
            self.assertEqual(self.Ticket.search_count([("name", "=", marker)]), 1, marker)
