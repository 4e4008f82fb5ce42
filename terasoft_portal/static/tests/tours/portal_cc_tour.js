import { registry } from "@web/core/registry";

/**
 * Giulia (Alfa Paghe, Italian), on a phone: puts two colleagues in CC of her ticket, choosing
 * them from the list the portal offers, then takes one out again.
 */
registry.category("web_tour.tours").add("terasoft_portal_cc_tour", {
    url: "/web/login",
    steps: () => [
        { trigger: "input[name='login']", run: "edit giulia.bianchi@example.com" },
        { trigger: "input[name='password']", run: "edit demo" },
        { trigger: "button[type='submit']:contains('Log in')", run: "click", expectUnloadPage: true },
        { trigger: "a[href$='/my/tickets']:contains('Assistenza Clienti')", run: "click", expectUnloadPage: true },
        { trigger: "a:contains('Licenza scaduta in copia')", run: "click", expectUnloadPage: true },
        { trigger: "#cc h4:contains('Colleghi in copia')" },
        { trigger: ".o_terasoft_cc_empty:contains('Nessun collega in copia')" },
        { trigger: "label[for='terasoft_cc_partner']:contains('Collega da tenere informato')" },
        { trigger: "select[name='partner_id']", run: "selectByLabel Paolo Ferri" },
        { trigger: "button.o_terasoft_cc_add:contains('Aggiungi')", run: "click", expectUnloadPage: true },
        { trigger: ".o_terasoft_cc_row:contains('Paolo Ferri')" },
        { trigger: "select[name='partner_id']", run: "selectByLabel Marco Rossi" },
        { trigger: "button.o_terasoft_cc_add:contains('Aggiungi')", run: "click", expectUnloadPage: true },
        {
            content: "Both colleagues listed; the page fits the phone's width",
            trigger: ".o_terasoft_cc_row:contains('Marco Rossi') ~ .o_terasoft_cc_row:contains('Paolo Ferri'), .o_terasoft_cc_row:contains('Paolo Ferri') ~ .o_terasoft_cc_row:contains('Marco Rossi')",
            run() {
                const width = document.documentElement.clientWidth;
                if (document.documentElement.scrollWidth > width) {
                    throw new Error(`The page scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
                }
                for (const button of document.querySelectorAll(".o_terasoft_cc_remove, .o_terasoft_cc_add")) {
                    if (button.getBoundingClientRect().right > width) {
                        throw new Error("A CC button is cut off on the right");
                    }
                }
            },
        },
        { trigger: ".o_terasoft_cc_row:contains('Marco Rossi') button.o_terasoft_cc_remove:contains('Rimuovi')", run: "click", expectUnloadPage: true },
        { trigger: "#cc:not(:has(.o_terasoft_cc_row:contains('Marco Rossi')))" },
        { trigger: ".o_terasoft_cc_row:contains('Paolo Ferri')" },
    ],
});
