import { registry } from "@web/core/registry";

/**
 * A double click on "Save" sends the new ticket once (form_submit_once.js). The form's
 * idempotency_key is removed first, so that only the browser side is tested here (the
 * server's protection is tested in tests/test_idempotency.py).
 */
registry.category("web_tour.tours").add("terasoft_portal_submit_once_tour", {
    url: "/my/tickets/new",
    steps: () => [
        { trigger: "input[name='name']", run: "edit Doppio clic nel browser" },
        { trigger: "select[name='category_id']", run: "selectByLabel Paghe" },
        { trigger: "textarea[name='description']", run: "edit Descrizione di prova." },
        {
            content: "Two clicks on Save, the second before the page leaves",
            trigger: "button.o_terasoft_save",
            run() {
                const button = this.anchor;
                button.form.querySelector("input[name='idempotency_key']").remove();
                button.click();
                // the second click once the first request is on its way (a real double click)
                setTimeout(() => button.click(), 150);
            },
            expectUnloadPage: true,
        },
        { trigger: ".o_portal_wrap:contains('Doppio clic nel browser')" },
    ],
});
