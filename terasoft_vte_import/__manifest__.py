{
    "name": "Terasoft Portal: import from VTE CRM",
    "summary": "Import tickets, comments, attachments, companies, contacts, portal users, FAQ and "
    "documents of a VTE CRM (vtiger) database, numbers preserved, idempotent",
    "version": "19.0.1.0.0",
    "category": "Services/Helpdesk",
    "license": "LGPL-3",
    "author": "Terasoft",
    "depends": ["terasoft_portal"],
    "external_dependencies": {"python": ["pymysql"]},
    "data": [],
    "installable": True,
}
