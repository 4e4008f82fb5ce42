"""Shared fixtures of the terasoft_portal test suite (run with pytest-odoo, see README)."""
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged


class TerasoftMixin:
    """Demo records and small factories shared by every test class.

    The suite runs on a database installed with the module's demo data (``make test``),
    so tests may rely on the documented demo logins and companies.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ref = cls.env.ref
        cls.Ticket = cls.env["terasoft.ticket"]
        cls.alfa = ref("terasoft_portal.partner_alfa_demo")
        cls.beta = ref("terasoft_portal.partner_beta_demo")
        cls.gamma = ref("terasoft_portal.partner_gamma_demo")
        cls.giulia = ref("terasoft_portal.user_giulia_bianchi_demo")   # Alfa, scope company
        cls.luca = ref("terasoft_portal.user_luca_verdi_demo")         # Beta, scope company
        cls.support = ref("terasoft_portal.user_supporto_demo")
        cls.manager = ref("terasoft_portal.user_responsabile_demo")
        cls.cat_paghe = ref("terasoft_portal.category_paghe_demo")
        cls.cat_presenze = ref("terasoft_portal.category_presenze_demo")
        cls.cat_project = ref("terasoft_portal.category_presenze_project_demo")
        cls.cat_contabilita = ref("terasoft_portal.category_contabilita_demo")
        cls.product_paghe = ref("terasoft_portal.product_paghe_demo")

    @classmethod
    def _portal_user(cls, login, company, **partner_vals):
        """A new portal user whose contact belongs to ``company``."""
        user = new_test_user(cls.env, login=login, groups="base.group_portal", email=f"{login}@example.com")
        user.partner_id.write(dict(parent_id=company.id, **partner_vals))
        return user

    @classmethod
    def _ticket(cls, partner, **vals):
        return cls.env["terasoft.ticket"].create({
            "name": vals.pop("name", "Cedolino errato"),
            "partner_id": partner.id,
            "category_id": vals.pop("category_id", cls.cat_paghe.id),
            **vals,
        })


@tagged("standard", "post_install", "-at_install")  # Odoo 19 needs test tags outside odoo.addons
class TerasoftCase(TerasoftMixin, TransactionCase):
    pass


@tagged("standard", "post_install", "-at_install")
class TerasoftHttpCase(TerasoftMixin, HttpCase):
    pass
