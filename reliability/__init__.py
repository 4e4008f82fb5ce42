"""terasoft_portal reliability suite: load, faults, hostile input and isolation matrix.

``run.py`` drives a live Odoo (``make reliability``); ``tests/test_reliability_quick.py``
reuses :mod:`matrix`, :mod:`hostile` and :mod:`client` inside an HttpCase (``make test``).
"""
