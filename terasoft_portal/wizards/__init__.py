from . import terasoft_ticket_move
