"""``odoo-bin --addons-path=... vte_import -c odoo.conf -d DB --vte-db=mysql://... --vte-storage=PATH``

Imports a VTE CRM database into an Odoo database that has ``terasoft_vte_import`` installed
(installed by the command when missing). See README.rst, "Import from VTE CRM".
(Odoo command names allow no dash: the command is ``vte_import``.)
"""

import json
import logging
import optparse
import sys
import time

from odoo.cli.command import Command
from odoo.tools import config

_logger = logging.getLogger(__name__)


class VteImport(Command):
    """Import tickets, comments, attachments, companies, contacts, portal users, FAQ and
    documents from a VTE CRM (vtiger) MySQL/MariaDB database"""

    name = "vte_import"

    def run(self, cmdargs):
        parser = config.parser
        parser.prog = self.prog
        group = optparse.OptionGroup(parser, "VTE import")
        group.add_option(
            "--vte-db", dest="vte_db", help="mysql://user:password@host:port/dbname (?unix_socket=/path for a socket)"
        )
        group.add_option("--vte-storage", dest="vte_storage", help="VTE's storage/ folder (attachments, documents)")
        group.add_option("--vte-prefix", dest="vte_prefix", my_default="vtiger_", help="table prefix (vtiger_ or vte_)")
        group.add_option("--vte-config", dest="vte_config", help="JSON file overriding the maps (see README)")
        group.add_option(
            "--vte-timezone",
            dest="vte_timezone",
            my_default="Europe/Rome",
            help="time zone of VTE's stored dates (default Europe/Rome)",
        )
        group.add_option(
            "--vte-dry-run",
            dest="vte_dry_run",
            action="store_true",
            my_default=False,
            help="import, report, and roll everything back",
        )
        group.add_option(
            "--vte-invite",
            dest="vte_invite",
            action="store_true",
            my_default=False,
            help="email an invitation to the portal users created",
        )
        group.add_option("--vte-batch", dest="vte_batch", type="int", my_default=200, help="rows per batch/commit")
        group.add_option("--vte-report", dest="vte_report", help="also write the report as JSON to this file")
        parser.add_option_group(group)
        opt = config.parse_config(cmdargs + ["--no-http"], setup_logging=True)
        if not opt.vte_db:
            sys.exit("--vte-db=mysql://user:password@host:port/dbname is required")
        dbnames = config["db_name"]
        if len(dbnames) != 1:
            sys.exit("-d DATABASE: one database")

        from odoo import api
        from odoo.modules.registry import Registry

        registry = Registry(dbnames[0])
        with registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            module = env["ir.module.module"].search([("name", "=", "terasoft_vte_import")])
            installed = module.state == "installed"
        if not installed:
            sys.exit(
                f"terasoft_vte_import is not installed in {dbnames[0]}: "
                f"odoo-bin -d {dbnames[0]} -i terasoft_vte_import --stop-after-init first"
            )

        # Odoo loads this file as odoo.cli.vte_import (not inside the addon's package): a relative
        # import would resolve against odoo.cli
        # pylint: disable-next=odoo-addons-relative-import
        from odoo.addons.terasoft_vte_import.models.terasoft_vte_import import (
            format_report,
        )

        started = [time.time()]

        def progress(kind, done, total):
            elapsed = time.time() - started[0]
            pct = f"{100 * done // total:3d}%" if total else "    "
            bar = "#" * (30 * done // total if total else 30)
            sys.stderr.write(f"\r{kind:<9} [{bar:<30}] {pct} {done}/{total}  {done / max(elapsed, 0.001):.0f} rows/s ")
            if done >= total:
                sys.stderr.write("\n")
                started[0] = time.time()
            sys.stderr.flush()

        with registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            report = env["terasoft.vte.import"]._run(
                opt.vte_db,
                storage=opt.vte_storage,
                dry_run=bool(opt.vte_dry_run),
                prefix=opt.vte_prefix or "vtiger_",
                config=opt.vte_config,
                invite=opt.vte_invite,
                batch_size=opt.vte_batch or 200,
                commit=not opt.vte_dry_run,
                progress=progress,
                timezone=opt.vte_timezone or "Europe/Rome",
            )
            if opt.vte_dry_run:
                cr.rollback()
            else:
                # pylint: disable-next=invalid-commit  # the command's own cursor: the import is done
                cr.commit()
        # pylint: disable-next=print-used  # command-line tool: its report
        print("DRY RUN: nothing was written." if opt.vte_dry_run else "Import done.")
        # pylint: disable-next=print-used  # command-line tool: its report
        print("\n".join(format_report(report)))
        if opt.vte_report:
            with open(opt.vte_report, "w") as f:
                json.dump(report, f, indent=1, default=str)
