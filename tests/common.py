"""Shared fixtures of the terasoft_portal test suite (run with pytest-odoo, see README)."""

from contextlib import contextmanager
from unittest.mock import patch

from odoo import fields
from odoo.tests import HttpCase, TransactionCase, freeze_time, new_test_user, tagged

from odoo.addons.base.models.ir_cron import IrCron


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
        cls.giulia = ref("terasoft_portal.user_giulia_bianchi_demo")  # Alfa, scope company
        cls.luca = ref("terasoft_portal.user_luca_verdi_demo")  # Beta, scope company
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
        return cls.env["terasoft.ticket"].create(
            {
                "name": vals.pop("name", "Cedolino errato"),
                "partner_id": partner.id,
                "category_id": vals.pop("category_id", cls.cat_paghe.id),
                **vals,
            }
        )


@tagged("standard", "post_install", "-at_install")  # Odoo 19 needs test tags outside odoo.addons
class TerasoftCase(TerasoftMixin, TransactionCase):
    pass


@tagged("standard", "post_install", "-at_install")
class TerasoftHttpCase(TerasoftMixin, HttpCase):
    pass


@contextmanager
def frozen(env, moment):
    """Freeze the clock at ``moment`` (naive UTC string or datetime) for Python *and* for the
    transaction timestamp Odoo uses as create_date (``cr.now()``, which freezegun ignores)."""
    moment = fields.Datetime.to_datetime(moment)
    with freeze_time(moment), patch.object(env.cr, "now", lambda: moment):
        yield moment


def patch_cron_commit():
    """``ir.cron._commit_progress`` commits, which a test cursor refuses: count batches instead."""
    calls = []

    def fake_commit_progress(self, processed=0, *, remaining=None, deactivate=False):
        calls.append(processed)
        return float("inf")

    return patch.object(IrCron, "_commit_progress", fake_commit_progress), calls
