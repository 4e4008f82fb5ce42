from . import terasoft_ticket
from . import terasoft_vte_import
