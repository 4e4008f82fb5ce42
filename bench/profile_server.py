#!/usr/bin/env python3
"""odoo-bin with cProfile (CPU time of the serving thread) of the requests whose path matches a
regular expression: what a page or a form submission spends its time on, HTTP layer included.

    PROF_PATH='^/my/tickets/new$' PROF_METHOD=POST PROF_OUT=/tmp/create.prof \\
        .venv/bin/python bench/profile_server.py -c .local/odoo-bench.conf -d bench_ours_100000 \\
        --http-port 8530 --gevent-port 8531 --workers 0 --max-cron-threads 0
    # drive requests at it, then: kill -USR1 <pid> (writes PROF_OUT), and read it with
    .venv/bin/python -c "import pstats; pstats.Stats('/tmp/create.prof').sort_stats('cumulative').print_stats(60)"

Run it with ``--workers 0`` (one process; the profiled requests are serialised). The profile
is written on SIGUSR1 and at exit.
"""

import atexit
import cProfile
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

ODOO_SRC = Path(os.environ.get("ODOO_SRC", "~/.cache/terasoft_portal/odoo-19.0")).expanduser()
sys.argv[0] = str(ODOO_SRC / "odoo-bin")
sys.path.insert(0, str(ODOO_SRC))

import odoo.cli  # noqa: E402
from odoo import http  # noqa: E402

PATH = re.compile(os.environ["PROF_PATH"])
METHOD = os.environ.get("PROF_METHOD", "GET")
OUT = os.environ.get("PROF_OUT", "/tmp/odoo_requests.prof")
profile = cProfile.Profile(time.thread_time)
lock = threading.Lock()
serve = http.Application.__call__


def profiled_call(self, environ, start_response):
    if PATH.match(environ.get("PATH_INFO", "")) and environ.get("REQUEST_METHOD") == METHOD:
        with lock:
            profile.enable()
            try:
                return serve(self, environ, start_response)
            finally:
                profile.disable()
    return serve(self, environ, start_response)


def dump(*_args):
    profile.dump_stats(OUT)


http.Application.__call__ = profiled_call
signal.signal(signal.SIGUSR1, dump)
atexit.register(dump)

if __name__ == "__main__":
    odoo.cli.main()
