"""Second factor (TOTP + recovery codes) for custodian operators, reviewers, the pool manager and finance officers."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import second_factor
from demo import people as demo_data

API = "/api/v1/"


@pytest.fixture
def required(settings):
    settings.ANXINBAO_REQUIRE_2FA = True
    # django-otp slows down guessing (a wait of 2^n seconds after n failures); these tests retry at once.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def code_for(device: TOTPDevice) -> str:
    """The code an authenticator app shows for ``device`` now, computed from the device's key."""
    return f"{TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits).token():0{device.digits}d}"


def device_for(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_custodian_without_device_is_sent_to_enrolment_with_an_inline_qr(required, demo):
    client = signed_in(demo.custodian)
    response = client.get("/projects/")
    assert response.status_code == 302 and response.url == "/accounts/2fa/setup/?next=%2Fprojects%2F"
    page = client.get(response.url)
    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r'<figure class="otp-qr" id="otp-qr"><svg\b', html)  # drawn on the server, inline
    assert "<img" not in html.split('id="otp-qr"')[1].split("</figure>")[0]
    # The API refuses the unverified session.
    api = client.get(f"{API}projects/")
    assert api.status_code == 403 and api.json()["code"] == "second_factor_required"


def test_enrolment_confirms_the_device_with_its_first_code_and_shows_recovery_codes(required, demo):
    client = signed_in(demo.custodian)
    client.get("/accounts/2fa/setup/")
    device = TOTPDevice.objects.get(user=demo.custodian, confirmed=False)
    wrong = client.post("/accounts/2fa/setup/", {"otp": "000000" if code_for(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and "验证码不正确" in wrong.content.decode()
    assert client.get("/").status_code == 302
    response = client.post("/accounts/2fa/setup/", {"otp": code_for(device), "next": "/projects/"})
    device.refresh_from_db()
    assert device.confirmed
    codes = re.findall(r"<li><code>([0-9a-f]{8})</code></li>", response.content.decode())
    assert len(codes) == second_factor.RECOVERY_CODES
    assert StaticToken.objects.filter(device__user=demo.custodian).count() == second_factor.RECOVERY_CODES
    assert client.get("/").status_code == 200  # the session is verified


def test_custodian_with_device_wrong_code_refused_right_code_passes(required, demo):
    device = device_for(demo.custodian)
    client = signed_in(demo.custodian)
    response = client.get("/escrow/desk/")
    assert response.status_code == 302 and response.url.startswith("/accounts/2fa/?next=")
    right = code_for(device)
    wrong = client.post("/accounts/2fa/", {"otp": f"{(int(right) + 1) % 10**6:06d}"})
    assert wrong.status_code == 200 and "验证码不正确" in wrong.content.decode()
    assert client.get("/escrow/desk/").status_code == 302
    ok = client.post("/accounts/2fa/", {"otp": right, "next": "/escrow/desk/"})
    assert ok.status_code == 302 and ok.url == "/escrow/desk/"
    assert client.get("/escrow/desk/").status_code == 200
    # The same code is not accepted a second time (another session).
    again = signed_in(demo.custodian)
    assert again.post("/accounts/2fa/", {"otp": right}).status_code == 200
    assert again.get("/escrow/desk/").status_code == 302


def test_recovery_code_works_once(required, demo):
    device_for(demo.reviewer)
    codes = second_factor.new_recovery_codes(demo.reviewer)
    first = signed_in(demo.reviewer)
    assert first.post("/accounts/2fa/", {"otp": codes[0]}).status_code == 302
    assert first.get("/projects/queue/").status_code == 200
    second = signed_in(demo.reviewer)
    refused = second.post("/accounts/2fa/", {"otp": codes[0]})
    assert refused.status_code == 200 and "已使用" in refused.content.decode()
    assert second.get("/projects/queue/").status_code == 302
    assert second.post("/accounts/2fa/", {"otp": codes[1]}).status_code == 302


@pytest.mark.parametrize("username", ["custodian", "reviewer", "poolmanager", "finance"])
def test_every_money_role_needs_the_second_factor(required, demo, username):
    response = signed_in(getattr(demo, username)).get("/")
    assert response.status_code == 302 and response.url.startswith("/accounts/2fa/setup/")


@pytest.mark.parametrize("username", ["enterprise", "platform", "expert1", "auditor"])
def test_other_roles_sign_in_with_the_password_alone(required, demo, username):
    assert signed_in(getattr(demo, username)).get("/").status_code == 200


def test_setting_off_custodian_works_as_before(demo):
    device_for(demo.custodian)
    assert signed_in(demo.custodian).get("/escrow/desk/").status_code == 200
    api = APIClient()
    response = api.post(f"{API}auth/token/", {"username": "custodian", "password": demo_data.DEMO_PASSWORD},
                        format="json")
    assert response.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert api.get(f"{API}operations/").status_code == 200


def test_api_token_needs_otp_for_money_roles(required, demo):
    device = device_for(demo.custodian)
    api = APIClient()
    body = {"username": "custodian", "password": demo_data.DEMO_PASSWORD}
    refused = api.post(f"{API}auth/token/", body, format="json")
    assert refused.status_code == 400 and "otp" in refused.json()["fields"]
    wrong = api.post(f"{API}auth/token/", {**body, "otp": "12345a"}, format="json")
    assert wrong.status_code == 400
    ok = api.post(f"{API}auth/token/", {**body, "otp": code_for(device)}, format="json")
    assert ok.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {ok.json()['token']}")
    assert api.get(f"{API}operations/").status_code == 200
    # The enterprise needs no code.
    assert APIClient().post(f"{API}auth/token/", {"username": "enterprise", "password": demo_data.DEMO_PASSWORD},
                            format="json").status_code == 200


def test_api_token_issued_before_the_second_factor_is_refused(required, demo):
    old = Token.objects.create(user=demo.finance)
    Token.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=30))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {old.key}")
    assert api.get(f"{API}projects/").status_code == 401  # no authenticator yet
    device_for(demo.finance)
    assert api.get(f"{API}projects/").status_code == 401  # token older than the authenticator


def test_confirming_the_authenticator_twice_makes_one_set_of_recovery_codes(demo, settings):
    """A double-click on the enrolment form: the second confirmation finds the device confirmed and makes no
    second recovery device (a second one made the next "new recovery codes" a 500)."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_static.models import StaticDevice

    from core import second_factor

    device = second_factor.pending_totp(demo.custodian)
    stale = type(device).objects.get(pk=device.pk)  # what the second request read before the first committed
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"
    assert second_factor.confirm(device, code) is not None
    assert second_factor.confirm(stale, code) is None  # read again under the lock: already confirmed
    assert StaticDevice.objects.filter(user=demo.custodian).count() == 1
    assert len(second_factor.new_recovery_codes(demo.custodian)) == second_factor.RECOVERY_CODES
