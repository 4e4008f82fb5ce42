#!/usr/bin/env python3
"""Fill a database with N tickets of a realistic shape, for terasoft_portal ("ours") or OCA
helpdesk_mgmt ("peer"), so both are measured on the same data.

Shape: 11 customer companies with 3 contacts each; the benchmark portal user
(bench.portal@example.com / bench) belongs to the first, so it sees about 1/11 of the
tickets. Italian subjects and ~500-character descriptions, a backlog-like spread of states,
3 public messages on 10% of the tickets, and one ticket of the benchmark company with 20.

Bulk rows (tickets, messages) go in with SQL (`execute_values`, batches of 5,000): the
ORM would take an hour at 100k. Everything else (companies, users, categories) goes through
the ORM, and stored fields are written with the values the ORM would compute.

    python bench/seed.py --config .local/odoo-bench.conf --db bench_ours_1000 --addon ours --tickets 1000
"""

import argparse
import random
import time
from datetime import datetime, timedelta

from psycopg2.extras import execute_values

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config

SUBJECTS = [
    "Errore nel calcolo dell'addizionale regionale",
    "Cedolino di {mese} non stampabile",
    "Timbrature non importate dal terminale",
    "F24 di {mese} con importi errati",
    "Richiesta abilitazione nuovo utente",
    "Liquidazione IVA {trimestre} trimestre non quadra",
    "Aggiornamento alla versione {versione}",
    "Giustificativo ferie non visibile",
    "Conguaglio 730 non applicato",
    "Esportazione XML fatture elettroniche",
    "Calcolo TFR part-time errato",
    "Straordinari festivi non maggiorati",
    "Portale HR: cedolini non visibili",
    "Rateo tredicesima non corretto",
    "Certificazione Unica dipendenti cessati",
    "Turno notturno da configurare",
]
SENTENCES = [
    "Buongiorno, segnaliamo che dopo l'ultimo aggiornamento la procedura si interrompe con un messaggio di errore.",
    "Abbiamo già verificato le anagrafiche dei dipendenti coinvolti e i parametri del contratto applicato.",
    "Il problema si presenta solo per alcune matricole, in particolare per i rapporti a tempo parziale.",
    "La versione installata è la {versione} su Windows Server 2019, database aggiornato ieri sera.",
    "Vi chiediamo di verificare con urgenza perché la scadenza dell'elaborazione è fissata per venerdì.",
    "In allegato trovate lo screenshot dell'errore e l'estratto del log dell'applicazione.",
    "Restiamo a disposizione per un collegamento in assistenza remota nella giornata di domani.",
    "Lo stesso controllo eseguito il mese scorso aveva dato un risultato corretto.",
]
MONTHS = ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "settembre", "ottobre", "novembre"]
# a support backlog a few years old: most tickets are closed
STATE_WEIGHTS = {
    "closed": 70,
    "resolved": 5,
    "new": 4,
    "waiting_support": 5,
    "waiting_customer": 5,
    "in_progress": 4,
    "planned": 2,
    "waiting_development": 2,
    "blocked": 1,
    "discarded": 2,
}
BENCH_LOGIN, BENCH_PASSWORD = "bench.portal@example.com", "bench"


def subject(rng):
    return rng.choice(SUBJECTS).format(
        mese=rng.choice(MONTHS),
        trimestre=rng.choice(["primo", "secondo", "terzo"]),
        versione=f"06.0{rng.randint(5, 9)}.0{rng.randint(0, 3)}",
    )


def description(rng):
    text, sentences = "", SENTENCES[:]
    rng.shuffle(sentences)
    for sentence in sentences:
        if len(text) > 450:
            break
        text += sentence.format(versione=f"06.0{rng.randint(5, 9)}.0{rng.randint(0, 3)}") + " "
    return f"<p>{text.strip()}</p>"


def ensure_partners(env, addon):
    """11 companies × 3 contacts, the benchmark portal user in the first. Idempotent."""
    Partner = env["res.partner"]
    companies = Partner.search([("name", "=like", "Cliente __ S.r.l."), ("is_company", "=", True)], order="name")
    if not companies:
        companies = Partner.create([{"name": f"Cliente {i:02d} S.r.l.", "is_company": True} for i in range(1, 12)])
        Partner.create(
            [
                {
                    "name": f"Contatto {c} {company.name}",
                    "parent_id": company.id,
                    "email": f"contatto{c}.{company.id}@example.com",
                }
                for company in companies
                for c in range(1, 4)
            ]
        )
    user = env["res.users"].search([("login", "=", BENCH_LOGIN)])
    if not user:
        user = (
            env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "Bench Portal",
                    "login": BENCH_LOGIN,
                    "password": BENCH_PASSWORD,
                    "email": BENCH_LOGIN,
                    "group_ids": [(6, 0, [env.ref("base.group_portal").id])],
                }
            )
        )
        user.partner_id.parent_id = companies[0]
    contacts = Partner.search([("parent_id", "in", companies.ids)])
    return companies, contacts, user


def ensure_categories(env, model):
    Category = env[model]
    names = ["Paghe", "Presenze", "Contabilità", "HR Portal", "Installazione", "F24"]
    existing = Category.search([("name", "in", names)])
    missing = [n for n in names if n not in existing.mapped("name")]
    return existing | Category.create([{"name": n} for n in missing])


def ticket_rows(env, addon, n, contacts, categories, rng):
    """Yield tuples of column values for ``n`` tickets, oldest first."""
    support_uid = SUPERUSER_ID
    states = list(STATE_WEIGHTS)
    weights = list(STATE_WEIGHTS.values())
    start = datetime.now() - timedelta(days=3 * 365)
    step = timedelta(days=3 * 365) / max(n, 1)
    contact_company = {c.id: c.commercial_partner_id.id for c in contacts}
    contact_ids = list(contact_company)
    if addon == "peer":
        stages = env["helpdesk.ticket.stage"].search([])
        by_flag = {"closed": stages.filtered("closed").ids, "open": stages.filtered(lambda s: not s.closed).ids}
        channel = env.ref("helpdesk_mgmt.helpdesk_ticket_channel_web").id
    for i in range(n):
        created = start + step * i
        partner = rng.choice(contact_ids)
        state = rng.choices(states, weights)[0]
        name, desc = subject(rng), description(rng)
        category = rng.choice(categories.ids)
        if addon == "ours":
            done = state in ("closed", "discarded")
            taken = created + timedelta(hours=rng.randint(1, 8)) if state != "new" else None
            yield (
                f"TT{i + 1:06d}",
                name,
                desc,
                rng.choice(["clarification", "defect", "request"]),
                rng.choice("0012"),
                rng.choice(["non_blocking", "non_blocking", "blocking"]),
                category,
                partner,
                contact_company[partner],
                support_uid if state != "new" else None,
                1,
                rng.choice(["portal", "portal", "email", "phone"]),
                state,
                done,
                created + timedelta(hours=8),
                taken,
                created + timedelta(days=2) if state in ("resolved", "closed") else None,
                created + timedelta(days=5) if done else None,
                created,
                created,
                SUPERUSER_ID,
                SUPERUSER_ID,
            )
        else:
            closed = state in ("closed", "discarded", "resolved")
            stage = rng.choice(by_flag["closed" if closed else "open"])
            yield (
                f"HT{i + 1:06d}",
                name,
                desc,
                stage,
                partner,
                contact_company[partner],
                1,
                channel,
                category,
                rng.choice("0123"),
                "normal",
                False,
                rng.choice(["Contatto"]),
                f"contatto{partner}@example.com",
                True,
                created,
                created,
                SUPERUSER_ID,
                SUPERUSER_ID,
            )


OURS_COLUMNS = (
    "number, name, description, ticket_type, priority, importance, category_id, partner_id, "
    "commercial_partner_id, user_id, company_id, channel, state, is_done, sla_deadline, date_taken, "
    "date_resolved, date_closed, create_date, write_date, create_uid, write_uid"
)
PEER_COLUMNS = (
    "number, name, description, stage_id, partner_id, commercial_partner_id, company_id, channel_id, "
    "category_id, priority, kanban_state, unattended, partner_name, partner_email, active, "
    "create_date, write_date, create_uid, write_uid"
)


def seed(env, addon, n, rng):
    cr = env.cr
    companies, contacts, user = ensure_partners(env, addon)
    table, model = ("terasoft_ticket", "terasoft.ticket") if addon == "ours" else ("helpdesk_ticket", "helpdesk.ticket")
    categories = ensure_categories(env, "terasoft.ticket.category" if addon == "ours" else "helpdesk.ticket.category")
    env.flush_all()
    cr.execute(f"SELECT count(*) FROM {table}")
    have = cr.fetchone()[0]
    if have >= n:
        print(f"{env.cr.dbname}: already {have} tickets")
        return user
    columns = OURS_COLUMNS if addon == "ours" else PEER_COLUMNS
    rows = ticket_rows(env, addon, n, contacts, categories, rng)
    batch = []
    t0 = time.time()
    for row in rows:
        batch.append(row)
        if len(batch) == 5000:
            execute_values(cr, f"INSERT INTO {table} ({columns}) VALUES %s", batch)
            batch = []
    if batch:
        execute_values(cr, f"INSERT INTO {table} ({columns}) VALUES %s", batch)
    if addon == "peer":  # the ORM would have kept the stored related flag in sync
        cr.execute(
            "UPDATE helpdesk_ticket t SET unattended = s.unattended FROM helpdesk_ticket_stage s "
            "WHERE s.id = t.stage_id"
        )
    print(f"{n} tickets inserted in {time.time() - t0:.1f}s")

    # public messages: 3 on 10% of the tickets, 20 on one open ticket of the benchmark company
    t0 = time.time()
    subtype = env.ref("mail.mt_comment").id
    cr.execute(f"SELECT id, partner_id, create_date FROM {table} ORDER BY id")
    tickets = cr.fetchall()
    messages = []
    for ticket_id, partner_id, created in rng.sample(tickets, len(tickets) // 10):
        for k in range(3):
            author = partner_id if k % 2 == 0 else env.ref("base.partner_admin").id
            messages.append(
                (
                    model,
                    ticket_id,
                    "comment",
                    subtype,
                    author,
                    f"<p>{SENTENCES[k]}</p>",
                    created + timedelta(hours=k + 1),
                    False,
                )
            )
    cr.execute(f"SELECT id FROM {table} WHERE commercial_partner_id = %s ORDER BY id DESC LIMIT 1", [companies[0].id])
    big_ticket = cr.fetchone()[0]
    for k in range(20):
        messages.append(
            (
                model,
                big_ticket,
                "comment",
                subtype,
                user.partner_id.id,
                f"<p>Messaggio {k + 1}: {SENTENCES[k % len(SENTENCES)]}</p>",
                datetime.now() - timedelta(hours=40 - k),
                False,
            )
        )
    for i in range(0, len(messages), 5000):
        execute_values(
            cr,
            "INSERT INTO mail_message (model, res_id, message_type, subtype_id, author_id, body, date, "
            "is_internal, create_date, write_date, create_uid, write_uid) VALUES %s",
            [m + (m[6], m[6], SUPERUSER_ID, SUPERUSER_ID) for m in messages[i : i + 5000]],
        )
    print(f"{len(messages)} messages inserted in {time.time() - t0:.1f}s (ticket with 20 messages: id {big_ticket})")

    # numbering goes on after the seeded numbers
    if addon == "ours":
        env.ref("terasoft_portal.ir_sequence_ticket").number_next = n + 1
        # the SLA rows the ORM would have created (one set-based INSERT, timed: the migration cost)
        t0 = time.time()
        env["terasoft.ticket"]._terasoft_backfill_sla()
        print(f"SLA rows backfilled in {time.time() - t0:.1f}s")
    cr.execute("ANALYZE")
    env.invalidate_all()
    return user


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--addon", choices=["ours", "peer", "bare"], required=True)
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    config.parse_config(["-c", args.config, "-d", args.db, "--no-http"])
    registry = Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        if args.addon == "bare":
            ensure_partners(env, "bare")
        else:
            seed(env, args.addon, args.tickets, random.Random(args.seed))


if __name__ == "__main__":
    main()
