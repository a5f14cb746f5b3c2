"""The backup and restore drill (issue 14, point 8; docs/operations.md, "Backups"): ``bin/drill`` dumps the
database and the stored files, restores them into a fresh database and verifies the restored copy."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from core.models import BlacklistEntry
from escrow.models import JournalEntry
from escrow.services.seal import chains_seal
from escrow.tests.factories import deposit

ROOT = Path(__file__).resolve().parent.parent
DRILL = ROOT / "bin" / "drill"

pytestmark = pytest.mark.django_db(transaction=True)   # pg_dump and the drill's processes see committed rows


def on_sqlite() -> bool:
    return connection.vendor == "sqlite"


@pytest.fixture
def source(demo, tmp_path) -> dict:
    """A small seeded database, committed: sealed and unsealed entries, and one stored file.

    On SQLite the test database lives in memory: it is copied to a file that the drill's processes can open."""
    deposit(demo, project=81, seq=1, amount="2500.00")
    chains_seal()
    deposit(demo, project=82, seq=1, amount="120.50")   # written after the last seal: sealed by the restore's check
    media = tmp_path / "media"
    (media / "blacklist" / "2026").mkdir(parents=True)
    (media / "blacklist" / "2026" / "evidence.pdf").write_bytes(b"%PDF-1.4 evidence")
    BlacklistEntry.objects.create(organization=demo.ent2, action="add", reason="虚报投入", actor=demo.reviewer,
                                  evidence="blacklist/2026/evidence.pdf")
    if on_sqlite():
        import sqlite3

        path = tmp_path / "source.sqlite3"
        target = sqlite3.connect(path)
        connection.ensure_connection()
        connection.connection.backup(target)
        target.close()
        url = f"sqlite:///{path}"
    else:
        db = connection.settings_dict
        url = f"postgres://{db['USER']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {"url": url, "media": media, "dir": tmp_path / "backups"}


def scratch(tmp_path: Path, name: str) -> str:
    """A restored copy's name: a scratch PostgreSQL database of this checkout, or a new SQLite file."""
    return str(tmp_path / f"{name}.sqlite3") if on_sqlite() else f"anx_chain_{name}_{os.getpid()}"


def drill(source: dict, *args: str) -> tuple[int, str]:
    env = {**os.environ, "DATABASE_URL": source["url"]}
    done = subprocess.run([sys.executable, str(DRILL), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    return done.returncode, done.stdout + done.stderr


def database_exists(name: str) -> bool:
    if on_sqlite():
        return Path(name).exists()
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cur.fetchone() is not None


def dropped(name: str) -> None:
    if not on_sqlite():
        subprocess.run(["dropdb", "--if-exists", "-h", connection.settings_dict["HOST"] or "localhost",
                        "-U", connection.settings_dict["USER"], name], check=False, capture_output=True)


def check_drill_end_to_end(source: dict, tmp_path: Path) -> None:
    name = scratch(tmp_path, "drill")
    code, out = drill(source, "run", "--dir", str(source["dir"]), "--database", name,
                      "--media-root", str(source["media"]))
    assert code == 0, out
    assert "ledger OK" in out and "hash chains intact" in out
    assert "files OK: 1 stored file(s) named, all present" in out
    assert "drill OK: anxinbao-" in out and f"restored into {name}" in out
    # The copy holds the same rows: every entry of the source, sealed into the restored chain.
    assert f"ledger chain_seq {JournalEntry.objects.count()} hash" in out
    assert not database_exists(name)   # the scratch copy is dropped after the drill
    backup = next(source["dir"].glob("anxinbao-*"))
    assert {p.name for p in backup.iterdir()} == {"manifest.json", "media.tar.gz",
                                                  "database.sqlite3" if on_sqlite() else "database.dump"}


def check_tampered_restore_detected(source: dict, tmp_path: Path) -> None:
    code, out = drill(source, "backup", "--dir", str(source["dir"]), "--media-root", str(source["media"]))
    assert code == 0, out
    backup = next(source["dir"].glob("anxinbao-*"))
    name, media = scratch(tmp_path, "tampered"), tmp_path / "restored-media"
    try:
        code, out = drill(source, "restore", str(backup), "--database", name, "--media", str(media), "--no-verify")
        assert code == 0, out
        entry_id = _tamper_restored(name)

        code, out = drill(source, "verify", "--database", name, "--media", str(media))

        assert code == 1, out
        assert f"chain ledger: escrow_journalentry id {entry_id} chain_seq 1: hash does not match" in out
        assert "drill FAILED: verify_ledger failed on the restored copy" in out
    finally:
        dropped(name)


def _tamper_restored(name: str) -> int:
    """Rewrite the first sealed entry's memo in the restored copy, with the triggers off (as a superuser can)."""
    if on_sqlite():
        import sqlite3

        db = sqlite3.connect(name)
        entry_id = db.execute("SELECT id FROM escrow_journalentry WHERE chain_seq = 1").fetchone()[0]
        db.execute("UPDATE escrow_journalentry SET memo = '改过的摘要' WHERE id = ?", [entry_id])
        db.commit()
        db.close()
        return entry_id
    s = connection.settings_dict
    sql = ("SET session_replication_role = replica; UPDATE escrow_journalentry SET memo = '改过的摘要' "
           "WHERE chain_seq = 1 RETURNING id")
    done = subprocess.run(["psql", "-h", s["HOST"] or "localhost", "-U", s["USER"], "-d", name, "-Atq", "-c", sql],
                          capture_output=True, text=True, check=True)
    entry_id = int(done.stdout.split()[-1])
    return entry_id


def check_damaged_backup_refused(source: dict, tmp_path: Path) -> None:
    code, out = drill(source, "backup", "--dir", str(source["dir"]), "--media-root", str(source["media"]))
    assert code == 0, out
    backup = next(source["dir"].glob("anxinbao-*"))
    dump = next(p for p in backup.iterdir() if p.name.startswith("database."))
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    name = scratch(tmp_path, "damaged")

    code, out = drill(source, "restore", str(backup), "--database", name)

    assert code == 1 and "SHA-256 differs from the manifest" in out, out
    assert not database_exists(name)


def check_missing_file_detected(source: dict, tmp_path: Path) -> None:
    (source["media"] / "blacklist" / "2026" / "evidence.pdf").unlink()
    name = scratch(tmp_path, "nofile")
    code, out = drill(source, "run", "--dir", str(source["dir"]), "--database", name,
                      "--media-root", str(source["media"]))
    assert code == 1, out
    assert "ledger OK" in out and "missing file: core.BlacklistEntry.evidence blacklist/2026/evidence.pdf" in out
    assert not database_exists(name)


def check_compose_recipe_backup_restores(source: dict, tmp_path: Path) -> None:
    """The docker compose recipe of docs/operations.md writes SHA256SUMS instead of manifest.json."""
    code, out = drill(source, "backup", "--dir", str(source["dir"]), "--media-root", str(source["media"]))
    assert code == 0, out
    backup = next(source["dir"].glob("anxinbao-*"))
    (backup / "manifest.json").unlink()
    dump = next(p.name for p in backup.iterdir() if p.name.startswith("database."))
    subprocess.run(f"sha256sum {dump} media.tar.gz > SHA256SUMS", shell=True, cwd=backup, check=True)
    name = scratch(tmp_path, "compose")
    try:
        code, out = drill(source, "restore", str(backup), "--database", name, "--media", str(tmp_path / "m"))
        assert code == 0 and "ledger OK" in out and "files OK" in out, out
    finally:
        dropped(name)


CHECKS = [check_drill_end_to_end, check_tampered_restore_detected, check_damaged_backup_refused,
          check_missing_file_detected, check_compose_recipe_backup_restores]
IDS = ["end to end", "tampered restore", "damaged backup", "missing stored file", "compose recipe"]


@pytest.mark.postgres
@pytest.mark.parametrize("check", CHECKS, ids=IDS)
def test_drill_on_postgresql(source, tmp_path, check):
    check(source, tmp_path)


@pytest.mark.parametrize("check", CHECKS, ids=IDS)
def test_drill_on_sqlite(source, tmp_path, check):
    if not on_sqlite():
        pytest.skip("the SQLite drill: run without DATABASE_URL")
    check(source, tmp_path)
