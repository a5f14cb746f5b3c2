import pytest


@pytest.fixture
def projects(demo, ledger_ok):
    """Two projects of enterprise 1 (one with a forfeited milestone) and one of enterprise 2.

    Their money moves through the real ledger, so every test using them ends with the ledger's
    invariants checked (``ledger_ok``)."""
    from .factories import make_project

    a = make_project(enterprise=demo.ent1, platform=demo.plat1, created_by=demo.enterprise, scheme=demo.scheme,
                     seq=7, fail_second=True, actor=demo.custodian)
    b = make_project(enterprise=demo.ent1, platform=demo.plat2, created_by=demo.enterprise, scheme=demo.scheme,
                     seq=8, actor=demo.custodian)
    c = make_project(enterprise=demo.ent2, platform=demo.plat1, created_by=demo.enterprise2, scheme=demo.scheme,
                     seq=9, actor=demo.custodian)
    return a, b, c
