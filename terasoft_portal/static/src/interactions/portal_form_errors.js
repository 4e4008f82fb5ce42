import { Interaction } from "@web/public/interaction";
import { registry } from "@web/core/registry";

/**
 * A portal form rendered back with errors (new ticket, access request, ...): each invalid
 * field tells assistive technologies so (aria-invalid) and which message explains it
 * (aria-describedby), and the focus goes to the first one (WCAG 3.3.1, 3.3.3). The server
 * marks the fields with Bootstrap's "is-invalid" and the messages with "invalid-feedback"
 * (optionally data-error-for="<field name>").
 */
export class PortalFormErrors extends Interaction {
    static selector = "form:has(.is-invalid)";

    start() {
        const fields = [...this.el.querySelectorAll(".is-invalid")];
        fields.forEach((field, index) => {
            field.setAttribute("aria-invalid", "true");
            const message = (field.name && this.el.querySelector(`[data-error-for="${CSS.escape(field.name)}"]`))
                || field.parentElement.querySelector(".invalid-feedback");
            if (message) {
                message.id ||= `o_terasoft_error_${field.name || index}`;
                const ids = new Set((field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
                ids.add(message.id);
                field.setAttribute("aria-describedby", [...ids].join(" "));
            }
        });
        fields[0]?.focus();
    }
}

registry.category("public.interactions").add("terasoft_portal.portal_form_errors", PortalFormErrors);
