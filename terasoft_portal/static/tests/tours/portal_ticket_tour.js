import { registry } from "@web/core/registry";

/**
 * Giulia Bianchi (Alfa Paghe, Italian) logs in, opens a ticket with an attachment, finds it in
 * the list, comments it and closes it after confirming.
 */
registry.category("web_tour.tours").add("terasoft_portal_ticket_tour", {
    url: "/web/login",
    steps: () => [
        { trigger: "input[name='login']", run: "edit giulia.bianchi@example.com" },
        { trigger: "input[name='password']", run: "edit demo" },
        { trigger: "button[type='submit']:contains('Log in')", run: "click", expectUnloadPage: true },
        {
            content: "Portal home, in Italian",
            trigger: "a[href$='/my/tickets']:contains('Assistenza Clienti')",
            run: "click",
            expectUnloadPage: true,
        },
        { trigger: "h4:contains('Ticket aperti dell')" },  // "Tutti": the company's open tickets
        { trigger: "a.o_terasoft_new_ticket:contains('Nuovo Ticket')", run: "click", expectUnloadPage: true },
        { trigger: "input[name='name']", run: "edit Errore stampa F24 di dicembre" },
        { trigger: "select[name='category_id']", run: "selectByLabel Paghe" },
        { trigger: "select[name='priority']", run: "select 2" },
        { trigger: "textarea[name='description']", run: "edit Versione 06.07.00: la stampa del modello F24 si interrompe." },
        {
            content: "Attach a log file",
            trigger: "input[name='attachments']",
            run() {
                const transfer = new DataTransfer();
                transfer.items.add(new File(["log di prova"], "log_errore.txt", { type: "text/plain" }));
                this.anchor.files = transfer.files;
            },
        },
        { trigger: "button.o_terasoft_save:contains('Salva')", run: "click", expectUnloadPage: true },
        { trigger: ".card-header:contains('Informazioni Ticket')" },
        { trigger: ".o_terasoft_attachment a:contains('log_errore.txt')" },
        { trigger: "a.btn:contains('Indietro')", run: "click", expectUnloadPage: true },
        {
            content: "The new ticket is in the open tickets",
            trigger: "#open_tickets ~ div a:contains('Errore stampa F24 di dicembre')",
            run: "click",
            expectUnloadPage: true,
        },
        { trigger: "textarea[name='comment']", run: "edit Allego anche il file di log richiesto." },
        { trigger: "button.o_terasoft_send_comment", run: "click", expectUnloadPage: true },
        { trigger: ".o_terasoft_comment:contains('Allego anche il file di log richiesto.')" },
        { trigger: "button.o_terasoft_close_ticket:contains('Chiudi questo ticket')", run: "click" },
        { trigger: "button.o_terasoft_confirm_close:visible", run: "click", expectUnloadPage: true },
        { trigger: ".badge:contains('Chiuso')" },
    ],
});
