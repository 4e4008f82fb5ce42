from . import test_banner
