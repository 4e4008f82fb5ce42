from . import test_mail_once
