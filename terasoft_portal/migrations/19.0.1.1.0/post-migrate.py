"""19.0.1.1.0: the closing email asks "Com'è andata?" (satisfaction rating).

The ticket update template is noupdate (admins may have reworded it), so an upgrade does not
reload its body: add only the rating block, in every language of the body, just before the
link to the ticket, and only where the template still has that link and not the block yet.
"""

from psycopg2.extras import Json

RATING_BLOCK = '<t t-if="object.state == \'closed\'" t-call="terasoft_portal.ticket_rating_email"/>\n    '
LINK = '<p><a t-att-href="object._portal_link()"'


def add_rating_block(cr):
    cr.execute(
        """
        SELECT template.id, template.body_html
          FROM mail_template template
          JOIN ir_model_data data ON data.model = 'mail.template' AND data.res_id = template.id
         WHERE data.module = 'terasoft_portal' AND data.name = 'mail_template_ticket_update'
        """
    )
    row = cr.fetchone()
    if not row or not row[1]:
        return False
    template_id, body = row
    changed = False
    for lang, html in body.items():
        if html and "ticket_rating_email" not in html and LINK in html:
            body[lang] = html.replace(LINK, RATING_BLOCK + LINK, 1)
            changed = True
    if changed:
        cr.execute("UPDATE mail_template SET body_html = %s WHERE id = %s", [Json(body), template_id])
    return changed


def migrate(cr, version):
    add_rating_block(cr)
