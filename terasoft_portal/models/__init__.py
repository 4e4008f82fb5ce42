from . import terasoft_product
from . import terasoft_ticket_category
from . import terasoft_ticket
from . import res_partner
from . import terasoft_ticket_state_log
from . import terasoft_ticket_mail
from . import res_company
from . import res_config_settings
