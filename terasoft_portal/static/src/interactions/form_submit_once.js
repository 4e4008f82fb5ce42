import { Interaction } from "@web/public/interaction";
import { registry } from "@web/core/registry";

/**
 * Portal forms that create something (new ticket, comment, access request, ...) are sent
 * once: after the first submit the second one is ignored and the submit buttons are
 * disabled. A convenience only: the server answers a form sent twice with the same
 * idempotency_key with the first result (terasoft.idempotency.key).
 *
 * The buttons are disabled after the browser has read the form (a disabled submitter would
 * not send its name/value, e.g. the plan's "answer"). Coming back to the page with the
 * browser's Back button (page restored from the back/forward cache) enables them again.
 */
export class FormSubmitOnce extends Interaction {
    static selector = "form[data-terasoft-once]";
    dynamicContent = {
        _root: { "t-on-submit": this.onSubmit },
        _window: { "t-on-pageshow": this.onPageShow },
    };

    setup() {
        this.sent = false;
    }

    onSubmit(ev) {
        if (this.sent) {
            ev.preventDefault();
            return;
        }
        this.sent = true;
        this.waitForTimeout(() => {
            for (const button of this.buttons()) {
                if (!button.disabled) {
                    button.disabled = true;
                    button.dataset.terasoftSent = "1";
                    button.setAttribute("aria-busy", "true");
                }
            }
        }, 0);
    }

    onPageShow(ev) {
        if (ev.persisted) {
            this.sent = false;
            for (const button of this.el.querySelectorAll("[data-terasoft-sent]")) {
                button.disabled = false;
                delete button.dataset.terasoftSent;
                button.removeAttribute("aria-busy");
            }
        }
    }

    buttons() {
        return this.el.querySelectorAll("button[type='submit'], input[type='submit']");
    }
}

registry.category("public.interactions").add("terasoft_portal.form_submit_once", FormSubmitOnce);
