"""The weekly summary email (terasoft_ticket_report) with the SLA rows (terasoft_ticket_sla):
the week's success rate of each target."""

from odoo import models
from odoo.tools import SQL


class TerasoftTicketReportSummary(models.AbstractModel):
    _inherit = "terasoft.ticket.report.summary"

    def _weekly_summary_values(self, company, start, end):
        """Add the week's SLA success rate per target: of the targets that came due or were
        reached in the week (reached on time = met, after or never = breached), the share met,
        in percent (None when no target fell in the week)."""
        values = super()._weekly_summary_values(company, start, end)
        self.env["terasoft.ticket.sla"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT target, count(*) FILTER (WHERE status = 'met'), count(*)
                  FROM terasoft_ticket_sla
                 WHERE company_id = %(company)s AND status IN ('met', 'breached')
                   AND COALESCE(reached_date, deadline) >= %(start)s AND COALESCE(reached_date, deadline) < %(end)s
                 GROUP BY target
                """,
                company=company.id,
                start=start,
                end=end,
            )
        )
        rates = {target: round(100.0 * met / total, 1) for target, met, total in self.env.cr.fetchall()}
        values["sla_first_response_rate"] = rates.get("first_response")
        values["sla_resolution_rate"] = rates.get("resolution")
        return values
