"""Fixtures of the escrow tests."""
from __future__ import annotations

import pytest
from django.db import connection


@pytest.fixture(params=["sql", "python"])
def ledger_path(request, settings):
    """Run a ledger test through both entry paths: the PostgreSQL function and the Python one.

    On SQLite only the Python path exists; its "sql" run skips with that reason.
    """
    if request.param == "sql" and connection.vendor != "postgresql":
        pytest.skip("the one-round-trip entry point is a PostgreSQL function (SQLite posts in Python)")
    settings.ANXINBAO_LEDGER_SQL = request.param == "sql"
    from escrow.services.ledger import uses_sql_path

    assert uses_sql_path() is (request.param == "sql")
    return request.param
