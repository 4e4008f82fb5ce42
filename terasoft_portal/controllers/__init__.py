from . import home
from . import portal
from . import faq
from . import documents
from . import contacts
from . import access
from . import password
from . import account
