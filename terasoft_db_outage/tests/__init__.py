from . import test_db_outage
