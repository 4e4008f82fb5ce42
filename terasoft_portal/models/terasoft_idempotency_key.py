import logging
import re
import uuid
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ConcurrencyError

_logger = logging.getLogger(__name__)

# What a form may send as its key: the UUID the page made, or any client's own token of the
# same kind. Anything else is ignored (the request is served, unprotected).
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
KEEP_DAYS_PARAM = "terasoft_portal.idempotency_keep_days"
DEFAULT_KEEP_DAYS = 2  # a browser or proxy retries within minutes; a day for a laptop woken up


class TerasoftIdempotencyKey(models.Model):
    """The first answer to a portal form sent with an ``idempotency_key``.

    Each form that creates something (ticket, comment, attachment, access request, ...)
    carries a random key made when the page was rendered. The route stores the key with its
    answer (the redirect URL, or a small JSON) in the transaction that creates the records: a
    worker killed before the commit leaves neither, after it both. The same key sent again
    (double click, browser retry, HAProxy retrying a POST whose worker died) answers the
    stored result and creates nothing. Keys are scoped (per user, ``public`` for visitors'
    forms, whose answer is the same for everyone), so another user's key reveals nothing.

    Two submissions of one key at the same time: both create, the second one's insert waits
    on the unique index until the first commits, then fails (a serialization failure under
    Odoo's REPEATABLE READ, a ConcurrencyError otherwise); Odoo rolls it back and serves the
    request again, which then finds the key and answers the first result.
    """

    _name = "terasoft.idempotency.key"
    _description = "Portal Form Idempotency Key"
    _order = "id desc"
    _log_access = False  # written with one INSERT by the form's route; create_date is below

    key = fields.Char(required=True)
    scope = fields.Char(required=True, help="Whose key it is: 'user:<id>', or 'public' for visitors' forms.")
    result_url = fields.Char("Redirect To")
    result_json = fields.Json("Result")
    create_date = fields.Datetime("Created On", required=True, readonly=True, default=fields.Datetime.now, index=True)

    _scope_key_uniq = models.Constraint("UNIQUE(scope, key)", "An idempotency key is used once per scope.")

    @api.model
    def _new_key(self):
        """A fresh key for a form being rendered (no database access)."""
        return str(uuid.uuid4())

    @api.model
    def _valid_key(self, key):
        """``key`` if it is usable as an idempotency key, else None."""
        return key if isinstance(key, str) and KEY_RE.match(key) else None

    @api.model
    def _replay(self, scope, key):
        """The stored result ``{"url": ..., "json": ...}`` of ``key`` in ``scope``, or None
        (also for an unusable key). One indexed SELECT."""
        if not self._valid_key(key):
            return None
        self.env.cr.execute(
            "SELECT result_url, result_json FROM terasoft_idempotency_key WHERE scope = %s AND key = %s",
            (scope, key),
        )
        row = self.env.cr.fetchone()
        return {"url": row[0], "json": row[1]} if row else None

    @api.model
    def _remember(self, scope, key, url=None, json=None):
        """Store the result of ``key`` in ``scope``, in the current transaction (one INSERT).

        When another transaction stored the same key meanwhile, the INSERT waits for it and
        then fails: Odoo's request retry (odoo.service.model.retrying) rolls back what this
        request created and serves it again, and ``_replay`` answers the first result. A
        request without a usable key is not remembered."""
        if not self._valid_key(key):
            return
        self.env.cr.execute(
            """INSERT INTO terasoft_idempotency_key (key, scope, result_url, result_json, create_date)
               VALUES (%s, %s, %s, %s, now() AT TIME ZONE 'UTC')
               ON CONFLICT (scope, key) DO NOTHING RETURNING id""",
            (key, scope, url, self._fields["result_json"].convert_to_column(json, self)),
        )
        if not self.env.cr.fetchone():
            # READ COMMITTED only (under REPEATABLE READ PostgreSQL raised already): the first
            # submission committed while this one was creating. Retried by Odoo.
            raise ConcurrencyError(f"idempotency key {key} of {scope} stored by a concurrent request")

    @api.model
    def _cron_purge(self):
        """Delete the keys older than the setting ``terasoft_portal.idempotency_keep_days``."""
        try:
            days = int(self.env["ir.config_parameter"].sudo().get_param(KEEP_DAYS_PARAM, DEFAULT_KEEP_DAYS))
        except ValueError:
            days = DEFAULT_KEEP_DAYS
        self.env.cr.execute(
            "DELETE FROM terasoft_idempotency_key WHERE create_date < %s",
            (fields.Datetime.now() - timedelta(days=max(days, 1)),),
        )
        _logger.info("Idempotency keys purged: %s older than %s days", self.env.cr.rowcount, days)
