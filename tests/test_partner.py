from unittest.mock import patch

from .common import TerasoftCase


class TestPartnerReferences(TerasoftCase):
    def test_customer_company_and_its_contacts_get_sequenced_refs(self):
        company = self.env["res.partner"].create(
            {"name": "Delta S.r.l.", "is_company": True, "customer_type": "customer"}
        )
        person = self.env["res.partner"].create({"name": "Anna Blu", "parent_id": company.id})
        self.assertRegex(company.ref, r"^ACC\d+$")
        self.assertRegex(person.ref, r"^CON\d+$")
        other = self.env["res.partner"].create(
            {"name": "Epsilon S.r.l.", "is_company": True, "customer_type": "customer"}
        )
        self.assertEqual(int(other.ref[3:]), int(company.ref[3:]) + 1)

    def test_other_partners_are_not_numbered_and_cost_no_query(self):
        # issue 12: numbering every partner cost 2-3 queries on every contact any module created
        Partner = self.env["res.partner"]
        supplier = Partner.create({"name": "Fornitore S.p.A.", "is_company": True, "customer_type": "supplier"})
        self.env.flush_all()
        with patch.object(type(self.env["ir.sequence"]), "next_by_code", side_effect=AssertionError("numbered")):
            plain = Partner.create({"name": "Privato"})
            contact = Partner.create({"name": "Mario Verdi", "parent_id": supplier.id})
        self.assertFalse(plain.ref or contact.ref or supplier.ref)

        def queries(vals, numbering=True):
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            if numbering:
                Partner.create(vals)
            else:
                with patch.object(type(Partner), "_assign_customer_ref", lambda partners: None):
                    Partner.create(vals)
            self.env.flush_all()
            return self.env.cr.sql_log_count - before

        # a partner without a parent: not one query more than without the numbering
        self.assertEqual(queries({"name": "Privata 1"}), queries({"name": "Privata 2"}, numbering=False))
        # a contact with a parent: at most the read of the parent's type
        self.assertLessEqual(
            queries({"name": "Anna 1", "parent_id": supplier.id}),
            queries({"name": "Anna 2", "parent_id": supplier.id}, numbering=False) + 1,
        )

    def test_company_becoming_a_customer_numbers_itself_and_its_contacts(self):
        company = self.env["res.partner"].create({"name": "Theta S.r.l.", "is_company": True})
        person = self.env["res.partner"].create({"name": "Luisa Neri", "parent_id": company.id})
        self.assertFalse(company.ref or person.ref)
        company.customer_type = "customer"
        self.assertRegex(company.ref, r"^ACC\d+$")
        self.assertRegex(person.ref, r"^CON\d+$")

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
