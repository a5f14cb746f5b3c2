"""The soak that proves the money (issue 14): random valid operations across the whole workflow from
concurrent workers, a real Celery worker killed and restarted, then every invariant checked."""
from .runner import SoakResult, run_soak

__all__ = ["run_soak", "SoakResult"]
