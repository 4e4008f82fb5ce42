import { registry } from "@web/core/registry";

/** The login page's steps for ``login`` (password "demo"). */
function login(email) {
    return [
        { trigger: "input[name='login']", run: `edit ${email}` },
        { trigger: "input[name='password']", run: "edit demo" },
        { trigger: "button[type='submit']:contains('Log in')", run: "click", expectUnloadPage: true },
    ];
}

/**
 * Giulia (Alfa Paghe, Italian) looks for an answer in the FAQ, does not find it enough and
 * opens a ticket from the entry: the form comes filled in with the question and its category.
 */
registry.category("web_tour.tours").add("terasoft_portal_faq_ticket_tour", {
    url: "/web/login",
    steps: () => [
        ...login("giulia.bianchi@example.com"),
        { trigger: "a[href='/my/faq']:contains('Faq'):contains('Cerca risposte alle tue domande')", run: "click", expectUnloadPage: true },
        { trigger: "input[name='search']", run: "edit tredicesima contratto" },
        { trigger: "form.o_terasoft_faq_search button[type='submit']", run: "click", expectUnloadPage: true },
        {
            content: "The excerpt is clean text with the matched words highlighted",
            trigger: ".o_terasoft_faq_excerpt mark",
        },
        { trigger: ".o_terasoft_faq_results a:contains('Come si imposta la tredicesima in tour?')", run: "click", expectUnloadPage: true },
        { trigger: "a.o_terasoft_faq_new_ticket:contains('Apri un ticket su questo argomento')", run: "click", expectUnloadPage: true },
        { trigger: "input[name='name']:value('Come si imposta la tredicesima in tour?')" },
        { trigger: "select[name='category_id'] option:selected:contains('Paghe'):not(:visible)" },
        { trigger: "label[for='ticket_name'] .text-danger:contains('*')" },
        { trigger: "textarea[name='description']", run: "edit Versione 06.07.00: la tredicesima non viene calcolata per i part-time." },
        { trigger: "button.o_terasoft_save:contains('Salva')", run: "click", expectUnloadPage: true },
        { trigger: "h3:contains('Come si imposta la tredicesima in tour?')" },
        { trigger: ".o_terasoft_state_help:contains('Nuova richiesta di assistenza')" },
        { trigger: ".o_terasoft_no_solution:contains('Nessuna soluzione ancora')" },
    ],
});

/**
 * Giulia follows a resolved ticket: the page says what to do and when it closes by itself;
 * she closes it after confirming.
 */
registry.category("web_tour.tours").add("terasoft_portal_close_resolved_tour", {
    url: "/web/login",
    steps: () => [
        ...login("giulia.bianchi@example.com"),
        { trigger: "a[href='/my/tickets']:contains('Assistenza Clienti')", run: "click", expectUnloadPage: true },
        { trigger: "h4:contains('Ticket aperti dell')" },
        { trigger: "#open_tickets ~ div a:contains('IBAN verificato in tour')", run: "click", expectUnloadPage: true },
        { trigger: ".o_terasoft_state_badge:contains('Risolto')" },
        { trigger: ".o_terasoft_resolved_help:contains('Senza risposta si chiuderà automaticamente il')" },
        { trigger: ".o_terasoft_solution:contains('IBAN aggiornato')" },
        { trigger: ".o_terasoft_ticket_buttons a:contains('Indietro') ~ a:contains('Nuovo Ticket')" },
        { trigger: "button.o_terasoft_close_ticket:contains('Chiudi questo ticket')", run: "click" },
        { trigger: "button.o_terasoft_confirm_close:visible", run: "click", expectUnloadPage: true },
        { trigger: ".o_terasoft_state_badge:contains('Chiuso')" },
    ],
});

/** Giulia updates her preferences: phone and language, without touching her company. */
registry.category("web_tour.tours").add("terasoft_portal_preferences_tour", {
    url: "/web/login",
    steps: () => [
        ...login("giulia.bianchi@example.com"),
        { trigger: "a[href='/my/account']:contains('Mie preferenze')", run: "click", expectUnloadPage: true },
        { trigger: "h3:contains('Mie preferenze')" },
        { trigger: ".breadcrumb-item.active:contains('Mie preferenze')" },
        { trigger: "#terasoft_company_name_div:contains('Alfa Paghe S.r.l.')" },
        { trigger: "input[name='phone']", run: "edit +39 02 5555 0101" },
        { trigger: "select[name='lang']", run: "select it_IT" },
        { trigger: "#save_address", run: "click", expectUnloadPage: true },
        { trigger: "a[href='/my/tickets']:contains('Assistenza Clienti')" },
    ],
});

/** Franco (Gamma, insolvent) is told of the block on the home page and before writing a ticket. */
registry.category("web_tour.tours").add("terasoft_portal_insolvent_home_tour", {
    url: "/web/login",
    steps: () => [
        ...login("franco.neri@example.com"),
        { trigger: ".o_terasoft_blocked_home:contains('Contattare il reparto amministrativo')" },
        { trigger: "a[href='/my/tickets']:contains('Assistenza Clienti')", run: "click", expectUnloadPage: true },
        { trigger: "a.o_terasoft_new_ticket:contains('Nuovo Ticket')", run: "click", expectUnloadPage: true },
        { trigger: ".alert.o_terasoft_blocked:contains('bloccata per motivi amministrativi')" },
        { trigger: "input[name='name']" },
    ],
});
