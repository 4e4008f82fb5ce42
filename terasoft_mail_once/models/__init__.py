from . import terasoft_mail_handoff
from . import mail_mail
