"""Notices render when read, in the reader's language (core.notices): message ids and parameters are stored,
translatable parameters nested as messages; the event call writes the audit row and the notices together."""
from __future__ import annotations

from unittest import mock

import pytest
from django.core import mail
from django.utils import translation
from django.utils.translation import gettext_lazy, gettext_noop, pgettext_lazy

from core import services
from core.models import AuditEvent, Notification
from core.notices import Notice, encode, message, render

DECLINED = gettext_noop("“%(p)s”不予揭榜“%(t)s”：%(r)s")
LOAN = gettext_noop("贷款 %(l)s %(a)s：%(label)s")


def test_lazy_labels_and_nested_messages_are_stored_as_message_ids():
    stored = encode({"label": gettext_lazy("推荐"), "p": pgettext_lazy("标点", "；"), "n": 3,
                     "m": message(DECLINED, p="甲", t="乙", r=2)})
    assert stored["label"] == {"_msg": "推荐", "params": {}}
    assert stored["p"] == {"_msg": "；", "_ctx": "标点", "params": {}}
    assert stored["m"] == {"_msg": DECLINED, "params": {"p": "甲", "t": "乙", "r": 2}}
    with translation.override("en"):  # stored while English is active: still the source ids
        assert encode({"label": gettext_lazy("推荐")})["label"]["_msg"] == "推荐"


def test_a_message_renders_in_the_active_language_with_its_translatable_parameters():
    params = encode({"l": "杭州银行", "a": "¥1.00", "label": gettext_lazy("推荐")})
    with translation.override("en"):
        assert render(LOAN, params) == "Loan 杭州银行 ¥1.00: Recommend"
    with translation.override("zh-hans"):
        assert render(LOAN, params) == "贷款 杭州银行 ¥1.00：推荐"


@pytest.mark.django_db
def test_a_notice_written_in_english_reads_in_each_readers_language(demo):
    with translation.override("en"):  # the actor's request is in English
        services.notify(users=[demo.enterprise], verb="t", msg=DECLINED, params={"p": "甲", "t": "乙", "r": "Too late"})
    notice = Notification.objects.get(verb="t")
    assert (notice.msg, notice.params) == (DECLINED, {"p": "甲", "t": "乙", "r": "Too late"})
    assert notice.text == "“甲”不予揭榜“乙”：Too late"  # kept in the default language for older readers
    with translation.override("zh-hans"):
        assert notice.render() == "“甲”不予揭榜“乙”：Too late"
    with translation.override("en"):
        assert notice.render() == "“甲” declined to take on “乙”: Too late"


@pytest.mark.django_db
def test_an_older_notice_with_only_its_text_still_reads(demo):
    old = Notification.objects.create(user=demo.enterprise, verb="x", text="旧通知")
    with translation.override("en"):
        assert old.render() == "旧通知"
    services.notify(users=[demo.enterprise], verb="y", msg="里程碑通知")
    assert Notification.objects.get(verb="y").render() == "里程碑通知"
    with pytest.raises(TypeError):  # every notice is a stored message now: none is written pre-rendered
        services.notify(users=[demo.enterprise], verb="z", text="里程碑通知")


@pytest.mark.django_db
def test_each_recipient_gets_the_mail_in_their_own_language(demo, django_capture_on_commit_callbacks):
    services.user_set_language(actor=demo.platform, language="en")
    assert demo.enterprise.language == "zh-hans"  # the default
    mail.outbox.clear()
    with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=True):
        services.notify(users=[demo.enterprise, demo.platform], verb="t", msg=DECLINED,
                        params={"p": "甲", "t": "乙", "r": "原因"}, url="/projects/1/")
    sent = {m.to[0]: m for m in mail.outbox}
    assert set(sent) == {demo.enterprise.email, demo.platform.email}  # one mail each: no address sees another
    assert "“甲”不予揭榜“乙”：原因" in sent[demo.enterprise.email].body
    assert "“甲” declined to take on “乙”: 原因" in sent[demo.platform.email].body
    assert "declined" in sent[demo.platform.email].subject and "/projects/1/" in sent[demo.platform.email].body


@pytest.mark.django_db
def test_the_language_switch_keeps_the_signed_in_users_choice(client, demo):
    client.force_login(demo.platform)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    demo.platform.refresh_from_db()
    assert demo.platform.language == "en"
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})  # not offered: nothing changes
    demo.platform.refresh_from_db()
    assert demo.platform.language == "en"
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    demo.platform.refresh_from_db()
    assert demo.platform.language == "zh-hans"


@pytest.mark.django_db
def test_record_event_writes_the_audit_row_and_notices_together_or_neither(demo):
    notice = Notice(users=[demo.enterprise], verb="t", msg=DECLINED, params={"p": "甲", "t": "乙", "r": "原因"})
    event = services.record_event(actor=demo.reviewer, target=demo.ent1, action="probe", reason="原因",
                                  notices=[notice])
    assert event.reason == "原因" and Notification.objects.filter(verb="t", user=demo.enterprise).count() == 1
    audits = AuditEvent.objects.count()
    with mock.patch.object(Notification.objects, "bulk_create", side_effect=RuntimeError("disk full")):
        with pytest.raises(RuntimeError):
            services.record_event(actor=demo.reviewer, target=demo.ent1, action="probe2", notices=[notice])
    assert AuditEvent.objects.count() == audits  # the notice failed: no audit row either
