import { registry } from "@web/core/registry";

/**
 * A new ticket sent without its category comes back with the error tied to the field
 * (aria-invalid, aria-describedby) and the focus on it.
 */
registry.category("web_tour.tours").add("terasoft_portal_form_errors_tour", {
    url: "/my/tickets/new",
    steps: () => [
        { trigger: "input[name='name']", run: "edit Prova errori accessibili" },
        { trigger: "textarea[name='description']", run: "edit Descrizione di prova." },
        { trigger: "button.o_terasoft_save", run: "click", expectUnloadPage: true },
        {
            content: "The invalid field says so and points at its message",
            trigger: "select[name='category_id'].is-invalid[aria-invalid='true'][aria-describedby]",
            run() {
                const message = document.getElementById(this.anchor.getAttribute("aria-describedby"));
                if (!message || !message.textContent.trim()) {
                    throw new Error("aria-describedby does not lead to the error message");
                }
                if (document.activeElement !== this.anchor) {
                    throw new Error("the focus is not on the first invalid field");
                }
            },
        },
    ],
});
