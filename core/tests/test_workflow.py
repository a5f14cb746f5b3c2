"""The action registry: permission first (403), then the state (409), and the panel hides other roles' actions."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from core.exceptions import DomainError
from core.permissions import ALLOW, deny
from core.workflow import Action, Registry


def _only(username):
    return lambda user, obj: ALLOW if user.username == username else deny(f"only {username}")


REG = Registry("thing", [
    Action("sign", "签", service=lambda **kw: None, permission=_only("a"), sources=["new"]),
    Action("close", "关", service=lambda **kw: None, permission=_only("b"), sources=["signed"], needs_reason=True),
])


def _user(name, superuser=False):
    return SimpleNamespace(username=name, is_superuser=superuser)


def test_decision_answers_the_permission_before_the_state():
    obj = SimpleNamespace(state="signed")
    assert REG.get("sign").decision(_user("b"), obj).reason == "only a"
    refused = REG.get("sign").decision(_user("a"), obj)
    assert not refused and "signed" in refused.reason and "签" in refused.reason
    assert REG.get("close").decision(_user("b"), obj)


def test_panel_lists_only_this_role_s_actions_and_says_why_not_now():
    obj = SimpleNamespace(state="new")
    panel = REG.panel(_user("b"), obj)
    assert [p["name"] for p in panel] == ["close"]
    assert panel[0]["allowed"] is False and panel[0]["needs_reason"] is True and panel[0]["reason"]
    assert [p["name"] for p in REG.panel(_user("x", superuser=True), obj)] == ["sign", "close"]


def test_unknown_action_is_a_domain_error_naming_it():
    with pytest.raises(DomainError) as err:
        REG.get("fly")
    assert err.value.code == "unknown_action" and "fly" in str(err.value)
    assert "sign" in REG and REG.names() == ["sign", "close"] and REG.label("fly") == "fly"


def test_decide_allows_when_every_condition_holds_and_names_the_first_that_does_not():
    from core.permissions import decide

    assert decide() and decide((True, "a"), (True, "b"))
    refused = decide((True, "a"), (False, "b"), (False, "c"))
    assert not refused and refused.reason == "b"
