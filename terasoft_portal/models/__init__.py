from . import terasoft_product
from . import terasoft_ticket_category
from . import terasoft_ticket
from . import terasoft_ticket_portal
from . import terasoft_attachment_download_log
from . import res_partner
from . import terasoft_ticket_state_log
from . import res_config_settings
