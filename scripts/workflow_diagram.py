"""Print the ticket state machine as plain text, generated from the WORKFLOW table.

Usage: .venv/bin/python scripts/workflow_diagram.py   (output pasted in docs/workflow.md)
"""

import os
import sys

import odoo.addons

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
odoo.addons.__path__.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from odoo.addons.terasoft_portal.models.terasoft_ticket import workflow_diagram  # noqa: E402

print(workflow_diagram())
