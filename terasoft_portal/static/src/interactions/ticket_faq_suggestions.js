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
                if (entry.excerpt) {
                    const excerpt = document.createElement("div");
                    excerpt.className = "small text-muted";
                    excerpt.textContent = entry.excerpt;
                    item.append(excerpt);
                }
                return item;
            })
        );
        this.box.classList.toggle("d-none", !entries.length);
    }
}

registry
    .category("public.interactions")
    .add("terasoft_portal.ticket_faq_suggestions", TicketFaqSuggestions);
