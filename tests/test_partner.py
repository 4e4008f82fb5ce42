from .common import TerasoftCase


class TestPartnerReferences(TerasoftCase):

    def test_company_and_person_get_sequenced_refs(self):
        company = self.env["res.partner"].create({"name": "Delta S.r.l.", "is_company": True})
        person = self.env["res.partner"].create({"name": "Anna Blu", "parent_id": company.id})
        self.assertRegex(company.ref, r"^ACC\d+$")
        self.assertRegex(person.ref, r"^CON\d+$")
        other = self.env["res.partner"].create({"name": "Epsilon S.r.l.", "is_company": True})
        self.assertEqual(int(other.ref[3:]), int(company.ref[3:]) + 1)

    def test_given_ref_is_kept(self):
        partner = self.env["res.partner"].create({"name": "Zeta", "ref": "OLD-42"})
        self.assertEqual(partner.ref, "OLD-42")

    def test_name_from_first_and_last_name(self):
        partner = self.env["res.partner"].create({"first_name": "Mario", "last_name": "Bruni"})
        self.assertEqual(partner.name, "Mario Bruni")

    def test_insolvency_is_shared_with_contacts_and_tickets(self):
        contact = self.env["res.partner"].create({"name": "Anna", "parent_id": self.beta.id})
        ticket = self._ticket(contact)
        self.beta.insolvent = True
        self.assertTrue(contact.insolvent)
        self.assertTrue(ticket.insolvent)

    def test_mobile_field_exists_in_odoo_19(self):
        partner = self.env["res.partner"].create({"name": "Mob", "mobile": "+39 333 1234567"})
        self.assertEqual(partner.mobile, "+39 333 1234567")
