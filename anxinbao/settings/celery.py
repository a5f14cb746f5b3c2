"""Celery: Redis broker when REDIS_URL (or CELERY_BROKER_URL) is set, eager otherwise."""
from datetime import timedelta

import environ
from celery.schedules import crontab

env = environ.Env()

REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = not bool(REDIS_URL or env("CELERY_BROKER_URL", default=""))
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
# Money tasks acknowledge after they finish: a worker that dies mid-task gets
# its message redelivered, and the task itself is idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers an unacknowledged message only after visibility_timeout.
# One hour: far above the longest task (a report of 1,000 projects renders in
# minutes), so a slow task is never run twice in parallel, while the beat
# sweep (escrow.sweep_operations, every minute) re-dispatches a stuck money
# operation much sooner. See docs/escrow.md.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULE = {
    # Reports whose task was lost or whose worker died are sent again (reports.services.reports_stuck).
    "reports-sweep": {
        "task": "reports.sweep",
        "schedule": timedelta(minutes=5),
    },
    "escrow-sweep-operations": {
        "task": "escrow.sweep_operations",
        "schedule": timedelta(minutes=1),
    },
    # Tamper-evident trail (docs/trail.md): chain the journal entries and audit events written since the last run.
    "escrow-ledger-seal": {
        "task": "escrow.ledger_seal",
        "schedule": timedelta(minutes=1),
    },
    "core-trail-seal": {
        "task": "core.trail_seal",
        "schedule": timedelta(minutes=1),
    },
    # I7: overdue milestones and reminders before the due date.
    "projects-milestones-overdue": {
        "task": "projects.milestones_overdue_sweep",
        "schedule": timedelta(hours=1),
    },
    # I15: balances not confirmed within the scheme's balance_grace_days of the milestone's decision.
    "projects-milestones-balance-overdue": {
        "task": "projects.milestones_balance_overdue_sweep",
        "schedule": timedelta(hours=1),
    },
    # R11, R15: every 20 January (Asia/Shanghai) prepare the year just ended for the bureau's review;
    # a recomputation that changes nothing creates nothing, so a repeat is harmless.
    "subsidies-prepare-year": {
        "task": "subsidies.prepare_year",
        "schedule": crontab(minute=0, hour=2, day_of_month=20, month_of_year=1),
    },
}
# Days before a milestone's due date when enterprise and platform are reminded.
ANXINBAO_MILESTONE_REMIND_DAYS = env.int("ANXINBAO_MILESTONE_REMIND_DAYS", default=14)
# Operations still requested or executing this long after their last dispatch
# are dispatched again by the sweep.
ANXINBAO_OPERATION_STUCK_AFTER = timedelta(minutes=env.int("ANXINBAO_OPERATION_STUCK_MINUTES", default=5))
# After this many deliveries that raised an unexpected error, the sweep stops re-sending an operation
# and the custodian operators are notified (a person redispatches it from the desk once it is fixed).
ANXINBAO_OPERATION_MAX_ATTEMPTS = env.int("ANXINBAO_OPERATION_MAX_ATTEMPTS", default=5)
