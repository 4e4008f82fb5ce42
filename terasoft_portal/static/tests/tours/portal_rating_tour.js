import { registry } from "@web/core/registry";

/**
 * Giulia Bianchi (Alfa Paghe, Italian) opens the "Così così" link of the closing email of her
 * ticket, without logging in: the page asks "Com'è andata?" with that answer chosen; she
 * changes her mind to "Insoddisfatto", writes a comment and sends it; the thank-you page
 * shows her rating and comment.
 */
registry.category("web_tour.tours").add("terasoft_portal_rating_tour", {
    steps: () => [
        { trigger: "h1:contains(\"Com'è andata?\")" },
        { content: "The answer of the link is chosen", trigger: "input#rate_3:checked" },
        { trigger: "label.o_terasoft_rate_1:contains('Insoddisfatto')", run: "click" },
        { trigger: "input#rate_1:checked" },
        {
            trigger: "textarea[name='feedback']",
            run: "edit La soluzione è arrivata dopo una settimana.",
        },
        { trigger: "button.o_terasoft_rating_send:contains('Invia')", run: "click", expectUnloadPage: true },
        { trigger: "h1.o_terasoft_rating_thanks:contains('Grazie per il tuo giudizio!')" },
        { trigger: ".o_terasoft_rating_value:contains('Insoddisfatto')" },
        { trigger: ".o_terasoft_rating_feedback:contains('La soluzione è arrivata dopo una settimana.')" },
    ],
});
