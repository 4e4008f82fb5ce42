{
    "name": "Terasoft: requests through a PostgreSQL restart",
    "summary": "Serve a request again when its database connection was lost before COMMIT "
    "(server-wide, opt-in: --load and -i)",
    "version": "19.0.1.0.0",
    "category": "Hidden/Tools",
    "author": "Terasoft",
    "website": "https://www.terasoft.example",
    "license": "LGPL-3",
    "depends": ["web"],
    "data": [],
    "post_load": "post_load",
    "installable": True,
}
