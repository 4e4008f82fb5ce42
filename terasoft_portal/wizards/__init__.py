from . import terasoft_ticket_move
from . import terasoft_ticket_merge
