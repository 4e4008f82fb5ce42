#!/usr/bin/env bash
# terasoft_portal developer setup: Odoo tree, virtualenv, private PostgreSQL, databases.
# Called by the Makefile; every step is idempotent so a second run costs seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STATE="$ROOT/.local"                      # git-ignored: config, logs, pids
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/terasoft_portal"
ODOO_CACHE="$CACHE/odoo-19.0"
ODOO_UPSTREAM="https://github.com/odoo/odoo.git"
PY="${PYTHON:-python3}"
PG_PRIVATE_PORT="${TERASOFT_PG_PORT:-54329}"
mkdir -p "$STATE"

log() { printf '\033[1m[terasoft]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[terasoft] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- Odoo source
odoo_src() {
    if [ -n "${ODOO_SRC:-}" ]; then
        [ -f "$ODOO_SRC/odoo-bin" ] || die "ODOO_SRC=$ODOO_SRC has no odoo-bin: it must point to an Odoo 19.0 source tree."
        echo "$ODOO_SRC"; return
    fi
    if [ -f "$ODOO_CACHE/odoo-bin" ]; then echo "$ODOO_CACHE"; return; fi
    log "No Odoo tree in ODOO_SRC or $ODOO_CACHE: cloning upstream branch 19.0 (shallow)..."
    mkdir -p "$CACHE"
    if git clone --quiet --depth 1 --branch 19.0 "$ODOO_UPSTREAM" "$ODOO_CACHE.tmp" 2>"$STATE/odoo-clone.log"; then
        mv "$ODOO_CACHE.tmp" "$ODOO_CACHE"; echo "$ODOO_CACHE"; return
    fi
    rm -rf "$ODOO_CACHE.tmp"
    die "Cannot find the Odoo 19.0 source. Do one of:
  1. export ODOO_SRC=/path/to/odoo-19.0   (an existing 19.0 tree with odoo-bin)
  2. put a 19.0 tree in the cache folder $ODOO_CACHE
  3. allow network access to $ODOO_UPSTREAM (branch 19.0) so the setup can clone it there
(clone error in $STATE/odoo-clone.log)"
}

# ---------------------------------------------------------------- virtualenv
# python-magic (upload checks of terasoft_portal) needs the system's libmagic.
libmagic_ensure() {
    { ldconfig -p 2>/dev/null | grep -q 'libmagic\.so\.1'; } || [ -e /usr/lib/x86_64-linux-gnu/libmagic.so.1 ] && return
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "Installing libmagic1 (file type checks of uploads)..."
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libmagic1 >/dev/null \
            || die "could not install libmagic1 (needed by python-magic)."
    else
        die "libmagic is needed by python-magic: install the 'libmagic1' package."
    fi
}

venv() {
    libmagic_ensure
    local src; src="$(odoo_src)"
    local stamp="$VENV/.terasoft-stamp"
    local want; want="$( (echo "$src"; cat "$src/requirements.txt" "$ROOT/requirements.txt") | sha1sum | cut -c1-16)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
    log "Creating the virtualenv in $VENV (Odoo requirements: about a minute)..."
    [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV" || die "python3 -m venv failed: install python3-venv."
    # cbor2 5.4.2 builds only with setuptools<81 (pkg_resources); Odoo's gevent worker needs it at runtime too.
    local constraint="$STATE/build-constraints.txt"
    echo "setuptools<81" > "$constraint"
    "$VENV/bin/pip" install -q --upgrade pip "setuptools<81" wheel
    # python-ldap needs LDAP/SASL headers and only serves auth_ldap, which we do not use.
    grep -v '^python-ldap' "$src/requirements.txt" > "$STATE/odoo-requirements.txt"
    PIP_BUILD_CONSTRAINT="$constraint" PIP_CONSTRAINT="" "$VENV/bin/pip" install -q \
        -r "$STATE/odoo-requirements.txt" -r "$ROOT/requirements.txt" \
        || die "pip install of Odoo's requirements failed (see above)."
    # Make `import odoo` work (pytest-odoo needs it) without copying the tree.
    local site; site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    echo "$src" > "$site/odoo-src.pth"
    echo "$want" > "$stamp"
}

# ---------------------------------------------------------------- PostgreSQL
# Uses PGHOST/PGPORT/PGUSER/PGPASSWORD when PGHOST is set; otherwise a private cluster.
pg_bindir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && echo "$d" && return; done
    command -v pg_ctl >/dev/null && dirname "$(command -v pg_ctl)" && return
    return 1
}

pg_datadir() {
    if [ "$(id -u)" = 0 ]; then
        # The cluster runs as the `postgres` user, who may not traverse the clone's parents
        # (e.g. /root is 0700): keep its data under /var/tmp, one folder per clone.
        echo "/var/tmp/terasoft_portal-pg-$(echo "$ROOT" | sha1sum | cut -c1-10)"
    else
        echo "$ROOT/.local/pgdata"
    fi
}

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_start() {
    if [ -n "${PGHOST:-}" ]; then
        echo "db_host=$PGHOST db_port=${PGPORT:-5432} db_user=${PGUSER:-$(id -un)} db_password=${PGPASSWORD:-}" > "$STATE/pg.env"
        return
    fi
    local bin; bin="$(pg_bindir)" || {
        if [ "$(id -u)" = 0 ]; then
            log "Installing Debian's postgresql package..."
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
            bin="$(pg_bindir)" || die "postgresql installed but pg_ctl not found."
        else
            die "PostgreSQL server binaries not found: install the 'postgresql' package (Debian/Ubuntu) or set PGHOST/PGPORT/PGUSER/PGPASSWORD to use an existing server."
        fi
    }
    local data; data="$(pg_datadir)"
    if [ ! -f "$data/PG_VERSION" ]; then
        log "Creating a private PostgreSQL cluster in $data..."
        mkdir -p "$data"
        [ "$(id -u)" = 0 ] && chown postgres: "$data" && chmod 700 "$data"
        as_pg "$bin/initdb" -D "$data" -A trust -U odoo -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    ln -sfn "$data" "$STATE/pgdata-link" 2>/dev/null || true
    if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_pg "$bin/pg_ctl" -D "$data" -w -l "$data/server.log" start \
            -o "-p $PG_PRIVATE_PORT -k $data -c listen_addresses='' -c max_connections=200 -c shared_buffers=512MB -c fsync=${TERASOFT_PG_FSYNC:-on}" >/dev/null \
            || die "private PostgreSQL did not start: see $data/server.log"
        echo started > "$STATE/pg.started-by-us"
    fi
    echo "db_host=$data db_port=$PG_PRIVATE_PORT db_user=odoo db_password=" > "$STATE/pg.env"
}

pg_stop() {
    [ -n "${PGHOST:-}" ] && return
    local bin data; bin="$(pg_bindir)" || return 0; data="$(pg_datadir)"
    if [ -f "$STATE/pg.started-by-us" ] && [ -f "$data/PG_VERSION" ]; then
        as_pg "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
        rm -f "$STATE/pg.started-by-us"
        log "Private PostgreSQL stopped."
    fi
}

# ---------------------------------------------------------------- Odoo config
write_config() {  # $1 = config path, $2 = http port, $3 = extra addons paths (optional)
    local src; src="$(odoo_src)"
    # shellcheck disable=SC2046
    local db_host db_port db_user db_password
    eval "$(tr ' ' '\n' < "$STATE/pg.env")"
    cat > "$1" <<CONF
[options]
addons_path = $src/addons,$src/odoo/addons,$ROOT${3:+,$3}
data_dir = $STATE/filestore
db_host = $db_host
db_port = $db_port
db_user = $db_user
db_password = $db_password
http_interface = 127.0.0.1
http_port = $2
list_db = False
proxy_mode = False
without_demo = False
log_level = ${ODOO_LOG_LEVEL:-info}
CONF
}

odoo() { "$VENV/bin/python" "$(odoo_src)/odoo-bin" "$@"; }

db_exists() {  # $1 = db name
    "$VENV/bin/python" - "$1" <<'PYEOF'
import sys, psycopg2, configparser, os
c = configparser.ConfigParser(); c.read(os.environ["TERASOFT_CONF"])
o = c["options"]
kw = dict(dbname="postgres", host=o["db_host"], port=o["db_port"], user=o["db_user"])
if o.get("db_password"): kw["password"] = o["db_password"]
cn = psycopg2.connect(**kw)
cur = cn.cursor(); cur.execute("SELECT 1 FROM pg_database WHERE datname=%s", (sys.argv[1],))
sys.exit(0 if cur.fetchone() else 1)
PYEOF
}

# The opt-in addons of this repository (README, "Addons of this repository"): not installed by
# `make run` unless asked (ODOO_ARGS), tested by `make test` in a second database.
OPT_IN_ADDONS="terasoft_db_outage,terasoft_mail_once,terasoft_vte_import,terasoft_http_banner"

addon_hash() { (cd "$ROOT" && find terasoft_portal -type f ! -name '*.pyc' -print0 | sort -z | xargs -0 sha1sum | sha1sum | cut -c1-16); }

# Create or upgrade `$1` with terasoft_portal and its demo data.
prepare_db() {
    local db="$1" conf="$2" stamp="$STATE/db-$1.stamp" h; h="$(addon_hash)"
    export TERASOFT_CONF="$conf"
    if db_exists "$db"; then
        if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$h" ]; then return; fi
        log "Upgrading terasoft_portal in database $db..."
        odoo -c "$conf" -d "$db" -u terasoft_portal --stop-after-init --no-http
    else
        log "Creating database $db with terasoft_portal and its demo data (about a minute)..."
        odoo -c "$conf" -d "$db" -i terasoft_portal --with-demo --load-language=it_IT --stop-after-init --no-http
    fi
    echo "$h" > "$stamp"
}

demo_logins() {  # every login of the README's "Demo logins" table (tests/test_demo_data.py checks)
    cat <<TXT

  terasoft_portal demo on http://127.0.0.1:$1  (database terasoft_demo)
    admin (support manager)            admin / admin
    support user                       supporto@example.com / demo
    support manager                    responsabile.supporto@example.com / demo
    portal, Alfa Paghe (all tickets)   giulia.bianchi@example.com / demo
    portal, Beta Servizi               luca.verdi@example.com / demo
    portal, Alfa (own + Contabilita)   marco.rossi@example.com / demo
    portal, Alfa (own + Paghe/Pres.)   sara.conti@example.com / demo
    portal, Gamma (insolvent)          franco.neri@example.com / demo
  make stop  stops the server and the private PostgreSQL.

TXT
}

axe_ensure() {  # axe-core for tests/test_accessibility.py, into the git-ignored .local
    [ -f "$ROOT/.local/node_modules/axe-core/axe.min.js" ] && return
    if command -v npm >/dev/null; then
        log "Installing axe-core (accessibility test) into .local/node_modules..."
        npm install --prefix "$ROOT/.local" --no-save --no-audit --no-fund axe-core@4 >/dev/null 2>&1 \
            || log "axe-core could not be installed: the accessibility test will be skipped."
    else
        log "npm not found: the accessibility test (axe-core) will be skipped; install nodejs and npm."
    fi
}

chromium_ensure() {
    command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null && return
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "Installing Chromium (browser tours)..."
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
            || die "could not install chromium (needed by the browser tests)."
    else
        die "Chromium is needed by the browser tests: install the 'chromium' package."
    fi
}

# ---------------------------------------------------------------- commands
cmd_run() {
    local port="${PORT:-8069}"
    venv; pg_start
    write_config "$STATE/odoo.conf" "$port"
    prepare_db terasoft_demo "$STATE/odoo.conf"
    demo_logins "$port"
    echo $$ > "$STATE/odoo.pid"
    # terasoft_http_banner (server-wide, opt-in): "Server: Odoo" instead of the Werkzeug/Python
    # versions; an --load in ODOO_ARGS replaces this one
    exec "$VENV/bin/python" "$(odoo_src)/odoo-bin" -c "$STATE/odoo.conf" -d terasoft_demo --db-filter='^terasoft_demo$' \
        --load=base,rpc,web,terasoft_http_banner ${ODOO_ARGS:-}
}

# Regenerate i18n/terasoft_portal.pot with Odoo's own export (from the demo database, upgraded
# first when the addon changed) and merge it into it.po with gettext's msgmerge: new terms get
# an empty msgstr, which tests/test_i18n.py lists until they are translated.
cmd_i18n() {
    venv; pg_start
    write_config "$STATE/odoo.conf" "${PORT:-8069}"
    # a fresh database: an upgraded one keeps the old text of noupdate records (mail templates)
    local dir="$ROOT/terasoft_portal/i18n" db="terasoft_i18n_$$"
    export TERASOFT_CONF="$STATE/odoo.conf"
    odoo -c "$STATE/odoo.conf" -d "$db" -i terasoft_portal --stop-after-init --no-http --log-level=warn
    odoo i18n export -c "$STATE/odoo.conf" -d "$db" terasoft_portal -l pot
    dropdb_py "$db" || true
    if ! command -v msgmerge >/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null || die "could not install gettext"
        else
            die "msgmerge not found: install gettext (apt-get install gettext), then run make i18n again."
        fi
    fi
    msgmerge --quiet --update --no-fuzzy-matching --backup=none "$dir/it.po" "$dir/terasoft_portal.pot"
    log "i18n/terasoft_portal.pot exported; it.po merged. Untranslated entries:"
    msgattrib --untranslated --no-obsolete "$dir/it.po" | grep -c '^msgid ' || true
}

# `make test`: the main suite (tests/) on a database with terasoft_portal alone (it works
# without the opt-in addons), then the opt-in addons installed in that same database and their
# own tests (<addon>/tests). `make test TESTS=...` runs only the given paths, in a database
# with terasoft_portal, plus the opt-in addons when a path is inside one of them.
cmd_test() {
    venv; pg_start; chromium_ensure; axe_ensure
    local port="${TEST_PORT:-8169}" db="terasoft_test_$$"
    write_config "$STATE/odoo-test.conf" "$port"
    export TERASOFT_CONF="$STATE/odoo-test.conf"
    local main=() opt=() path
    if [ $# -eq 0 ]; then
        main=(tests); IFS=, read -ra opt <<< "$OPT_IN_ADDONS"
    else
        for path in "$@"; do
            case "$path" in
                terasoft_db_outage*|terasoft_mail_once*|terasoft_vte_import*|terasoft_http_banner*) opt+=("$path") ;;
                *) main+=("$path") ;;
            esac
        done
    fi
    log "Installing terasoft_portal with demo data in the throwaway database $db..."
    odoo -c "$STATE/odoo-test.conf" -d "$db" -i terasoft_portal --with-demo --load-language=it_IT \
        --stop-after-init --no-http --log-level=warn
    local rc=0
    if [ ${#main[@]} -gt 0 ]; then
        log "Main suite, terasoft_portal alone: ${main[*]}"
        (cd "$ROOT" && "$VENV/bin/python" -m pytest -p no:cacheprovider --odoo-config="$STATE/odoo-test.conf" \
            --odoo-database="$db" --odoo-http "${main[@]}") || rc=$?
    fi
    if [ ${#opt[@]} -gt 0 ]; then
        mariadb_ensure || true  # without it the import's tests fail and say why (never skipped)
        log "Installing the opt-in addons ($OPT_IN_ADDONS) in $db and running their tests: ${opt[*]}"
        odoo -c "$STATE/odoo-test.conf" -d "$db" -i "$OPT_IN_ADDONS" --stop-after-init --no-http --log-level=warn
        (cd "$ROOT" && "$VENV/bin/python" -m pytest -p no:cacheprovider --odoo-config="$STATE/odoo-test.conf" \
            --odoo-database="$db" --odoo-http "${opt[@]}") || rc=$?
    fi
    dropdb_py "$db" || true
    return $rc
}

# Odoo's own suites (portal, mail, auth_signup, auth_totp_portal, http_routing, resource,
# test_mail) with terasoft_portal installed, against tests/odoo_known_failures.txt
# (scripts/test_odoo.py; --bare runs them without our addon: the baseline).
cmd_test_odoo() {
    venv; pg_start; chromium_ensure
    write_config "$STATE/odoo-test-odoo.conf" "${TEST_PORT:-8169}"
    "$VENV/bin/python" "$ROOT/scripts/test_odoo.py" --config "$STATE/odoo-test-odoo.conf" \
        --odoo-src "$(odoo_src)" "$@"
}

dropdb_py() {
    "$VENV/bin/python" - "$1" <<'PYEOF'
import sys, psycopg2, configparser, os
c = configparser.ConfigParser(); c.read(os.environ["TERASOFT_CONF"])
o = c["options"]
kw = dict(dbname="postgres", host=o["db_host"], port=o["db_port"], user=o["db_user"])
if o.get("db_password"): kw["password"] = o["db_password"]
cn = psycopg2.connect(**kw); cn.autocommit = True
cn.cursor().execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % sys.argv[1])
PYEOF
    rm -rf "$STATE/filestore/filestore/$1"
}

# OCA helpdesk_mgmt 19.0, the peer of the benchmarks: PyPI wheel, unpacked in the cache
# (its `odoo==19.0.*` dependency cannot be resolved from PyPI, so it is not pip-installed).
peer_addons() {
    local dir="$CACHE/peer/helpdesk_mgmt"
    if [ ! -f "$dir/odoo/addons/helpdesk_mgmt/__manifest__.py" ]; then
        log "Downloading OCA helpdesk_mgmt 19.0 (the benchmark peer) from PyPI..."
        mkdir -p "$CACHE/peer"
        "$VENV/bin/pip" download -q --no-deps -d "$CACHE/peer" "odoo-addon-helpdesk-mgmt==19.0.*" \
            || die "could not download odoo-addon-helpdesk-mgmt from PyPI."
        rm -rf "$dir" && mkdir -p "$dir"
        "$VENV/bin/python" -m zipfile -e "$(ls -t "$CACHE"/peer/odoo_addon_helpdesk_mgmt-19.0*.whl | head -1)" "$dir"
    fi
    echo "$dir/odoo/addons"
}

# HAProxy: the reverse proxy that bench/ and reliability/ put in front of Odoo, as deployments do.
haproxy_ensure() {
    command -v haproxy >/dev/null && return
    if [ "$(id -u)" = 0 ]; then
        log "Installing HAProxy (reverse proxy in front of Odoo for the load runs)..."
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null || true
    else
        log "HAProxy not found (package 'haproxy'): load runs talk to Odoo directly."
    fi
}

cmd_bench() {
    venv; pg_start; haproxy_ensure
    local peer; peer="$(peer_addons)"
    write_config "$STATE/odoo-bench.conf" "${BENCH_PORT:-8269}" "$peer"
    sed -i 's/^log_level = .*/log_level = warn/' "$STATE/odoo-bench.conf"
    "$VENV/bin/python" "$ROOT/bench/bench.py" --config "$STATE/odoo-bench.conf" --odoo-src "$(odoo_src)" "$@"
}

# Load, faults, hostile input and isolation matrix on a throwaway database (reliability/run.py).
# PostgreSQL is restarted only when it is this clone's private cluster (PGHOST unset).
cmd_reliability() {
    venv; pg_start; haproxy_ensure
    write_config "$STATE/odoo-reliability.conf" "${RELIABILITY_PORT:-8369}"
    sed -i 's/^log_level = .*/log_level = warn/' "$STATE/odoo-reliability.conf"
    local extra=()
    [ -n "${PGHOST:-}" ] && extra=(--no-pg-restart "PGHOST is set: the server may be shared, it is not restarted")
    "$VENV/bin/python" "$ROOT/reliability/run.py" --config "$STATE/odoo-reliability.conf" \
        --odoo-src "$(odoo_src)" "${extra[@]}" "$@"
}

# ---------------------------------------------------------------- MariaDB (VTE import)
# Debian's mariadb-server for terasoft_vte_import: its tests and `make import-vte VTE_DUMP=...`
# run a private server (terasoft_vte_import/tools/mariadb.py: data and unix socket in
# /var/tmp/terasoft_vte-mariadb-<hash of the clone's path>, no TCP, run as `mysql` when root).
mariadb_ensure() {
    command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        local i; for i in $(seq 60); do pgrep -x apt-get >/dev/null || pgrep -x dpkg >/dev/null || break; sleep 5; done
        log "Installing Debian's mariadb-server (VTE import)..."
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null \
            && return 0
        log "could not install mariadb-server: the VTE import needs it."
    else
        log "MariaDB not found: the VTE import needs Debian's 'mariadb-server' package."
    fi
    return 1
}

mariadb_tool() { "$VENV/bin/python" "$ROOT/terasoft_vte_import/tools/mariadb.py" "$@"; }

mariadb_start() {  # prints the private server's socket
    mariadb_tool start "$ROOT" || die "the private MariaDB did not start (see above)."
}

# `make import-vte VTE_DB=mysql://user:password@host:port/dbname VTE_STORAGE=/path/to/vte/storage`
# (or VTE_DUMP=file.sql: loaded into the private MariaDB first; VTE_DRY_RUN=1; DB=, default the
# demo's terasoft_demo; VTE_PREFIX=vte_; VTE_CONFIG=map.json; VTE_INVITE=1; VTE_REPORT=report.json).
cmd_import_vte() {
    venv; pg_start
    local db="${DB:-terasoft_demo}" url="${VTE_DB:-}" src; src="$(odoo_src)"
    write_config "$STATE/odoo.conf" "${PORT:-8069}"
    export TERASOFT_CONF="$STATE/odoo.conf"
    if [ "$db" = terasoft_demo ]; then prepare_db terasoft_demo "$STATE/odoo.conf"; fi
    db_exists "$db" || die "database $db does not exist (make run creates terasoft_demo; DB= names another)."
    if [ -n "${VTE_DUMP:-}" ]; then
        [ -f "$VTE_DUMP" ] || die "VTE_DUMP=$VTE_DUMP: no such file."
        mariadb_ensure || die "MariaDB is needed to read VTE_DUMP: install Debian's 'mariadb-server'."
        local sock; sock="$(mariadb_start)"
        log "Loading $VTE_DUMP into the private MariaDB (database vte_dump)..."
        mariadb_tool load "$ROOT" vte_dump "$VTE_DUMP" || die "could not load $VTE_DUMP."
        url="mysql://root@localhost/vte_dump?unix_socket=$sock"
    fi
    [ -n "$url" ] || die "give VTE_DB=mysql://user:password@host:port/dbname or VTE_DUMP=file.sql"
    log "Installing terasoft_vte_import in $db (if needed)..."
    odoo -c "$STATE/odoo.conf" -d "$db" -i terasoft_vte_import --stop-after-init --no-http --log-level=warn
    local args=(--vte-db="$url" --vte-prefix="${VTE_PREFIX:-vtiger_}")
    [ -n "${VTE_STORAGE:-}" ] && args+=(--vte-storage="$VTE_STORAGE")
    [ "${VTE_DRY_RUN:-0}" != 0 ] && args+=(--vte-dry-run)
    [ "${VTE_INVITE:-0}" != 0 ] && args+=(--vte-invite)
    [ -n "${VTE_CONFIG:-}" ] && args+=(--vte-config="$VTE_CONFIG")
    [ -n "${VTE_REPORT:-}" ] && args+=(--vte-report="$VTE_REPORT")
    local rc=0
    odoo --addons-path="$src/addons,$src/odoo/addons,$ROOT" vte_import -c "$STATE/odoo.conf" -d "$db" \
        --log-level=warn "${args[@]}" || rc=$?
    if [ -n "${VTE_DUMP:-}" ]; then mariadb_tool stop "$ROOT"; fi  # the throwaway server
    return $rc
}

# `make cluster`: PostgreSQL primary + streaming hot standby, two Odoo nodes, HAProxy
# (scripts/cluster.py; README, "Scale-out cluster"). CLUSTER_PORT (HAProxy, default 8470; the
# nodes use the next five ports), CLUSTER_PG_PORT (primary, default 55460; standby +1).
cmd_cluster() {
    venv; haproxy_ensure
    "$VENV/bin/python" "$ROOT/scripts/cluster.py" "${1:-start}"
}

cmd_stop() {
    if [ -d "$STATE/cluster" ]; then "$VENV/bin/python" "$ROOT/scripts/cluster.py" stop || true; fi
    if [ -f "$STATE/odoo.pid" ]; then
        kill "$(cat "$STATE/odoo.pid")" 2>/dev/null && log "Odoo server stopped." || true
        rm -f "$STATE/odoo.pid"
    fi
    pg_stop
}

# Parsed whole before it runs: editing this file while a command runs cannot derail it.
main() {
    case "${1:-}" in
        run) shift; cmd_run "$@" ;;
        test) shift; cmd_test "$@" ;;
        test-odoo) shift; cmd_test_odoo "$@" ;;
        bench) shift; cmd_bench "$@" ;;
        reliability) shift; cmd_reliability "$@" ;;
        import-vte) shift; cmd_import_vte "$@" ;;
        cluster) shift; cmd_cluster "$@" ;;
        stop) cmd_stop ;;
        i18n) cmd_i18n ;;
        venv) venv ;;
        pg) pg_start ;;
        odoo) shift; venv; pg_start; write_config "$STATE/odoo.conf" "${PORT:-8069}"; sub=(); case "${1:-}" in i18n|db) sub=("$1" "$2"); shift 2;; shell|neutralize|populate) sub=("$1"); shift;; esac; odoo "${sub[@]}" -c "$STATE/odoo.conf" "$@" ;;
        *) die "usage: scripts/setup.sh run|test|test-odoo|i18n|bench|reliability|import-vte|cluster [start|stop|status|destroy]|stop|venv|pg|odoo ..." ;;
    esac
}
main "$@"; exit $?
