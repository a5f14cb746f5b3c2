from .base import *  # noqa: F401,F403
from .base import BASE_DIR, DATABASES, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
PRIVATE_MEDIA_ROOT = MEDIA_ROOT
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Each parallel test run may name its own database (e.g. per xdist worker or checkout).
if env("ANXINBAO_TEST_DB_NAME", default=""):
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env("ANXINBAO_TEST_DB_NAME")
# Tests run tasks eagerly unless a test starts a real worker on purpose.
CELERY_TASK_ALWAYS_EAGER = True
# Serve /static/ from the app directories without collectstatic (the tests
# check that every asset of the layout is served by the application).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Tests that start a real worker (tests/conftest_celery.py) may run in several
# xdist processes against one Redis: each process and the worker it starts
# (which inherits PYTEST_XDIST_WORKER) use their own queue, so a worker never
# takes a task meant for another process's test database.
CELERY_TASK_DEFAULT_QUEUE = env("ANXINBAO_CELERY_QUEUE",
                                default=f"anxinbao-test-{env('PYTEST_XDIST_WORKER', default='main')}")
# One process, one cache: the per-user cache is on (core/caching.py) and emptied before each test
# (conftest.py), never a Redis database the Celery tests share.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "anxinbao-test"}}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
ANXINBAO_SHARED_CACHE = True
