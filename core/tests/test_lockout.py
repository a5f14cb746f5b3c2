"""Login lockout that cannot be turned on others (issue 14): behind the reverse proxy the lock is keyed on the
client's address from X-Forwarded-For (trusting exactly ANXINBAO_TRUSTED_PROXIES proxies) and the username, and
it ends after the cool-off."""
from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from core.security import client_ip
from demo import people as demo_data

pytestmark = pytest.mark.django_db

PROXY = "172.18.0.5"  # every request arrives from the reverse proxy's address


def login(username: str, *, forwarded: str | None, password: str = demo_data.DEMO_PASSWORD):
    extra = {"REMOTE_ADDR": PROXY}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client().post("/accounts/login/", {"username": username, "password": password}, **extra)


@pytest.fixture
def behind_proxy(settings):
    settings.ANXINBAO_TRUSTED_PROXIES = 1


def test_five_wrong_passwords_from_address_a_do_not_lock_the_user_out_from_address_b(demo, settings, behind_proxy):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login("custodian", forwarded="203.0.113.7", password="wrong")
    assert login("custodian", forwarded="203.0.113.7").status_code == 429  # the stranger's address is locked
    assert login("custodian", forwarded="198.51.100.20").status_code == 302  # the operator at B signs in


def test_a_forged_x_forwarded_for_entry_does_not_choose_the_locked_address(demo, settings, behind_proxy):
    # The stranger writes B's address into the header; the proxy appends the stranger's real one after it.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login("custodian", forwarded="198.51.100.20, 203.0.113.7", password="wrong")
    assert login("custodian", forwarded="198.51.100.20").status_code == 302


def test_the_cool_off_ends(demo, settings, behind_proxy):
    import time_machine

    for _ in range(settings.AXES_FAILURE_LIMIT):
        login("finance", forwarded="203.0.113.7", password="wrong")
    assert login("finance", forwarded="203.0.113.7").status_code == 429
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME
                             + timezone.timedelta(minutes=1)):
        assert login("finance", forwarded="203.0.113.7").status_code == 302


def test_without_a_trusted_proxy_the_header_is_ignored(rf, settings):
    settings.ANXINBAO_TRUSTED_PROXIES = 0
    request = rf.get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert client_ip(request) == "192.0.2.1"


@pytest.mark.parametrize("forwarded, proxies, expected", [
    ("203.0.113.7", 1, "203.0.113.7"),
    ("1.1.1.1, 203.0.113.7", 1, "203.0.113.7"),
    ("1.1.1.1, 203.0.113.7, 10.0.0.2", 2, "203.0.113.7"),
    ("203.0.113.7", 2, "192.0.2.1"),          # fewer entries than proxies: not through all of them
    ("not-an-address", 1, "192.0.2.1"),
    ("", 1, "192.0.2.1"),
])
def test_client_ip_takes_the_entry_the_nth_proxy_wrote(rf, settings, forwarded, proxies, expected):
    settings.ANXINBAO_TRUSTED_PROXIES = proxies
    request = rf.get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_a_guesser_moving_between_addresses_is_throttled_per_username_and_the_throttle_ends(demo, settings,
                                                                                              behind_proxy):
    """Below the per-address limit at every address, the failures of one username still add up (issue 14)."""
    import time_machine

    settings.ANXINBAO_USERNAME_FAILURE_LIMIT = 12
    per_address = settings.AXES_FAILURE_LIMIT - 1  # never locked at any one address
    addresses = [f"203.0.113.{i}" for i in range(1, 4)]  # 3 × 4 = 12 failures
    for address in addresses:
        for _ in range(per_address):
            login("reviewer", forwarded=address, password="wrong")
    # even the right password, from an address never seen, waits for the cool-off
    assert login("reviewer", forwarded="198.51.100.20").status_code == 200
    assert login("custodian", forwarded="198.51.100.20").status_code == 302  # other users are not affected
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME
                             + timezone.timedelta(minutes=1)):
        assert login("reviewer", forwarded="198.51.100.20").status_code == 302


def test_failures_below_the_username_limit_do_not_throttle(demo, settings, behind_proxy):
    settings.ANXINBAO_USERNAME_FAILURE_LIMIT = 12
    for address in ("203.0.113.1", "203.0.113.2"):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            login("reviewer", forwarded=address, password="wrong")
    assert login("reviewer", forwarded="198.51.100.20").status_code == 302


def test_the_username_throttle_never_applies_where_the_account_signed_in_before(demo, settings, behind_proxy):
    """A guesser who keeps trying keeps the throttle on; the owner's own address, known from an earlier
    sign-in, still gets in, so the account cannot be locked for good."""
    settings.ANXINBAO_USERNAME_FAILURE_LIMIT = 12
    assert login("reviewer", forwarded="198.51.100.20").status_code == 302  # the owner's office, earlier
    for address in (f"203.0.113.{i}" for i in range(1, 4)):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            login("reviewer", forwarded=address, password="wrong")
    assert login("reviewer", forwarded="192.0.2.55").status_code == 200  # a new address waits
    assert login("reviewer", forwarded="198.51.100.20").status_code == 302  # the known one does not
