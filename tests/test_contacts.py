"""Contacts and company pages: exactly the user's company, read-only; change requests reach staff."""

import re

from odoo.tests import new_test_user

from .common import TerasoftHttpCase


class TestContactsPortal(TerasoftHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ref = cls.env.ref
        cls.marco = ref("terasoft_portal.partner_marco_rossi_demo")  # Alfa
        cls.luca_partner = cls.luca.partner_id  # Beta
        cls.account_manager = new_test_user(
            cls.env, "alfa.manager", groups="base.group_user", name="Alfa Account Manager"
        )
        cls.alfa.user_id = cls.account_manager

    def _csrf(self, html):
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def test_contacts_page_lists_exactly_the_company_contacts(self):
        self.authenticate("giulia.bianchi@example.com", "demo")
        response = self.url_open("/my/contacts")
        self.assertEqual(response.status_code, 200)
        expected = self.env["res.partner"].search(
            [("commercial_partner_id", "=", self.alfa.id), ("id", "!=", self.alfa.id), ("type", "=", "contact")]
        )
        self.assertGreaterEqual(len(expected), 3)
        listed = {int(i) for i in re.findall(r'href="/my/contacts/(\d+)"', response.text)}
        self.assertEqual(listed, set(expected.ids))
        self.assertNotIn(self.luca_partner.name, response.text)

    def test_contact_page_shows_the_manual_blocks(self):
        self.authenticate("giulia.bianchi@example.com", "demo")
        response = self.url_open(f"/my/contacts/{self.marco.id}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.text.count("o_terasoft_partner_block"), 4)  # the manual's 4 blocks
        for text in ("Marco", "Amministrazione", self.marco.mobile):
            self.assertIn(text, response.text)
        self.assertNotIn('name="first_name"', response.text)  # read-only: no input for the data

    def test_other_company_contact_or_company_is_404(self):
        self.authenticate("giulia.bianchi@example.com", "demo")
        for partner in (self.luca_partner, self.beta, self.alfa):  # the company itself is /my/company
            self.assertEqual(self.url_open(f"/my/contacts/{partner.id}").status_code, 404, partner.name)

    def test_company_page_shows_the_user_company(self):
        self.authenticate("luca.verdi@example.com", "demo")
        response = self.url_open("/my/company")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.beta.name, response.text)
        self.assertIn(self.beta.vat, response.text)
        self.assertNotIn(self.alfa.name, response.text)
        self.assertEqual(response.text.count("o_terasoft_partner_block"), 3)  # the manual's 3 blocks

    def test_change_request_creates_activity_for_assigned_staff(self):
        self.authenticate("giulia.bianchi@example.com", "demo")
        page = self.url_open("/my/company")
        response = self.url_open(
            "/my/change_request",
            data={
                "partner_id": self.alfa.id,
                "message": "Nuovo telefono: 02 999 <b>888</b>",
                "csrf_token": self._csrf(page.text),
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("change_requested=1", response.url)
        activity = self.env["mail.activity"].search([("res_model", "=", "res.partner"), ("res_id", "=", self.alfa.id)])
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.account_manager)
        self.assertIn("Nuovo telefono", activity.note)
        self.assertNotIn("<b>", activity.note)  # the customer's text is escaped
        note = self.alfa.message_ids[:1]
        self.assertEqual(note.author_id, self.giulia.partner_id)

    def test_change_request_for_contact_without_salesperson_goes_to_default_user(self):
        self.alfa.user_id = False
        self.env["ir.config_parameter"].set_param("terasoft_portal.change_request_user_id", str(self.support.id))
        self.authenticate("giulia.bianchi@example.com", "demo")
        page = self.url_open(f"/my/contacts/{self.marco.id}")
        self.url_open(
            "/my/change_request",
            data={
                "partner_id": self.marco.id,
                "message": "Marco ha cambiato ufficio",
                "csrf_token": self._csrf(page.text),
            },
        )
        activity = self.env["mail.activity"].search([("res_model", "=", "res.partner"), ("res_id", "=", self.marco.id)])
        self.assertEqual(activity.user_id, self.support)

    def test_change_request_for_other_company_is_404(self):
        self.authenticate("giulia.bianchi@example.com", "demo")
        page = self.url_open("/my/company")
        for partner in (self.beta, self.luca_partner):
            response = self.url_open(
                "/my/change_request",
                data={"partner_id": partner.id, "message": "x", "csrf_token": self._csrf(page.text)},
            )
            self.assertEqual(response.status_code, 404)
        self.assertFalse(
            self.env["mail.activity"].search(
                [("res_model", "=", "res.partner"), ("res_id", "in", [self.beta.id, self.luca_partner.id])]
            )
        )

    def test_public_user_is_sent_to_login(self):
        for url in ("/my/contacts", f"/my/contacts/{self.marco.id}", "/my/company"):
            # followed: with English active, a public visitor may first get the /en/ prefix
            response = self.url_open(url)
            self.assertIn("/web/login", response.url, url)


class TestPartnerPagesFields(TerasoftHttpCase):
    """Every field of the manual's blocks, with the manual's Italian labels."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.marco = cls.env.ref("terasoft_portal.partner_marco_rossi_demo")
        cls.owner = new_test_user(cls.env, "alfa.owner", groups="base.group_user", name="Ottavio Proprietari")
        cls.marco.write(
            {
                "phone": "02 555 0101",
                "other_street": "Via Altra 7",
                "other_po_box": "CP 12",
                "other_city": "Bergamo",
                "other_zip": "24121",
                "po_box": "CP 99",
                "other_country_id": cls.env.ref("base.it").id,
                "customer_type": False,
            }
        )
        cls.alfa.write(
            {
                "owner_id": cls.owner.id,
                "block_auto_emails": True,
                "source": "Fiera SMAU",
                "referred_by_id": cls.beta.id,
                "cancellation_reason": "Cambio fornitore",
                "cancellation_total": True,
                "interest": "Modulo Presenze",
                "customer_type": "customer",
                "website": "https://alfa.example.com",
            }
        )
        cls.alfa_delivery = cls.env["res.partner"].create(
            {
                "name": "Magazzino Alfa",
                "type": "delivery",
                "parent_id": cls.alfa.id,
                "street": "Via del Magazzino 3",
                "city": "Monza",
                "zip": "20900",
            }
        )

    def _labels_and_values(self, html):
        return dict(re.findall(r"<dt[^>]*>([^<]*)</dt>\s*<dd[^>]*>([^<]*)</dd>", html))

    def test_contact_page_has_every_field_of_the_manual(self):
        self.authenticate("giulia.bianchi@example.com", "demo")
        self.env["res.users"].browse(self.giulia.id).lang = "it_IT"
        html = self.url_open(f"/my/contacts/{self.marco.id}").text
        fields = self._labels_and_values(html)
        expected = {
            "ID Contatto": self.marco.ref,
            "Nome Azienda": self.alfa.name,
            "Telefono Ufficio": "02 555 0101",
            "Tipo contatto": "Cliente",
            "Altra Via": "Via Altra 7",
            "Altra Box": "CP 12",
            "Altra Città": "Bergamo",
            "Altro CAP": "24121",
            "Altro Stato": self.env.ref("base.it").with_context(lang="it_IT").name,
            "Box (Spedizione)": "CP 99",
        }
        for label, value in expected.items():
            self.assertEqual(fields.get(label), value, label)
        for label in (
            "Nome",
            "Cognome",
            "Email",
            "Ufficio/Reparto",
            "Ruolo/Mansione",
            "Rapporto con azienda",
            "Assistente",
            "Altro telefono",
            "Cellulare",
            "Fax",
            "Assegnato a",
            "Mailing list",
            "Utente del Portale Clienti",
            "Data Inizio Supporto",
            "Data Fine Supporto",
            "Via (Spedizione)",
            "Città (Spedizione)",
            "Provincia (Spedizione)",
            "CAP (Spedizione)",
            "Stato (Spedizione)",
            "Altra Provincia",
        ):
            self.assertIn(label, fields)
        self.assertTrue(self.marco.ref.startswith("CON"))

    def test_company_page_has_every_field_of_the_manual(self):
        self.authenticate("giulia.bianchi@example.com", "demo")
        self.env["res.users"].browse(self.giulia.id).lang = "it_IT"
        html = self.url_open("/my/company").text
        fields = self._labels_and_values(html)
        expected = {
            "Nome Azienda": self.alfa.name,
            "Nr Azienda": self.alfa.ref,
            "Partita IVA": self.alfa.vat,
            "Sito web": "https://alfa.example.com",
            "Proprietario": "Ottavio Proprietari",
            "Blocca email automatiche": "Sì",
            "Fonte": "Fiera SMAU",
            "Segnalato da": self.beta.name,
            "Motivazione disdetta": "Cambio fornitore",
            "Disdetta totale": "Sì",
            "Interesse": "Modulo Presenze",
            "Tipo": "Cliente",
        }
        for label, value in expected.items():
            self.assertEqual(fields.get(label), value, label)
        for label in (
            "Telefono",
            "Settore",
            "Creato il",
            "Modificato il",
            "Codice Borsa",
            "Codice Fiscale",
            "CPZ",
            "Mercato",
            "Project manager",
            "Autorizzazione privacy",
            "Num. aziende gestite",
            "Dipendenti",
            "Cedolini",
            "CCNL",
            "Agente",
            "Indirizzo di fatturazione",
            "Indirizzo di spedizione",
        ):
            self.assertIn(label, fields)
        # billing and shipping side by side: two cells of the same block
        self.assertIn("Via del Magazzino 3", html)
        self.assertRegex(
            html,
            r"(?s)Indirizzo di fatturazione</dt>"
            r"\s*<dd[^>]*>%s.*Indirizzo di spedizione</dt>\s*<dd[^>]*>Via del Magazzino" % re.escape(self.alfa.street),
        )
