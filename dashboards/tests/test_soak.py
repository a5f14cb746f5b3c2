"""The CI-sized soak (issue 14): a few hundred random operations from 8 workers with a real Celery worker
that is SIGKILLed and restarted; 0 errors, 0 double effects, 0 invariant violations."""
from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_soak_ci_sized_run_keeps_every_invariant(tmp_path):
    from dashboards.soak.runner import run_soak

    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        pytest.skip("needs Redis: set REDIS_URL")
    result = run_soak(operations=300, workers=8, seed=20261202, redis_url=redis_url,
                      settings_module="anxinbao.settings.test", kill_every=5.0, log_dir=tmp_path)
    print(result.summary())
    assert not result.errors, result.summary()
    assert result.double_effects == [], result.summary()
    assert result.violations == [], result.summary()
    assert result.undrained == [], result.summary()
    assert result.kills >= 1, "the Celery worker was never killed"
    # The run reached the money: the Celery worker executed deposits into custody.
    assert sum(result.by_kind.values()) == 300
    assert result.money_operations["deposit/done"] >= 1, result.summary()
