"""A VTE CRM (vtiger) fixture database for the import's tests and benchmark.

The table definitions below are written by us from vtiger CRM's public schema definition
(``schema/DatabaseSchema.xml`` of vtiger-crm/vtigercrm): the columns the import reads, with
vtiger's names and types, ``{p}`` standing for the table prefix (``vtiger_`` or VTE's ``vte_``).
Custom fields are ``cf_NNN`` columns of the ``*cf`` tables, labelled in ``{p}field``.

``populate(conn, prefix, storage, tickets=220)`` fills it with Italian data: accounts with
custom fields (one insolvent), contacts with support periods and portal access, support users,
tickets in every VTE status with comments by both sides, attachments on disk (under
``storage/``), FAQ, documents, and deleted rows (``deleted=1``).
"""

import datetime
import os
import random

SCHEMA = """
CREATE TABLE {p}crmentity (
  crmid INT(19) NOT NULL PRIMARY KEY, smcreatorid INT(19) NOT NULL DEFAULT 0,
  smownerid INT(19) NOT NULL DEFAULT 0, modifiedby INT(19) NOT NULL DEFAULT 0,
  setype VARCHAR(30) NOT NULL, description TEXT, createdtime DATETIME NOT NULL,
  modifiedtime DATETIME NOT NULL, viewedtime DATETIME, status VARCHAR(50),
  version INT(19) NOT NULL DEFAULT 0, presence INT(1) DEFAULT 1, deleted INT(1) NOT NULL DEFAULT 0,
  KEY crmentity_deleted_idx (deleted), KEY crm_ownerid_del_setype_idx (smownerid, deleted, setype)
) ENGINE=InnoDB;
CREATE TABLE {p}users (
  id INT(11) NOT NULL AUTO_INCREMENT PRIMARY KEY, user_name VARCHAR(255), user_password VARCHAR(200),
  first_name VARCHAR(30), last_name VARCHAR(30), is_admin VARCHAR(3) DEFAULT '0', email1 VARCHAR(100),
  status VARCHAR(25), deleted INT(1) NOT NULL DEFAULT 0
) ENGINE=InnoDB;
CREATE TABLE {p}field (
  tabid INT(19) NOT NULL, fieldid INT(19) NOT NULL AUTO_INCREMENT PRIMARY KEY,
  columnname VARCHAR(30) NOT NULL, tablename VARCHAR(50) NOT NULL, generatedtype INT(19) NOT NULL DEFAULT 0,
  uitype VARCHAR(30) NOT NULL, fieldname VARCHAR(50) NOT NULL, fieldlabel VARCHAR(50) NOT NULL,
  readonly INT(1) NOT NULL DEFAULT 1, presence INT(19) NOT NULL DEFAULT 1, typeofdata VARCHAR(100)
) ENGINE=InnoDB;
CREATE TABLE {p}account (
  accountid INT(19) NOT NULL DEFAULT 0 PRIMARY KEY, account_no VARCHAR(100) NOT NULL,
  accountname VARCHAR(100) NOT NULL, parentid INT(19) DEFAULT 0, account_type VARCHAR(200),
  industry VARCHAR(200), annualrevenue INT(19) DEFAULT 0, rating VARCHAR(200), ownership VARCHAR(50),
  siccode VARCHAR(50), tickersymbol VARCHAR(30), phone VARCHAR(30), otherphone VARCHAR(30),
  email1 VARCHAR(100), email2 VARCHAR(100), website VARCHAR(100), fax VARCHAR(30),
  employees INT(10) DEFAULT 0, emailoptout VARCHAR(3) DEFAULT '0', notify_owner VARCHAR(3) DEFAULT '0',
  UNIQUE KEY (account_no)
) ENGINE=InnoDB;
CREATE TABLE {p}accountbillads (
  accountaddressid INT(19) NOT NULL DEFAULT 0 PRIMARY KEY, bill_city VARCHAR(30), bill_code VARCHAR(30),
  bill_country VARCHAR(30), bill_state VARCHAR(30), bill_street VARCHAR(250), bill_pobox VARCHAR(30)
) ENGINE=InnoDB;
CREATE TABLE {p}accountshipads (
  accountaddressid INT(19) NOT NULL DEFAULT 0 PRIMARY KEY, ship_city VARCHAR(30), ship_code VARCHAR(30),
  ship_country VARCHAR(30), ship_state VARCHAR(30), ship_pobox VARCHAR(30), ship_street VARCHAR(250)
) ENGINE=InnoDB;
CREATE TABLE {p}accountscf (
  accountid INT(19) NOT NULL DEFAULT 0 PRIMARY KEY, cf_701 VARCHAR(3) DEFAULT '0', cf_702 VARCHAR(16),
  cf_703 VARCHAR(30), cf_704 INT(10), cf_705 DATE, cf_706 VARCHAR(100), cf_707 VARCHAR(255),
  cf_708 INT(10), cf_709 INT(10), cf_710 VARCHAR(3) DEFAULT '0'
) ENGINE=InnoDB;
CREATE TABLE {p}contactdetails (
  contactid INT(19) NOT NULL DEFAULT 0 PRIMARY KEY, contact_no VARCHAR(100) NOT NULL, accountid INT(19),
  salutation VARCHAR(200), firstname VARCHAR(40), lastname VARCHAR(80) NOT NULL, email VARCHAR(100),
  phone VARCHAR(50), mobile VARCHAR(50), title VARCHAR(50), department VARCHAR(30), fax VARCHAR(50),
  reportsto VARCHAR(30), training VARCHAR(50), usertype VARCHAR(50), contacttype VARCHAR(50),
  otheremail VARCHAR(100), secondaryemail VARCHAR(100), donotcall VARCHAR(3), emailoptout VARCHAR(3) DEFAULT '0',
  imagename VARCHAR(150), reference VARCHAR(3), notify_owner VARCHAR(3) DEFAULT '0',
  UNIQUE KEY (contact_no), KEY contactdetails_accountid_idx (accountid)
) ENGINE=InnoDB;
CREATE TABLE {p}contactaddress (
  contactaddressid INT(19) NOT NULL DEFAULT 0 PRIMARY KEY, mailingcity VARCHAR(40), mailingstreet VARCHAR(250),
  mailingcountry VARCHAR(40), othercountry VARCHAR(30), mailingstate VARCHAR(30), mailingpobox VARCHAR(30),
  othercity VARCHAR(40), otherstate VARCHAR(50), mailingzip VARCHAR(30), otherzip VARCHAR(30),
  otherstreet VARCHAR(250), otherpobox VARCHAR(30)
) ENGINE=InnoDB;
CREATE TABLE {p}contactsubdetails (
  contactsubscriptionid INT(19) NOT NULL DEFAULT 0 PRIMARY KEY, homephone VARCHAR(50), otherphone VARCHAR(50),
  assistant VARCHAR(30), assistantphone VARCHAR(50), birthday DATE, leadsource VARCHAR(200)
) ENGINE=InnoDB;
CREATE TABLE {p}contactscf (
  contactid INT(19) NOT NULL DEFAULT 0 PRIMARY KEY, cf_801 VARCHAR(3) DEFAULT '0', cf_802 VARCHAR(255)
) ENGINE=InnoDB;
CREATE TABLE {p}customerdetails (
  customerid INT(19) NOT NULL PRIMARY KEY, portal VARCHAR(3), support_start_date DATE, support_end_date DATE
) ENGINE=InnoDB;
CREATE TABLE {p}portalinfo (
  id INT(11) NOT NULL PRIMARY KEY, user_name VARCHAR(50), user_password VARCHAR(30), type VARCHAR(5),
  last_login_time DATETIME, login_time DATETIME, logout_time DATETIME, isactive INT(1)
) ENGINE=InnoDB;
CREATE TABLE {p}products (
  productid INT(11) NOT NULL PRIMARY KEY, product_no VARCHAR(100) NOT NULL, productname VARCHAR(50) NOT NULL,
  productcode VARCHAR(40), productcategory VARCHAR(200), discontinued INT(1) NOT NULL DEFAULT 0
) ENGINE=InnoDB;
CREATE TABLE {p}troubletickets (
  ticketid INT(19) NOT NULL PRIMARY KEY, ticket_no VARCHAR(100) NOT NULL, groupname VARCHAR(100),
  parent_id VARCHAR(100), product_id VARCHAR(100), priority VARCHAR(200), severity VARCHAR(200),
  status VARCHAR(200), category VARCHAR(200), title VARCHAR(255) NOT NULL, solution TEXT, update_log TEXT,
  version_id INT(11), hours VARCHAR(200), days VARCHAR(200), from_portal VARCHAR(3), contact_id INT(19),
  KEY (parent_id), KEY (contact_id)
) ENGINE=InnoDB;
CREATE TABLE {p}ticketcf (
  ticketid INT(19) NOT NULL DEFAULT 0 PRIMARY KEY, cf_901 VARCHAR(255), cf_902 VARCHAR(255), cf_903 VARCHAR(100)
) ENGINE=InnoDB;
CREATE TABLE {p}ticketcomments (
  commentid INT(19) NOT NULL AUTO_INCREMENT PRIMARY KEY, ticketid INT(19), comments TEXT,
  ownerid INT(19) NOT NULL DEFAULT 0, ownertype VARCHAR(10), createdtime DATETIME NOT NULL, KEY (ticketid)
) ENGINE=InnoDB;
CREATE TABLE {p}faq (
  id INT(11) NOT NULL PRIMARY KEY, faq_no VARCHAR(100) NOT NULL, product_id VARCHAR(100), question TEXT NOT NULL,
  answer TEXT, category VARCHAR(200) NOT NULL, status VARCHAR(200) NOT NULL
) ENGINE=InnoDB;
CREATE TABLE {p}faqcategories (
  faqcategories_id INT(19) NOT NULL AUTO_INCREMENT PRIMARY KEY, faqcategories VARCHAR(200),
  presence INT(1) NOT NULL DEFAULT 1, picklist_valueid INT(19) NOT NULL DEFAULT 0
) ENGINE=InnoDB;
CREATE TABLE {p}faqstatus (
  faqstatus_id INT(19) NOT NULL AUTO_INCREMENT PRIMARY KEY, faqstatus VARCHAR(200),
  presence INT(1) NOT NULL DEFAULT 1, picklist_valueid INT(19) NOT NULL DEFAULT 0
) ENGINE=InnoDB;
CREATE TABLE {p}notes (
  notesid INT(19) NOT NULL DEFAULT 0 PRIMARY KEY, note_no VARCHAR(100) NOT NULL, title VARCHAR(50) NOT NULL,
  filename VARCHAR(200), notecontent TEXT, folderid INT(19) NOT NULL DEFAULT 1, filetype VARCHAR(50),
  filelocationtype VARCHAR(5), filedownloadcount INT(19), filestatus INT(19), filesize INT(19) NOT NULL DEFAULT 0,
  fileversion VARCHAR(50)
) ENGINE=InnoDB;
CREATE TABLE {p}senotesrel (
  crmid INT(19) NOT NULL DEFAULT 0, notesid INT(19) NOT NULL DEFAULT 0, PRIMARY KEY (crmid, notesid)
) ENGINE=InnoDB;
CREATE TABLE {p}attachments (
  attachmentsid INT(19) NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, description TEXT,
  type VARCHAR(100), path TEXT, subject VARCHAR(255)
) ENGINE=InnoDB;
CREATE TABLE {p}seattachmentsrel (
  crmid INT(19) NOT NULL DEFAULT 0, attachmentsid INT(19) NOT NULL DEFAULT 0, PRIMARY KEY (crmid, attachmentsid)
) ENGINE=InnoDB;
CREATE TABLE {p}ticketstatus (
  ticketstatus_id INT(19) NOT NULL AUTO_INCREMENT PRIMARY KEY, ticketstatus VARCHAR(200),
  presence INT(1) NOT NULL DEFAULT 0, picklist_valueid INT(19) NOT NULL DEFAULT 0
) ENGINE=InnoDB;
CREATE TABLE {p}ticketpriorities (
  ticketpriorities_id INT(19) NOT NULL AUTO_INCREMENT PRIMARY KEY, ticketpriorities VARCHAR(200),
  presence INT(1) NOT NULL DEFAULT 0, picklist_valueid INT(19) NOT NULL DEFAULT 0
) ENGINE=InnoDB;
CREATE TABLE {p}ticketseverities (
  ticketseverities_id INT(19) NOT NULL AUTO_INCREMENT PRIMARY KEY, ticketseverities VARCHAR(200),
  presence INT(1) NOT NULL DEFAULT 0, picklist_valueid INT(19) NOT NULL DEFAULT 0
) ENGINE=InnoDB;
CREATE TABLE {p}ticketcategories (
  ticketcategories_id INT(19) NOT NULL AUTO_INCREMENT PRIMARY KEY, ticketcategories VARCHAR(200),
  presence INT(1) NOT NULL DEFAULT 0, picklist_valueid INT(19) NOT NULL DEFAULT 0
) ENGINE=InnoDB;
"""

# tabid of vtiger's modules: Accounts 6, Contacts 4, HelpDesk 13
CUSTOM_FIELDS = [
    (6, "cf_701", "accountscf", "56", "Stato Insolvenza"),
    (6, "cf_702", "accountscf", "1", "Codice Fiscale"),
    (6, "cf_703", "accountscf", "1", "Partita IVA"),
    (6, "cf_704", "accountscf", "7", "Num minimo presidi anno"),
    (6, "cf_705", "accountscf", "5", "Data Ultimo Presidio"),
    (6, "cf_706", "accountscf", "15", "Mercato"),
    (6, "cf_707", "accountscf", "1", "CCNL"),
    (6, "cf_708", "accountscf", "7", "Dipendenti"),
    (6, "cf_709", "accountscf", "7", "Cedolini"),
    (6, "cf_710", "accountscf", "56", "SDI attivata"),
    (4, "cf_801", "contactscf", "56", "Mailing List"),
    (4, "cf_802", "contactscf", "15", "Tipo Contatto"),
    (13, "cf_901", "ticketcf", "15", "Modalità di assistenza"),
    (13, "cf_902", "ticketcf", "15", "Tipo Ticket"),
    (13, "cf_903", "ticketcf", "1", "Versione"),
]
STATUSES = [
    "Aperto",
    "Attesa SUPPORTO",
    "Attesa CLIENTE",
    "In corso",
    "Pianificato",
    "Attesa PROGRAMMAZIONE",
    "Risolto",
    "Chiuso",
    "Bloccato",
    "NON CONSIDERARE",
]
PRIORITIES = ["Non urgente", "Media", "Urgente"]
SEVERITIES = ["Non Bloccante", "Bloccante"]
CATEGORIES = ["Paghe", "Presenze Project", "Contabilità", "HR Portal"]
TYPES = ["Chiarimento", "Anomalia", "Richiesta"]
CHANNELS = ["Mail", "Telefono", "Portale"]
COMPANIES = [
    "Alfa Elaborazioni S.r.l.",
    "Studio Bianchi & Associati",
    "Gamma Paghe S.p.A.",
    "Delta Servizi Srl",
    "Epsilon Consulting S.r.l.",
    "Zeta Cooperativa Sociale",
    "Eta Costruzioni S.p.A.",
    "Theta Studio Srl",
]
CITIES = [
    ("ROMA", "RM", "00128"),
    ("MILANO", "MI", "20121"),
    ("TORINO", "TO", "10121"),
    ("NAPOLI", "NA", "80133"),
    ("BOLOGNA", "BO", "40121"),
    ("FIRENZE", "FI", "50122"),
]
FIRST = ["Giulia", "Marco", "Sara", "Luca", "Francesca", "Alessandro", "Chiara", "Davide", "Elena", "Paolo"]
LAST = ["Rossi", "Bianchi", "Esposito", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo"]
TITLES = [
    "Creazione giustificativo maternità facoltativa",
    "Errore calcolo TFR",
    "Cedolino con netto negativo",
    "Stampa F24 non allineata",
    "Import timbrature fallito",
    "Nuovo CCNL commercio",
    "Accesso HR Portal negato",
    "Registrazione fattura elettronica",
    "Chiusura bilancio: quadratura IVA",
    "Export presenze per paghe",
]
USER_COMMENTS = [
    "Buongiorno, abbiamo preso in carico la richiesta.",
    "Può inviarci uno screenshot dell'errore?",
    "Abbiamo rilasciato la correzione nella versione 19.03.04.",
    "Verificato: il problema è risolto.",
]
CUSTOMER_COMMENTS = [
    "Ecco lo screenshot richiesto.",
    "Grazie, ora funziona.",
    "Il problema si ripresenta dopo l'aggiornamento.",
    "Potete richiamarmi in mattinata?",
]

BASE_DATE = datetime.datetime(2023, 1, 9, 9, 0, 0)


def create_schema(conn, prefix="vtiger_"):
    with conn.cursor() as cr:
        for statement in SCHEMA.format(p=prefix).split(";"):
            if statement.strip():
                cr.execute(statement)
        cr.executemany(
            f"INSERT INTO {prefix}field (tabid, columnname, tablename, uitype, fieldname, fieldlabel, typeofdata) "
            "VALUES (%s, %s, %s, %s, %s, %s, 'V~O')",
            [(tab, col, prefix + table, uitype, col, label) for tab, col, table, uitype, label in CUSTOM_FIELDS],
        )
        for table, values in (
            ("ticketstatus", STATUSES),
            ("ticketpriorities", PRIORITIES),
            ("ticketseverities", SEVERITIES),
            ("ticketcategories", CATEGORIES),
            ("faqcategories", ["Paghe", "Presenze", "Generale"]),
            ("faqstatus", ["Draft", "Reviewed", "Published", "Obsolete"]),
        ):
            cr.executemany(f"INSERT INTO {prefix}{table} ({table}) VALUES (%s)", [(v,) for v in values])


class Fixture:
    """Inserts rows; keeps the ids it gave, for the tests to compare with."""

    def __init__(self, conn, prefix="vtiger_", storage=None, seed=1):
        self.conn, self.p, self.storage = conn, prefix, storage
        self.rnd = random.Random(seed)
        self.next_crmid = 1000
        self.next_attachment = 500000
        self.entities = []  # pending crmentity rows
        self.rows = {}  # table -> list of row tuples (bulk insert)
        self.accounts, self.contacts, self.tickets, self.users = [], [], [], []
        self.broken = {}
        self.counters = {"ACC": 1800, "CON": 2600, "TT": 19500, "DOC": 100, "FAQ": 10, "PRO": 1}

    def _id(self):
        self.next_crmid += 1
        return self.next_crmid

    def _number(self, prefix):
        self.counters[prefix] += 1
        return f"{prefix}{self.counters[prefix]}"

    def _entity(self, setype, created, owner=1, deleted=0, description=None, modified=None):
        crmid = self._id()
        self.entities.append((crmid, owner, owner, owner, setype, description, created, modified or created, deleted))
        return crmid

    def _add(self, table, columns, row):
        self.rows.setdefault((table, columns), []).append(row)

    def flush(self):
        with self.conn.cursor() as cr:
            if self.entities:
                cr.executemany(
                    f"INSERT INTO {self.p}crmentity (crmid, smcreatorid, smownerid, modifiedby, setype, description, "
                    "createdtime, modifiedtime, deleted) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    self.entities,
                )
            for (table, columns), rows in self.rows.items():
                marks = ", ".join(["%s"] * len(columns.split(",")))
                cr.executemany(f"INSERT INTO {self.p}{table} ({columns}) VALUES ({marks})", rows)
        self.entities, self.rows = [], {}

    # ------------------------------------------------------------------ kinds
    def user(self, user_name, first, last, email):
        with self.conn.cursor() as cr:
            cr.execute(
                f"INSERT INTO {self.p}users (user_name, user_password, first_name, last_name, email1, status) "
                "VALUES (%s, '$1$secret', %s, %s, %s, 'Active')",
                (user_name, first, last, email),
            )
            self.users.append(cr.lastrowid)
            return cr.lastrowid

    def product(self, name):
        crmid = self._entity("Products", BASE_DATE)
        self._add("products", "productid, product_no, productname", (crmid, self._number("PRO"), name))
        return crmid

    def account(self, name, insolvent=False, deleted=0, created=BASE_DATE):
        crmid = self._entity("Accounts", created, deleted=deleted, description="Cliente storico")
        city, state, zipcode = self.rnd.choice(CITIES)
        vat = f"{self.rnd.randrange(10**10, 10**11):011d}"
        self._add(
            "account",
            "accountid, account_no, accountname, account_type, tickersymbol, phone, otherphone, "
            "email1, email2, website, fax, employees",
            (
                crmid,
                self._number("ACC"),
                name,
                "Customer",
                str(self.rnd.randrange(100000, 999999)),
                "06 5404386",
                "06 5404387",
                f"info@{crmid}.example.it",
                f"pec@{crmid}.example.it",
                f"https://www.{crmid}.example.it",
                "06 5073210",
                self.rnd.randrange(5, 200),
            ),
        )
        self._add(
            "accountbillads",
            "accountaddressid, bill_city, bill_code, bill_country, bill_state, bill_street",
            (crmid, city, zipcode, "Italia", state, f"VIA CARMELO MAESTRINI, {crmid % 300}"),
        )
        self._add(
            "accountshipads",
            "accountaddressid, ship_city, ship_code, ship_country, ship_state, ship_street",
            (crmid, city, zipcode, "Italia", state, f"VIA ROMA, {crmid % 50}"),
        )
        self._add(
            "accountscf",
            "accountid, cf_701, cf_702, cf_703, cf_704, cf_705, cf_706, cf_707, cf_708, cf_709, cf_710",
            (
                crmid,
                "1" if insolvent else "0",
                vat,
                vat,
                self.rnd.randrange(0, 6),
                datetime.date(2024, 5, 17),
                "Azienda",
                "Commercio; Metalmeccanico",
                self.rnd.randrange(5, 200),
                self.rnd.randrange(0, 900),
                self.rnd.choice(["0", "1"]),
            ),
        )
        if not deleted:
            self.accounts.append(crmid)
        return crmid

    def contact(self, account_id, first, last, email, portal=True, active=True, deleted=0, created=BASE_DATE):
        crmid = self._entity("Contacts", created, deleted=deleted)
        city, state, zipcode = self.rnd.choice(CITIES)
        self._add(
            "contactdetails",
            "contactid, contact_no, accountid, salutation, firstname, lastname, email, "
            "phone, mobile, title, department, fax, otheremail",
            (
                crmid,
                self._number("CON"),
                account_id,
                "Sig.",
                first,
                last,
                email,
                "06 1234567",
                "333 1234567",
                "Responsabile paghe",
                "Amministrazione",
                "06 7654321",
                f"alt.{crmid}@example.it",
            ),
        )
        self._add(
            "contactaddress",
            "contactaddressid, mailingcity, mailingstreet, mailingcountry, mailingstate, mailingzip",
            (crmid, city, "VIA NAZIONALE, 12", "Italia", state, zipcode),
        )
        self._add("contactsubdetails", "contactsubscriptionid, otherphone, assistant", (crmid, "06 999999", "Anna"))
        self._add("contactscf", "contactid, cf_801, cf_802", (crmid, "1", "Cliente"))
        self._add(
            "customerdetails",
            "customerid, portal, support_start_date, support_end_date",
            (crmid, "1" if portal else "0", datetime.date(2023, 1, 1), datetime.date(2030, 12, 31)),
        )
        if portal:
            self._add(
                "portalinfo",
                "id, user_name, user_password, type, isactive",
                (crmid, email, "vte-secret", "C", 1 if active else 0),
            )
        if not deleted:
            self.contacts.append((crmid, account_id))
        return crmid

    def ticket(
        self,
        contact_id,
        account_id,
        status,
        created,
        owner=1,
        product_id=None,
        deleted=0,
        comments=2,
        attachment=False,
        title=None,
        category=None,
    ):
        modified = created + datetime.timedelta(hours=self.rnd.randrange(1, 400))
        crmid = self._entity(
            "HelpDesk",
            created,
            owner=owner,
            deleted=deleted,
            modified=modified,
            description=f"Buongiorno,\nho bisogno di assistenza (ticket {self.next_crmid}).",
        )
        number = self._number("TT")
        self._add(
            "troubletickets",
            "ticketid, ticket_no, parent_id, product_id, priority, severity, status, "
            "category, title, solution, from_portal, contact_id",
            (
                crmid,
                number,
                str(account_id),
                str(product_id or ""),
                self.rnd.choice(PRIORITIES),
                self.rnd.choice(SEVERITIES),
                status,
                category or self.rnd.choice(CATEGORIES),
                title or self.rnd.choice(TITLES),
                "Impostare il parametro dal menu Tabelle." if status in ("Risolto", "Chiuso") else None,
                "1",
                contact_id,
            ),
        )
        self._add(
            "ticketcf",
            "ticketid, cf_901, cf_902, cf_903",
            (crmid, self.rnd.choice(CHANNELS), self.rnd.choice(TYPES), "06.07.00"),
        )
        for n in range(comments):
            when = created + datetime.timedelta(minutes=30 * (n + 1))
            if n % 2:
                self._add(
                    "ticketcomments",
                    "ticketid, comments, ownerid, ownertype, createdtime",
                    (crmid, self.rnd.choice(CUSTOMER_COMMENTS), contact_id, "customer", when),
                )
            else:
                self._add(
                    "ticketcomments",
                    "ticketid, comments, ownerid, ownertype, createdtime",
                    (crmid, self.rnd.choice(USER_COMMENTS), owner, "user", when),
                )
        if attachment:
            self.attachment(crmid, f"screenshot_{crmid}.txt", f"Log errore ticket {number}\n".encode(), created)
        if not deleted:
            self.tickets.append(crmid)
        return crmid

    def attachment(self, crmid, name, content, created, write_file=True, setype="HelpDesk Attachment"):
        attachment_id = self._entity(setype, created)
        folder = f"storage/{created.year}/{created.strftime('%B')}/week{min(created.day // 7 + 1, 4)}/"
        self._add("attachments", "attachmentsid, name, type, path", (attachment_id, name, "text/plain", folder))
        self._add("seattachmentsrel", "crmid, attachmentsid", (crmid, attachment_id))
        if write_file and self.storage:
            target = os.path.join(os.path.dirname(self.storage.rstrip("/")), folder)
            os.makedirs(target, exist_ok=True)
            with open(os.path.join(target, f"{attachment_id}_{name}"), "wb") as f:
                f.write(content)
        return attachment_id

    def faq(self, question, answer, category, status="Published", product_id=None, deleted=0):
        crmid = self._entity("Faq", BASE_DATE, deleted=deleted)
        self._add(
            "faq",
            "id, faq_no, product_id, question, answer, category, status",
            (crmid, self._number("FAQ"), str(product_id or ""), question, answer, category, status),
        )
        return crmid

    def document(self, title, filename, content, account_ids=(), published=True, deleted=0):
        crmid = self._entity("Documents", BASE_DATE, deleted=deleted)
        self._add(
            "notes",
            "notesid, note_no, title, filename, notecontent, filetype, filelocationtype, filestatus, filesize",
            (
                crmid,
                self._number("DOC"),
                title,
                filename,
                "Manuale utente",
                "text/plain",
                "I",
                1 if published else 0,
                len(content),
            ),
        )
        for account_id in account_ids:
            self._add("senotesrel", "crmid, notesid", (account_id, crmid))
        self.attachment(crmid, filename, content, BASE_DATE, setype="Documents Attachment")
        return crmid


def populate(
    conn,
    prefix="vtiger_",
    storage=None,
    tickets=220,
    comments_per_ticket=None,
    attachment_every=3,
    seed=1,
    batch=2000,
    broken=False,
):
    """Fill the fixture; returns the Fixture (its lists hold the live ids)."""
    fx = Fixture(conn, prefix, storage, seed)
    admin = fx.user("admin", "Admin", "VTE", "admin@terasoft.example.it")
    support = fx.user("supportohd", "Supporto", "HD", "supporto@example.com")
    fx.user("mario.tecnico", "Mario", "Tecnico", "mario.tecnico@terasoft.example.it")
    owners = [admin, support]
    products = [fx.product(name) for name in ("HR Portal", "Paghe Web", "Contabilità Plus")]
    accounts = [fx.account(name, insolvent=(i == 2)) for i, name in enumerate(COMPANIES)]
    fx.account("Cliente Cancellato S.r.l.", deleted=1)
    contacts = []
    for i, account in enumerate(accounts):
        for j in range(3):
            first, last = FIRST[(i + j) % len(FIRST)], LAST[(i * 3 + j) % len(LAST)]
            email = f"{first.lower()}.{last.lower()}.{i}{j}@cliente{i}.example.it"
            contacts.append(fx.contact(account, first, last, email, portal=(j < 2), active=(j == 0)))
    fx.contact(accounts[0], "Ex", "Dipendente", "ex.dipendente@cliente0.example.it", deleted=1)
    fx.flush()
    for n in range(tickets):
        contact, account = fx.contacts[n % len(fx.contacts)]
        created = BASE_DATE + datetime.timedelta(hours=7 * n)
        status = STATUSES[n % len(STATUSES)]
        ncomments = comments_per_ticket if comments_per_ticket is not None else 1 + n % 4
        fx.ticket(
            contact,
            account,
            status,
            created,
            owner=owners[n % 2],
            product_id=products[n % 3],
            comments=ncomments,
            attachment=attachment_every and n % attachment_every == 0,
        )
        if (n + 1) % batch == 0:
            fx.flush()
    fx.ticket(contacts[0], accounts[0], "Aperto", BASE_DATE, deleted=1, comments=1)
    if broken:  # rows the import must report and skip, without stopping the others
        fx.broken = {
            "contact": fx.contact(accounts[1], "Mario", "Errato", "mario.errato@@example", portal=False),
            "ticket": fx.ticket(contacts[0], accounts[0], "Sconosciuto", BASE_DATE, comments=1),
            "attachment": fx.attachment(fx.tickets[0], "perso.txt", b"", BASE_DATE, write_file=False),
        }
        fx.contacts.pop()
        fx.tickets.pop()
    fx.faq("Come si crea un giustificativo orario?", "Dal menu Tabelle > Giustificativi.", "Presenze")
    fx.faq("Come si stampa il modello F24?", "Dal menu Stampe > F24.", "Paghe", product_id=products[1])
    fx.faq("Bozza non pubblicata", "Da completare", "Generale", status="Draft")
    fx.faq("FAQ cancellata", "Vecchia", "Generale", deleted=1)
    fx.document("Manuale HR Portal", "manuale_hr_portal.txt", b"Manuale HR Portal 06.07", account_ids=())
    fx.document("Listino riservato", "listino.txt", b"Listino 2024", account_ids=(accounts[0],))
    fx.flush()
    return fx
