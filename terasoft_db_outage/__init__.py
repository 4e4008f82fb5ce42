from . import models
from .db_outage import post_load
