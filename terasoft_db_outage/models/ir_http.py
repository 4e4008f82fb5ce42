from odoo import models
from odoo.http import SAFE_HTTP_METHODS, request

from .. import db_outage


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _post_dispatch(cls, response):
        result = super()._post_dispatch(response)
        # last step before COMMIT: what tells whether a COMMIT cut by PostgreSQL going away
        # was applied, and what to answer then (db_outage)
        db_outage.prepare_commit(request, response)
        return result

    @classmethod
    def _handle_error(cls, exception):
        # The database connection is gone (PostgreSQL restarting): the error pages of super()
        # need the database (http_routing rolls back the dead cursor, then renders a QWeb page)
        # and would end in a bare 500. Answer an honest 503 without touching it. When the
        # transaction never reached COMMIT, db_outage serves the request again instead, once
        # PostgreSQL is back; when it did and its fate is unknown, a form post may have been
        # saved: the page says so.
        if db_outage.is_connection_lost(exception):
            uncertain = db_outage.reached_commit(exception) and request.httprequest.method not in SAFE_HTTP_METHODS
            return db_outage.service_unavailable(request, uncertain=uncertain)
        return super()._handle_error(exception)
