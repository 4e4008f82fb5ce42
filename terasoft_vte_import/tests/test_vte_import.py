"""Import of a VTE CRM database (terasoft_vte_import): a real MariaDB server, private to the
clone (started here, installed when missing as root), holds a fixture database written from
vtiger's schema with the ``vte_`` table prefix; the import runs once for the class, then each
test checks one behaviour (reconciliation, second run, delta, broken rows, no email, portal).

Without MariaDB these tests fail (setUpClass raises with the reason): never skipped.
"""

import datetime
import os
import shutil
import subprocess
import tempfile
from unittest.mock import patch

import pymysql.cursors
import pytz

from odoo.tests import HttpCase, tagged

from odoo.addons.base.models.ir_cron import IrCron
from odoo.addons.terasoft_vte_import.models.terasoft_vte_import import MODULE, STATE_MAP
from odoo.addons.terasoft_vte_import.tools.mariadb import (
    MariaDBUnavailable,
    PrivateMariaDB,
)

from . import vte_fixture

PREFIX = "vte_"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROME = pytz.timezone("Europe/Rome")


def utc(value):
    return ROME.localize(value).astimezone(pytz.utc).replace(tzinfo=None)


@tagged("post_install", "-at_install")
class TestVteImport(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.server = PrivateMariaDB(ROOT)
            cls.server.start()
        except MariaDBUnavailable as error:
            raise AssertionError(f"The VTE import tests need MariaDB and could not get it: {error}") from None
        cls.vte_db = f"vte_test_{os.getpid()}"
        cls.server.recreate_database(cls.vte_db)
        cls.conn = cls.server.connect(cls.vte_db, cursorclass=pymysql.cursors.DictCursor)
        cls.tmp = tempfile.mkdtemp(prefix="vte_storage_")
        cls.storage = os.path.join(cls.tmp, "storage")
        vte_fixture.create_schema(cls.conn, PREFIX)
        cls.fx = vte_fixture.populate(cls.conn, PREFIX, cls.storage, tickets=220, broken=True)
        cls.mail_before = cls.env["mail.mail"].search_count([])
        cls.notif_before = cls.env["mail.notification"].search_count([])
        cls.report = cls._import()

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()
        try:
            conn = cls.server.connect()
            with conn.cursor() as cr:
                cr.execute(f"DROP DATABASE IF EXISTS `{cls.vte_db}`")
            conn.close()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            super().tearDownClass()

    @classmethod
    def _import(cls, **kwargs):
        return cls.env["terasoft.vte.import"]._run(
            cls.server.source(cls.vte_db), storage=cls.storage, prefix=PREFIX, **kwargs
        )

    def vte(self, sql, params=None):
        with self.conn.cursor() as cr:
            cr.execute(sql.replace("{p}", PREFIX), params)
            return cr.fetchall()

    def record(self, kind, vte_id):
        data = self.env["ir.model.data"].search([("module", "=", MODULE), ("name", "=", f"vte_{kind}_{vte_id}")])
        return self.env[data.model].browse(data.res_id) if data else None

    def imported(self, kind):
        return self.env["ir.model.data"].search([("module", "=", MODULE), ("name", "=like", f"vte\\_{kind}\\_%")])

    # ------------------------------------------------------------------ reconciliation
    def test_counts_match_the_source(self):
        counts = self.report["counts"]
        live = {
            "account": "SELECT COUNT(*) FROM {p}account a JOIN {p}crmentity e ON e.crmid = a.accountid "
            "WHERE e.deleted = 0",
            "contact": "SELECT COUNT(*) FROM {p}contactdetails c JOIN {p}crmentity e ON e.crmid = c.contactid "
            "WHERE e.deleted = 0",
            "ticket": "SELECT COUNT(*) FROM {p}troubletickets t JOIN {p}crmentity e ON e.crmid = t.ticketid "
            "WHERE e.deleted = 0",
            "faq": "SELECT COUNT(*) FROM {p}faq f JOIN {p}crmentity e ON e.crmid = f.id WHERE e.deleted = 0",
            "document": "SELECT COUNT(*) FROM {p}notes n JOIN {p}crmentity e ON e.crmid = n.notesid "
            "WHERE e.deleted = 0",
        }
        broken = {"contact": 1, "ticket": 1}
        for kind, sql in live.items():
            expected = list(self.vte(sql)[0].values())[0] - broken.get(kind, 0)
            self.assertEqual(counts[kind]["created"], expected, kind)
            self.assertEqual(len(self.imported(kind)), expected, kind)
        comments = self.vte(
            "SELECT COUNT(*) AS n FROM {p}ticketcomments c JOIN {p}crmentity e ON e.crmid = c.ticketid "
            "WHERE e.deleted = 0 AND c.ticketid != %s",
            (self.fx.broken["ticket"],),
        )[0]["n"]
        self.assertEqual(counts["comment"]["created"], comments)
        self.assertEqual(len(self.imported("attachment")), counts["attachment"]["created"])
        self.assertGreater(counts["attachment"]["created"], 50)

    def test_tickets_field_by_field(self):
        rows = self.vte(
            """
            SELECT t.*, e.createdtime, e.modifiedtime, e.description, c.contact_no, a.account_no, cf.cf_903
              FROM {p}troubletickets t JOIN {p}crmentity e ON e.crmid = t.ticketid
              JOIN {p}contactdetails c ON c.contactid = t.contact_id
              JOIN {p}account a ON a.accountid = c.accountid
              LEFT JOIN {p}ticketcf cf ON cf.ticketid = t.ticketid
             WHERE e.deleted = 0 AND t.ticketid != %s""",
            (self.fx.broken["ticket"],),
        )
        self.assertGreater(len(rows), 200)
        insolvent = self.vte("SELECT accountid FROM {p}accountscf WHERE cf_701 = '1'")[0]["accountid"]
        seen_states = set()
        for row in rows:
            ticket = self.record("ticket", row["ticketid"])
            state = STATE_MAP[row["status"].lower()]
            self.assertEqual(ticket.number, row["ticket_no"])
            self.assertEqual(ticket.name, row["title"])
            self.assertEqual(ticket.partner_id.ref, row["contact_no"])
            self.assertEqual(ticket.commercial_partner_id.ref, row["account_no"])
            self.assertEqual(ticket.create_date, utc(row["createdtime"]))
            self.assertEqual(ticket.write_date, utc(row["modifiedtime"]))
            self.assertEqual(ticket.category_id.name, row["category"])
            self.assertEqual(ticket.product_version, row["cf_903"])
            self.assertIn(row["description"].splitlines()[0], ticket.description)
            if self.record("account", insolvent) == ticket.commercial_partner_id and state in (
                "new",
                "waiting_support",
                "waiting_customer",
                "in_progress",
                "planned",
                "waiting_development",
                "resolved",
            ):
                self.assertEqual((ticket.state, ticket.state_before_block), ("blocked", state))
            else:
                self.assertEqual(ticket.state, state, row["ticket_no"])
            seen_states.add(ticket.state)
            if row["solution"]:
                self.assertIn(row["solution"], ticket.solution)
        self.assertEqual(
            seen_states,
            {
                "new",
                "waiting_support",
                "waiting_customer",
                "in_progress",
                "planned",
                "waiting_development",
                "resolved",
                "closed",
                "blocked",
                "discarded",
            },
        )

    def test_comments_keep_author_date_and_order(self):
        ticket_id = self.fx.tickets[7]
        ticket = self.record("ticket", ticket_id)
        comments = self.vte("SELECT * FROM {p}ticketcomments WHERE ticketid = %s ORDER BY createdtime", (ticket_id,))
        messages = (
            ticket._portal_messages()
            if hasattr(ticket, "_portal_messages")
            else self.env["mail.message"].search(
                [("model", "=", "terasoft.ticket"), ("res_id", "=", ticket.id), ("message_type", "=", "comment")],
                order="date asc, id asc",
            )
        )
        self.assertEqual([m.date for m in messages], [utc(c["createdtime"]) for c in comments])
        self.assertEqual(
            ticket.date_last_customer_message,
            max(utc(c["createdtime"]) for c in comments if c["ownertype"] == "customer"),
        )
        support_partner = self.env["res.users"].search([("login", "=", "supporto@example.com")]).partner_id
        for comment, message in zip(comments, messages, strict=False):
            self.assertIn(comment["comments"], message.body)
            self.assertFalse(message.subtype_id.internal)
            if comment["ownertype"] == "customer":
                self.assertEqual(message.author_id, self.record("contact", comment["ownerid"]))
            elif comment["ownerid"] == self.fx.users[1]:  # VTE's supportohd = Odoo's supporto@example.com
                self.assertEqual(message.author_id, support_partner)

    def test_attachments_with_original_names_and_content(self):
        rows = self.vte(
            "SELECT r.crmid, a.* FROM {p}seattachmentsrel r JOIN {p}attachments a "
            "ON a.attachmentsid = r.attachmentsid JOIN {p}troubletickets t ON t.ticketid = r.crmid "
            "WHERE a.attachmentsid != %s",
            (self.fx.broken["attachment"],),
        )
        self.assertGreater(len(rows), 50)
        for row in rows[:20]:
            attachment = self.record("attachment", row["attachmentsid"])
            self.assertEqual(attachment.name, row["name"])
            self.assertEqual(
                (attachment.res_model, attachment.res_id), ("terasoft.ticket", self.record("ticket", row["crmid"]).id)
            )
            self.assertIn(b"Log errore ticket", attachment.raw)

    def test_accounts_contacts_and_portal_users(self):
        row = self.vte(
            "SELECT * FROM {p}account a JOIN {p}accountscf cf ON cf.accountid = a.accountid "
            "JOIN {p}accountbillads b ON b.accountaddressid = a.accountid WHERE cf_701 = '1'"
        )[0]
        company = self.record("account", row["accountid"])
        self.assertRecordValues(
            company,
            [
                {
                    "name": row["accountname"],
                    "ref": row["account_no"],
                    "is_company": True,
                    "insolvent": True,
                    "fiscal_code": row["cf_702"],
                    "vat": row["cf_703"],
                    "min_onsite_visits": row["cf_704"],
                    "last_onsite_visit_date": row["cf_705"],
                    "market": row["cf_706"],
                    "employee_count": row["cf_708"],
                    "payslip_count": row["cf_709"],
                    "sdi_enabled": row["cf_710"] == "1",
                    "street": row["bill_street"],
                    "city": row["bill_city"],
                    "zip": row["bill_code"],
                    "phone": row["phone"],
                    "fax": row["fax"],
                    "stock_code": row["tickersymbol"],
                    "email": row["email1"],
                }
            ],
        )
        contacts = self.vte(
            "SELECT c.*, cd.*, pi.isactive FROM {p}contactdetails c "
            "JOIN {p}customerdetails cd ON cd.customerid = c.contactid "
            "LEFT JOIN {p}portalinfo pi ON pi.id = c.contactid WHERE c.accountid = %s",
            (row["accountid"],),
        )
        for contact_row in contacts:
            partner = self.record("contact", contact_row["contactid"])
            self.assertRecordValues(
                partner,
                [
                    {
                        "ref": contact_row["contact_no"],
                        "first_name": contact_row["firstname"],
                        "last_name": contact_row["lastname"],
                        "email": contact_row["email"],
                        "parent_id": company.id,
                        "support_start_date": contact_row["support_start_date"],
                        "support_end_date": contact_row["support_end_date"],
                        "function": contact_row["title"],
                    }
                ],
            )
            user = partner.with_context(active_test=False).user_ids
            if contact_row["portal"] == "1":
                self.assertEqual(len(user), 1)
                self.assertTrue(user._is_portal())
                self.assertEqual(user.active, bool(contact_row["isactive"]))
                self.env.cr.execute("SELECT password FROM res_users WHERE id = %s", (user.id,))
                self.assertFalse(self.env.cr.fetchone()[0], "VTE's password must never be imported")
            else:
                self.assertFalse(user)

    def test_faq_and_documents(self):
        faqs = self.imported("faq")
        self.assertEqual(len(faqs), 3)
        faq = self.env["terasoft.faq"].search([("name", "=", "Come si stampa il modello F24?")])
        self.assertEqual((faq.category_id.name, faq.is_published, faq.product_id.name), ("Paghe", True, "Paghe Web"))
        draft = self.env["terasoft.faq"].search([("name", "=", "Bozza non pubblicata")])
        self.assertFalse(draft.is_published)
        reserved = self.env["terasoft.document"].search([("name", "=", "Listino riservato")])
        self.assertEqual(reserved.visibility, "companies")
        self.assertEqual(reserved.partner_ids, self.record("account", self.fx.accounts[0]))
        self.assertEqual(reserved.file_name, "listino.txt")
        manual = self.env["terasoft.document"].search([("name", "=", "Manuale HR Portal")])
        self.assertEqual(manual.visibility, "all")

    def test_deleted_rows_are_skipped(self):
        deleted = self.vte("SELECT crmid, setype FROM {p}crmentity WHERE deleted = 1")
        kinds = {"HelpDesk": "ticket", "Accounts": "account", "Contacts": "contact", "Faq": "faq"}
        self.assertEqual({row["setype"] for row in deleted}, set(kinds))
        for row in deleted:
            self.assertIsNone(self.record(kinds[row["setype"]], row["crmid"]))
        number = self.vte(
            "SELECT t.ticket_no FROM {p}troubletickets t JOIN {p}crmentity e ON e.crmid = t.ticketid "
            "WHERE e.deleted = 1"
        )[0]["ticket_no"]
        self.assertFalse(self.env["terasoft.ticket"].search([("number", "=", number)]))
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Cliente Cancellato S.r.l.")]))

    def test_sequences_continue_after_the_highest_vte_number(self):
        highest = self.vte("SELECT MAX(CAST(SUBSTRING(ticket_no, 3) AS UNSIGNED)) AS n FROM {p}troubletickets")[0]["n"]
        ticket = self.env["terasoft.ticket"].create(
            {"name": "Nuovo dopo l'import", "category_id": self.env["terasoft.ticket.category"].search([], limit=1).id}
        )
        self.assertGreater(int(ticket.number[2:]), highest)
        highest_acc = self.vte("SELECT MAX(CAST(SUBSTRING(account_no, 4) AS UNSIGNED)) AS n FROM {p}account")[0]["n"]
        # only customers are numbered (terasoft_portal's res.partner): a customer company and its contact
        company = self.env["res.partner"].create(
            {"name": "Nuova Azienda", "is_company": True, "customer_type": "customer"}
        )
        self.assertGreater(int(company.ref[3:]), highest_acc)
        highest_con = self.vte("SELECT MAX(CAST(SUBSTRING(contact_no, 4) AS UNSIGNED)) AS n FROM {p}contactdetails")[0][
            "n"
        ]
        person = self.env["res.partner"].create({"name": "Nuovo Contatto", "parent_id": company.id})
        self.assertGreater(int(person.ref[3:]), highest_con)

    def test_broken_rows_are_reported_and_the_rest_imported(self):
        errors = {(e["kind"], e["vte_id"]): e["reason"] for e in self.report["errors"]}
        self.assertIn("bad email", errors[("contact", self.fx.broken["contact"])])
        self.assertIn("unknown status 'Sconosciuto'", errors[("ticket", self.fx.broken["ticket"])])
        self.assertIn("missing file", errors[("attachment", self.fx.broken["attachment"])])
        self.assertIsNone(self.record("ticket", self.fx.broken["ticket"]))
        self.assertIsNone(self.record("contact", self.fx.broken["contact"]))
        # the ticket whose attachment is missing is imported, with its other attachment
        self.assertTrue(self.record("ticket", self.fx.tickets[0]))

    def test_import_sends_no_email(self):
        self.assertEqual(self.env["mail.mail"].search_count([]), self.mail_before)
        self.assertEqual(self.env["mail.notification"].search_count([]), self.notif_before)
        tickets = self.env["terasoft.ticket"].browse([d.res_id for d in self.imported("ticket")])
        self.assertFalse(
            self.env["mail.message"].search_count(
                [
                    ("model", "=", "terasoft.ticket"),
                    ("res_id", "in", tickets.ids),
                    ("message_type", "in", ("auto_comment", "notification", "email_outgoing")),
                ]
            )
        )
        # nor does the next SLA scan report the breaches of VTE's past
        self.assertTrue(tickets.filtered(lambda t: t.state == "new" and t.sla_status == "breached"))
        # ir.cron._commit_progress commits, which a test cursor refuses: a no-op here
        with patch.object(IrCron, "_commit_progress", lambda self, processed=0, **kw: True):
            self.env["terasoft.ticket"]._cron_sla_scan()
        self.assertFalse(
            self.env["mail.activity"].search_count(
                [("res_model", "=", "terasoft.ticket"), ("res_id", "in", tickets.ids)]
            )
        )
        self.assertEqual(self.env["mail.mail"].search_count([]), self.mail_before)

    # ------------------------------------------------------------------ runs after the first
    def test_second_run_changes_nothing(self):
        tickets = self.env["terasoft.ticket"].browse([d.res_id for d in self.imported("ticket")])
        before = {t.id: (t.write_date, t.state, t.number) for t in tickets}
        messages = self.env["mail.message"].search_count([])
        report = self._import()
        for kind, counts in report["counts"].items():
            self.assertEqual((counts["created"], counts["updated"]), (0, 0), kind)
        self.env.invalidate_all()
        self.assertEqual({t.id: (t.write_date, t.state, t.number) for t in tickets}, before)
        self.assertEqual(self.env["mail.message"].search_count([]), messages)

    def _restore(self, ticket_id, title, status, modified):
        self.vte("UPDATE {p}troubletickets SET title = %s, status = %s WHERE ticketid = %s", (title, status, ticket_id))
        self.vte("UPDATE {p}crmentity SET modifiedtime = %s WHERE crmid = %s", (modified, ticket_id))

    def test_delta_run_picks_up_edits_comments_and_new_tickets(self):
        edited_id = self.fx.tickets[0]  # "Aperto" in VTE
        row = self.vte(
            "SELECT t.title, t.status, e.modifiedtime FROM {p}troubletickets t "
            "JOIN {p}crmentity e ON e.crmid = t.ticketid WHERE t.ticketid = %s",
            (edited_id,),
        )[0]
        self.addCleanup(self._restore, edited_id, row["title"], row["status"], row["modifiedtime"])
        later = datetime.datetime(2026, 3, 2, 10, 0, 0)
        self._restore(edited_id, "Titolo corretto", "Chiuso", later)
        commented_id = self.fx.tickets[1]
        self.vte(
            "INSERT INTO {p}ticketcomments (ticketid, comments, ownerid, ownertype, createdtime) "
            "VALUES (%s, 'Nuovo commento del cliente', %s, 'customer', %s)",
            (commented_id, self.fx.contacts[1][0], later),
        )
        self.addCleanup(self.vte, "DELETE FROM {p}ticketcomments WHERE comments = 'Nuovo commento del cliente'")
        fx = vte_fixture.Fixture(self.conn, PREFIX, self.storage, seed=2)
        fx.next_crmid, fx.counters["TT"] = 900000, 40000
        new_id = fx.ticket(self.fx.contacts[2][0], self.fx.contacts[2][1], "Attesa CLIENTE", later, comments=2)
        fx.flush()
        self.addCleanup(self.vte, "DELETE FROM {p}crmentity WHERE crmid >= 900000")
        self.addCleanup(self.vte, "DELETE FROM {p}troubletickets WHERE ticketid >= 900000")

        report = self._import()
        self.assertEqual(report["counts"]["ticket"]["updated"], 1)
        self.assertEqual(report["counts"]["ticket"]["created"], 1)
        self.assertEqual(report["counts"]["comment"]["created"], 3)  # 1 on the old ticket, 2 on the new one
        edited = self.record("ticket", edited_id)
        self.assertEqual((edited.name, edited.state, edited.write_date), ("Titolo corretto", "closed", utc(later)))
        self.assertEqual(edited.state_log_ids[0].move, "imported")
        commented = self.record("ticket", commented_id)
        self.assertIn("Nuovo commento del cliente", commented.message_ids[0].body)
        new = self.record("ticket", new_id)
        self.assertEqual((new.number, new.state), ("TT40001", "waiting_customer"))
        self.assertEqual(self.env["mail.mail"].search_count([]), self.mail_before)

    def test_dry_run_writes_nothing(self):
        fx = vte_fixture.Fixture(self.conn, PREFIX, self.storage, seed=3)
        fx.next_crmid, fx.counters["TT"] = 910000, 41000
        new_id = fx.ticket(self.fx.contacts[0][0], self.fx.contacts[0][1], "Aperto", vte_fixture.BASE_DATE)
        fx.flush()
        self.addCleanup(self.vte, "DELETE FROM {p}crmentity WHERE crmid >= 910000")
        self.addCleanup(self.vte, "DELETE FROM {p}troubletickets WHERE ticketid >= 910000")
        tickets = self.env["terasoft.ticket"].search_count([])
        report = self._import(dry_run=True)
        self.assertEqual(report["counts"]["ticket"]["created"], 1)
        self.assertIsNone(self.record("ticket", new_id))
        self.assertEqual(self.env["terasoft.ticket"].search_count([]), tickets)

    def test_configuration_maps_unknown_picklist_values(self):
        report = self._import(dry_run=True, config={"state_map": {"Sconosciuto": "waiting_support"}})
        self.assertEqual(report["counts"]["ticket"]["created"], 1)  # the row with the unknown status
        self.assertNotIn(("ticket", self.fx.broken["ticket"]), {(e["kind"], e["vte_id"]) for e in report["errors"]})

    def test_dump_file_loaded_into_the_private_server_and_read_by_url(self):
        dump = os.path.join(self.tmp, "vte.sql")
        with open(dump, "w") as out:
            subprocess.run(
                [
                    shutil.which("mariadb-dump") or shutil.which("mysqldump"),
                    f"--socket={self.server.socket}",
                    "-uroot",
                    self.vte_db,
                ],
                stdout=out,
                check=True,
            )
        copy = f"{self.vte_db}_dump"
        self.server.load_dump(copy, dump)
        self.addCleanup(self.server.connect().cursor().execute, f"DROP DATABASE IF EXISTS `{copy}`")
        url = f"mysql://root@localhost/{copy}?unix_socket={self.server.socket}"
        report = self.env["terasoft.vte.import"]._run(url, storage=self.storage, prefix=PREFIX, dry_run=True)
        # the same rows as the live database: all already imported
        self.assertEqual(report["counts"]["ticket"]["unchanged"], self.report["counts"]["ticket"]["created"])
        self.assertEqual(report["counts"]["ticket"]["created"], 0)

    # ------------------------------------------------------------------ portal
    def test_imported_tickets_visible_in_the_portal_of_their_company(self):
        contact_id, account_id = self.fx.contacts[3]  # first contact of the second company: active portal
        partner = self.record("contact", contact_id)
        user = partner.user_ids
        self.assertTrue(user.active)
        user.password = "vte-import-portal"
        tickets = self.env["terasoft.ticket"].search(
            [("commercial_partner_id", "=", self.record("account", account_id).id)]
        )
        other = self.env["terasoft.ticket"].search(
            [("commercial_partner_id", "=", self.record("account", self.fx.accounts[0]).id)], limit=1
        )
        self.assertTrue(tickets and other)
        self.authenticate(user.login, "vte-import-portal")
        response = self.url_open("/my/tickets?filterby=all")
        self.assertEqual(response.status_code, 200)
        self.assertIn(tickets.sorted("id", reverse=True)[0].number, response.text)
        ticket = tickets.filtered(lambda t: t.message_ids)[:1]
        page = self.url_open(f"/my/tickets/{ticket.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn(ticket.number, page.text)
        self.assertEqual(self.url_open(f"/my/tickets/{other.id}").status_code, 404)
