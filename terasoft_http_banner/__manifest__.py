{
    "name": "Terasoft: no server version banner",
    "summary": "Answer 'Server: Odoo' instead of the Werkzeug and Python versions (server-wide, opt-in: --load)",
    "version": "19.0.1.0.0",
    "category": "Hidden/Tools",
    "author": "Terasoft",
    "website": "https://www.terasoft.example",
    "license": "LGPL-3",
    "depends": ["base"],
    "data": [],
    "post_load": "post_load",
    "installable": True,
}
