"""The soak that proves the money (issue 14): random valid operations across the whole workflow from
concurrent workers, a real Celery worker killed and restarted, then every invariant checked.

Entry point: ``dashboards.soak.runner.run_soak`` (``manage.py soak``). This package module imports nothing,
so ``worker`` can be used before Django is set up (the test suite's worker fixture does).
"""
