import { Interaction } from "@web/public/interaction";
import { registry } from "@web/core/registry";
import { rpc } from "@web/core/network/rpc";
import { debounce } from "@web/core/utils/timing";

/**
 * New ticket form: while the customer types the title, show up to 5 FAQ entries that may
 * already answer the question ("Forse la risposta è già qui").
 */
export class TicketFaqSuggestions extends Interaction {
    static selector = ".o_terasoft_ticket_form";
    dynamicContent = {
        "input[name='name']": { "t-on-input": this.onTitleInput },
    };

    setup() {
        this.box = this.el.querySelector(".o_terasoft_faq_suggestions");
        this.list = this.el.querySelector(".o_terasoft_faq_list");
        this.debouncedSuggest = debounce(this.suggest.bind(this), 300);
    }

    onTitleInput(ev) {
        this.debouncedSuggest(ev.currentTarget.value);
    }

    /**
     * The excerpt as DOM nodes: the server sends pieces of plain text, the matched words
     * flagged; each piece becomes a text node (in a <mark> when matched). No HTML is parsed.
     */
    renderExcerpt(parts) {
        return parts.map((part) => {
            const text = document.createTextNode(part.text);
            if (!part.mark) {
                return text;
            }
            const mark = document.createElement("mark");
            mark.append(text);
            return mark;
        });
    }

    async suggest(term) {
        const entries = term.trim().length >= 3
            ? await this.waitFor(rpc("/my/tickets/faq_suggest", { term }))
            : [];
        this.list.replaceChildren(
            ...entries.map((entry) => {
                const item = document.createElement("li");
                const link = document.createElement("a");
                link.href = entry.url;
                link.target = "_blank";
                link.textContent = entry.name;  // text only: never HTML from the server
                item.append(link);
                if (entry.excerpt_parts && entry.excerpt_parts.length) {
                    const excerpt = document.createElement("div");
                    excerpt.className = "small text-muted o_terasoft_faq_suggestion_excerpt";
                    excerpt.append(...this.renderExcerpt(entry.excerpt_parts));
                    item.append(excerpt);
                }
                return item;
            })
        );
        this.box.classList.toggle("d-none", !entries.length);
    }
}

/**
 * New ticket form: an error shown by the server goes away as soon as its field is corrected
 * (a required field filled in, another value chosen). The server still validates everything.
 */
export class TicketFormErrors extends Interaction {
    static selector = ".o_terasoft_ticket_form";
    dynamicContent = {
        ".is-invalid": {
            "t-on-input": this.onFieldChange,
            "t-on-change": this.onFieldChange,
        },
    };

    onFieldChange(ev) {
        const field = ev.currentTarget;
        const required = field.hasAttribute("required") || field.dataset.required;
        if (required && !field.value.trim()) {
            return;
        }
        field.classList.remove("is-invalid");
        field.removeAttribute("aria-invalid");
        const feedback = this.el.querySelector(`[data-error-for='${field.name}']`);
        if (feedback) {
            feedback.classList.add("d-none");
        }
        if (!this.el.querySelector(".is-invalid")) {
            const summary = document.querySelector(".o_terasoft_form_errors");
            if (summary) {
                summary.classList.add("d-none");
            }
        }
    }
}

registry
    .category("public.interactions")
    .add("terasoft_portal.ticket_faq_suggestions", TicketFaqSuggestions)
    .add("terasoft_portal.ticket_form_errors", TicketFormErrors);
