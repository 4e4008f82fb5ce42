{
    "name": "Terasoft: emails handed to the SMTP server at most once",
    "summary": "Opt-in: no email sent twice after a crash between the SMTP server's acceptance and "
    "the COMMIT; emails that failed because the SMTP server was unreachable are retried",
    "version": "19.0.1.0.0",
    "category": "Hidden/Tools",
    "author": "Terasoft",
    "website": "https://www.terasoft.example",
    "license": "LGPL-3",
    "depends": ["mail"],
    "data": ["security/ir.model.access.csv"],
    "installable": True,
}
