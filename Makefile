# terasoft_portal: the two commands that set up a machine, and a few more.
# Everything is done by scripts/setup.sh; see README.rst.
PORT ?= 8069
export PORT

.PHONY: run test test-odoo lint i18n import-vte stop venv shell bench reliability cluster cluster-stop

run:  ## set up everything and serve the demo on http://127.0.0.1:$(PORT)
	@bash scripts/setup.sh run

test:  ## set up everything and run the whole test suite on a throwaway database
	@bash scripts/setup.sh test $(TESTS)

i18n:  ## export i18n/terasoft_portal.pot (odoo-bin i18n export) and merge it into it.po (msgmerge)
	@bash scripts/setup.sh i18n

test-odoo:  ## Odoo's own suites (portal, mail, test_mail, ...) with terasoft_portal installed; fails on failures not in tests/odoo_known_failures.txt
	@bash scripts/setup.sh test-odoo $(TEST_ODOO_ARGS)

lint:  ## OCA quality gates: ruff, pylint-odoo, oca-checks-odoo-module/-po via pre-commit (all files)
	@bash scripts/lint.sh $(LINT_ARGS)

stop:  ## stop the server and the private PostgreSQL started by `make run`
	@bash scripts/setup.sh stop

venv:
	@bash scripts/setup.sh venv

shell:  ## an Odoo shell on the demo database
	@bash scripts/setup.sh odoo shell -d terasoft_demo --no-http

bench:  ## benchmarks against OCA helpdesk_mgmt; writes bench/RESULTS.md (BENCH_SIZES=1000,10000,100000)
	@bash scripts/setup.sh bench

reliability:  ## load, faults, hostile input, isolation matrix on a throwaway database; writes reliability/RESULTS.md
	@bash scripts/setup.sh reliability $(RELIABILITY_ARGS)

import-vte:  ## import VTE CRM: VTE_DB=mysql://user:password@host:port/dbname (or VTE_DUMP=file.sql) VTE_STORAGE=path [VTE_DRY_RUN=1] [DB=terasoft_demo]
	@bash scripts/setup.sh import-vte

cluster:  ## PostgreSQL primary + hot standby, 2 Odoo nodes (--workers=2, crons), HAProxy on http://127.0.0.1:$(CLUSTER_PORT) (default 8470)
	@bash scripts/setup.sh cluster start

cluster-stop:  ## stop what `make cluster` started (`make stop` does it too); `bash scripts/setup.sh cluster destroy` removes its data
	@bash scripts/setup.sh cluster stop
