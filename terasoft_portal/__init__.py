from . import controllers
from . import models
from . import wizards
from .db_outage import post_load
