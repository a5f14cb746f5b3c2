"""Install the ledger's one-round-trip entry point on PostgreSQL (escrow/sql/post_entry.sql).

SQLite keeps the Python path of escrow/services/ledger.py; there this migration does nothing.
"""
from pathlib import Path

from django.db import migrations

SQL = (Path(__file__).resolve().parent.parent / "sql" / "post_entry.sql").read_text(encoding="utf-8")
DROP = ("DROP FUNCTION IF EXISTS anxinbao_post_entry(varchar, varchar, bigint, bigint, timestamptz, text[], "
        "numeric[], text[], bigint[], bigint[], text[])")


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SQL)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("escrow", "0003_operation_execution_errors")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
