"""The Celery application. Settings come from Django settings with the CELERY_ prefix."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anxinbao.settings.local")

app = Celery("anxinbao")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="anxinbao.ping")
def ping(value: str = "pong") -> str:
    """Round trip used by the worker smoke test in .ci/run."""
    return value
