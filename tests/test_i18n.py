"""Translations: the module's template (.pot) is what Odoo's own export produces today, and
every one of its terms has a finished Italian translation in it.po.

Fix a failure with ``make i18n`` (exports the .pot with ``odoo-bin i18n export`` and merges it
into it.po with gettext's ``msgmerge``), then translate the entries it lists.
"""

from pathlib import Path

import polib

from odoo.tools.translate import TranslationModuleReader

from .common import TerasoftCase

I18N = Path(__file__).resolve().parent.parent / "terasoft_portal" / "i18n"
HOW_TO_FIX = (
    "Run `make i18n` (exports i18n/terasoft_portal.pot with Odoo's i18n export and "
    "merges it into it.po with msgmerge), then translate the listed entries in it.po."
)


def _sample(texts, limit=15):
    texts = sorted(texts)
    return "\n".join(f"  {text[:120]!r}" for text in texts[:limit]) + (
        f"\n  ... and {len(texts) - limit} more" if len(texts) > limit else ""
    )


class TestTranslations(TerasoftCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pot = polib.pofile(str(I18N / "terasoft_portal.pot"))
        cls.po = polib.pofile(str(I18N / "it.po"))

    def test_pot_is_what_odoo_exports(self):
        reader = TranslationModuleReader(self.env.cr, modules=["terasoft_portal"])
        exported = {
            source
            for module, _type, _name, _res_id, source, _value, _comments in reader
            if module == "terasoft_portal" and source
        }
        in_pot = {entry.msgid for entry in self.pot if not entry.obsolete}
        self.assertFalse(
            exported - in_pot,
            f"Terms of the module missing from terasoft_portal.pot:\n{_sample(exported - in_pot)}\n{HOW_TO_FIX}",
        )
        self.assertFalse(
            in_pot - exported,
            f"Terms of terasoft_portal.pot the module no longer has:\n{_sample(in_pot - exported)}\n{HOW_TO_FIX}",
        )
        # Odoo applies an entry of it.po only where its references say: a term of the code
        # needs a "#: code:..." reference, a term of a view or record the reference of that
        # view or record ("#: model_terms:ir.ui.view,arch_db:terasoft_portal.<view>"). A msgid
        # known from elsewhere but newly used in Python or in another view stays English otherwise.
        references = {}
        for entry in self.po:
            references.setdefault(entry.msgid, set()).update(occurrence for occurrence, _line in entry.occurrences)
        unreferenced = set()
        for module, ttype, name, res_id, source, _value, _comments in reader:
            if module != "terasoft_portal" or not source or source not in references:
                continue
            if ttype == "code":
                if not any(ref.startswith("code:") for ref in references[source]):
                    unreferenced.add(f"{source[:60]} (code)")
            elif f"{ttype}:{name}:{res_id}" not in references[source]:
                unreferenced.add(f"{source[:60]} ({ttype}:{name}:{res_id})")
        self.assertFalse(
            unreferenced, f"Terms used where it.po does not reference them:\n{_sample(unreferenced)}\n{HOW_TO_FIX}"
        )

    def test_italian_translation_is_complete(self):
        translated = {entry.msgid: entry for entry in self.po if not entry.obsolete}
        missing = {entry.msgid for entry in self.pot if not entry.obsolete and entry.msgid not in translated}
        empty = {msgid for msgid, entry in translated.items() if not entry.msgstr.strip()}
        fuzzy = {msgid for msgid, entry in translated.items() if "fuzzy" in entry.flags}
        self.assertFalse(missing, f"Terms of the .pot without an entry in it.po:\n{_sample(missing)}\n{HOW_TO_FIX}")
        self.assertFalse(empty, f"Untranslated entries (empty msgstr) in it.po:\n{_sample(empty)}\n{HOW_TO_FIX}")
        self.assertFalse(
            fuzzy,
            f"Fuzzy entries in it.po (check the translation, then remove the flag):\n{_sample(fuzzy)}\n{HOW_TO_FIX}",
        )

    def test_update_email_is_italian(self):
        """The "Pianificato" update email of an Italian contact has no English left."""
        ticket = self.env.ref("terasoft_portal.ticket_t09_demo")  # planned
        self.assertEqual(ticket.state, "planned")
        template = self.env.ref("terasoft_portal.mail_template_ticket_update")
        body = template.with_context(lang="it_IT")._render_field("body_html", ticket.ids)[ticket.id]
        self.assertIn("Pianificat", body)
        for english in ("Planned for", "New status", "See ticket"):
            self.assertNotIn(english, body)
