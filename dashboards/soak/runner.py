"""The soak: N random but valid operations from W concurrent workers, a real Celery worker that is
SIGKILLed and restarted, duplicate deliveries, then every check of ``checks``.

Each soak worker is a thread with its own database connection and its own random generator, seeded
from ``seed`` and its number: the sequence of operations each worker draws replays with the same seed
(which target it finds depends on what the others have done by then; the operation log records both).
The Celery worker executes the money operations (receipts, releases, forfeitures) through Redis. While
the workers run, a chaos loop SIGKILLs the Celery worker at random moments, preferably while operations
are in flight, and starts a new one; the escrow sweep (what beat runs every minute) re-sends operations
stuck in requested or executing, so a message lost with a killed worker is delivered again.
"""
from __future__ import annotations

import json
import random
import tempfile
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from core.exceptions import DomainError

from .operations import TABLE, Ctx

STUCK_AFTER = timedelta(seconds=8)
DRAIN_TIMEOUT = 120


@dataclass
class SoakResult:
    seed: int
    operations: int
    workers: int
    by_kind: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    refusals: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    double_effects: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    kills: int = 0
    kills_in_flight: int = 0
    kills_mid_task: int = 0
    swept: int = 0
    undrained: list[int] = field(default_factory=list)
    money_operations: Counter = field(default_factory=Counter)
    duration: float = 0.0
    log_path: Path | None = None

    @property
    def ok(self) -> bool:
        return not (self.errors or self.double_effects or self.violations or self.undrained)

    def summary(self) -> str:
        done = sum(self.by_kind.values())
        lines = [f"soak seed={self.seed} workers={self.workers} operations={done} "
                 f"duration={self.duration:.1f}s ({done / max(self.duration, 1e-9):.1f} ops/s)",
                 "operations by kind:"]
        lines += [f"  {k:<16} {n:>6}" for k, n in sorted(self.by_kind.items())]
        lines.append(f"refusals by code ({sum(self.refusals.values())}, expected domain answers):")
        lines += [f"  {k:<28} {n:>6}" for k, n in self.refusals.most_common()]
        lines.append("money operations by kind and final state: "
                     + ", ".join(f"{k} {n}" for k, n in sorted(self.money_operations.items())))
        lines.append(f"worker SIGKILLs: {self.kills} ({self.kills_in_flight} with operations in flight, "
                     f"{self.kills_mid_task} with one executing); "
                     f"sweep re-sends: {self.swept}; draws without a target: {sum(self.skipped.values())}")
        lines.append(f"errors: {len(self.errors)}")
        lines += [f"  {e.splitlines()[0]}" for e in self.errors[:20]]
        lines.append(f"double effects: {len(self.double_effects)}")
        lines += [f"  {p}" for p in self.double_effects[:20]]
        lines.append(f"invariant violations: {len(self.violations)}")
        lines += [f"  {p}" for p in self.violations[:20]]
        if self.undrained:
            lines.append(f"operations never executed: {self.undrained[:20]}")
        lines.append("RESULT: " + ("OK" if self.ok else "FAILED"))
        if self.log_path:
            lines.append(f"operation log: {self.log_path}")
        return "\n".join(lines)


def _kinds() -> tuple[list[str], list[int]]:
    return list(TABLE), [w for w, _op in TABLE.values()]


class _Budget:
    """The shared count of operations: each worker takes one before it acts."""

    def __init__(self, n: int):
        self.left, self.lock = n, threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True

    def give_back(self) -> None:
        with self.lock:
            self.left += 1


def _soak_worker(n: int, *, seed: int, cast, run: str, budget: _Budget, result: SoakResult, log: list,
                 lock: threading.Lock, stop: threading.Event) -> None:
    rng = random.Random(f"{seed}:{n}")
    ctx = Ctx(worker=n, rng=rng, cast=cast, run=run, today=timezone.localdate())
    names, weights = _kinds()
    misses = 0
    try:
        while not stop.is_set() and budget.take():
            kind = rng.choices(names, weights)[0]
            ctx.note = ""
            started = time.monotonic()
            try:
                outcome = TABLE[kind][1](ctx)
            except DomainError as exc:
                outcome, refusal = f"refused {exc.code}", exc.code
                with lock:
                    result.by_kind[kind] += 1
                    result.refusals[f"{kind}:{refusal}"] += 1
            except Exception as exc:  # anything else is a failure of the soak
                outcome = f"ERROR {type(exc).__name__}: {exc}"
                with lock:
                    result.by_kind[kind] += 1
                    result.errors.append(f"worker {n} {kind} {ctx.note}: {type(exc).__name__}: {exc}\n"
                                         + traceback.format_exc())
            else:
                with lock:
                    if outcome is None:
                        result.skipped[kind] += 1
                    else:
                        result.by_kind[kind] += 1
                        result.outcomes[f"{kind}:{outcome}"] += 1
            if outcome is None:
                budget.give_back()  # nothing to act on yet: draw again
                misses += 1
                if misses > 5000:
                    raise RuntimeError(f"worker {n}: 5,000 draws in a row found nothing to act on")
                continue
            misses = 0
            log.append({"w": n, "kind": kind, "on": ctx.note, "outcome": outcome,
                        "ms": round((time.monotonic() - started) * 1000, 1), "at": time.time()})
    finally:
        connection.close()


def _in_flight(*states: str) -> int:
    from escrow.models import MoneyOperation

    return MoneyOperation.objects.filter(state__in=states or ["requested", "executing"]).count()


def _sweep() -> int:
    """What the beat task escrow.sweep_operations does, with a short timeout."""
    from escrow.services.operations import operations_redispatch, operations_stuck

    return operations_redispatch(operations_stuck(older_than=STUCK_AFTER))


def _chaos(worker, *, rng: random.Random, result: SoakResult, stop: threading.Event, kill_every: float,
           say) -> None:
    """SIGKILL the Celery worker at random moments (mostly while operations are in flight) and restart it;
    sweep stuck operations every two seconds; say how far the run is every minute."""
    next_kill = time.monotonic() + rng.uniform(0.5, 1.5) * kill_every
    next_report, reported = time.monotonic() + 60, 0
    while not stop.wait(2.0):
        result.swept += _sweep()
        if time.monotonic() >= next_report:
            next_report += 60
            say(f"  {sum(result.by_kind.values())} operations, {len(result.errors)} errors, {result.kills} kills")
            for error in result.errors[reported:]:
                say(f"  error: {error.splitlines()[0]}")
            reported = len(result.errors)
        if kill_every and time.monotonic() >= next_kill:
            flying = _in_flight()
            if flying or rng.random() < 0.2:
                _kill_and_restart(worker, rng=rng, result=result)
                next_kill = time.monotonic() + rng.uniform(0.5, 1.5) * kill_every
    if kill_every and not result.kills:
        # A run shorter than the first chaos moment still loses its worker once, with whatever the last
        # operations left in flight, so the restart and redelivery path is always exercised.
        _kill_and_restart(worker, rng=rng, result=result)
    connection.close()


def _kill_and_restart(worker, *, rng: random.Random, result: SoakResult) -> None:
    flying, executing = _in_flight(), _in_flight("executing")
    worker.kill()
    result.kills += 1
    result.kills_in_flight += bool(flying)
    result.kills_mid_task += bool(executing)
    time.sleep(rng.uniform(0, 1.5))
    worker.start()


def _drain(result: SoakResult) -> None:
    from escrow.models import MoneyOperation

    deadline = time.monotonic() + DRAIN_TIMEOUT
    while _in_flight() and time.monotonic() < deadline:
        result.swept += _sweep()
        time.sleep(1.0)
    result.undrained = list(MoneyOperation.objects.filter(state__in=["requested", "executing"])
                            .values_list("pk", flat=True))


def _broker(redis_url: str, queue: str):
    """Make this process send tasks through Redis (the test settings run Celery eagerly) to a queue of this
    run's own, which only this run's worker consumes (another worker on the same Redis database, e.g. a
    parallel test's, neither takes this run's tasks nor loses its own); return a restorer."""
    from anxinbao.celery import app

    previous = (app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.broker_url = redis_url
    app.conf.result_backend = redis_url
    app.conf.task_default_queue = queue
    app.amqp.__dict__.pop("queues", None)  # the declared queues are cached with the default queue's name

    def restore():
        import redis

        redis.Redis.from_url(redis_url).delete(queue)  # duplicate deliveries nobody needs any more
        (app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend,
         app.conf.task_default_queue) = previous
        app.amqp.__dict__.pop("queues", None)

    return restore


def run_soak(*, operations: int = 10_000, workers: int = 8, seed: int | None = None, redis_url: str = "",
             settings_module: str = "", kill_every: float = 20.0, log_dir: Path | None = None,
             out=None) -> SoakResult:
    """Run the soak on the current (PostgreSQL) database with a Celery worker on ``redis_url``."""
    from .cast import build_cast
    from .checks import double_effects, invariant_violations, subsidy_figures
    from .worker import CeleryWorker, database_url_of

    if connection.vendor != "postgresql":
        raise RuntimeError("the soak needs PostgreSQL (a worker process must see the same database)")
    redis_url = redis_url or settings.REDIS_URL
    if not redis_url:
        raise RuntimeError("the soak needs Redis: set REDIS_URL")
    seed = random.SystemRandom().randrange(1, 10**9) if seed is None else seed
    result = SoakResult(seed=seed, operations=operations, workers=workers)
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix=f"anxinbao-soak-{seed}-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    say = (lambda s: out.write(s)) if out is not None else (lambda s: None)
    import os

    queue = f"soak-{seed}-{os.getpid()}"
    restore = _broker(redis_url, queue)
    worker = CeleryWorker(database_url=database_url_of(connection.settings_dict), redis_url=redis_url,
                          settings_module=settings_module or os.environ.get("DJANGO_SETTINGS_MODULE", ""),
                          logdir=log_dir, queue=queue)
    log: list[dict] = []
    started = time.monotonic()
    try:
        cast = build_cast()
        run = f"{seed}-{int(time.time()) % 100000}"
        worker.start()
        say(f"soak: seed {seed}, {operations} operations, {workers} workers, Celery worker up; logs in {log_dir}")
        stop, lock, budget = threading.Event(), threading.Lock(), _Budget(operations)
        chaos = threading.Thread(target=_chaos, args=(worker,), kwargs={
            "rng": random.Random(f"{seed}:chaos"), "result": result, "stop": stop, "kill_every": kill_every,
            "say": say})
        threads = [threading.Thread(target=_soak_worker, args=(n,), kwargs={
            "seed": seed, "cast": cast, "run": run, "budget": budget, "result": result, "log": log, "lock": lock,
            "stop": stop}) for n in range(workers)]
        chaos.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        chaos.join()
        if worker.proc is None or worker.proc.poll() is not None:
            worker.start()
        _drain(result)
        result.duration = time.monotonic() - started
        worker.stop()
        from escrow.models import MoneyOperation

        result.money_operations = Counter(
            f"{k}/{s}" for k, s in MoneyOperation.objects.values_list("kind", "state"))
        result.double_effects = double_effects()
        result.violations = invariant_violations() + subsidy_figures(timezone.localdate().year, cast.reviewers[0])
    finally:
        worker.stop()
        restore()
        for alias in connections:
            connections[alias].close_if_unusable_or_obsolete()
    result.log_path = log_dir / "operations.jsonl"
    with result.log_path.open("w") as f:
        f.write(json.dumps({"seed": seed, "operations": operations, "workers": workers}) + "\n")
        for row in sorted(log, key=lambda r: r["at"]):
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    if not result.ok:
        (log_dir / "failure.txt").write_text(result.summary() + "\n\n" + "\n\n".join(result.errors))
    return result
