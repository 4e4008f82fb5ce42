from . import test_vte_import
