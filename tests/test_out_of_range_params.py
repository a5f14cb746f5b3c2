"""A year, a page or an id out of range is a friendly 4xx (or a clamped page) on every page and API route, for
every role: never a 500. The routes come from the URL configuration, so a new one is swept the moment it exists."""
from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

QUERIES = ["page=99999", "page=-3", "page=abc&year=-1", "page=" + "9" * 30, "year=99999", "year=" + "9" * 30,
           "project=" + "9" * 25 + "&enterprise=" + "9" * 25 + "&platform=-1", "kind=zzz&state=zzz",
           "start=2026-13-45&end=abc", "id=" + "9" * 25]
HUGE_ID = 10 ** 20  # more than any database integer: the lookup must not overflow into a 500
ROLES = ("enterprise", "reviewer")  # a party that sees its own, an oversight role that sees everything
SKIP = {"logout", "login", "set_language", "schema", "api-docs"}


def routes(resolver=None, prefix="", namespace=""):
    """(name, path template, converters) of every named route, the admin left out."""
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin" or "admin" in str(p.pattern):
                continue
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from routes(p, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern) and p.name:
            yield f"{namespace}{p.name}", prefix + str(p.pattern), p.pattern.converters


def get_paths() -> list[str]:
    """Each GET path: as it is when it has no parameter, with a huge id for each integer parameter."""
    out = set()
    for name, template, converters in routes():
        if name in SKIP or name.split(":")[-1] in SKIP or "(?P<format>" in template or "<format>" in template:
            continue
        path = "/" + template.replace("^", "").replace("$", "").replace("/?", "/")
        path = re.sub(r"\(\?P<\w+>\[0-9\]\+\)", str(HUGE_ID), path)  # the API router's ids
        if "(?P" in path or "\\" in path:
            continue
        if any(type(c).__name__ != "IntConverter" for c in converters.values()):
            continue  # an action name or a file name: swept by the permission matrix
        for param in converters:
            path = path.replace(f"<int:{param}>", str(HUGE_ID))
        out.add(path)
    return sorted(out)


def client_for(username: str, path: str):
    from core.models import User

    user = User.objects.get(username=username)
    if path.startswith("/api/"):
        c = APIClient()
        c.force_authenticate(user)
        return c
    c = Client()
    c.force_login(user)
    return c


def test_the_sweep_reaches_the_pages_and_the_api():
    paths = get_paths()
    assert "/subsidies/" in paths and "/api/v1/projects/" in paths
    assert any(str(HUGE_ID) in p for p in paths)


def test_no_year_page_or_id_out_of_range_is_a_server_error(demo):
    failures = []
    paths = get_paths()
    for username in ROLES:
        for path in paths:
            c = client_for(username, path)
            queries = QUERIES if str(HUGE_ID) not in path else [""]
            for query in queries:
                url = f"{path}?{query}" if query else path
                r = c.get(url)
                if r.status_code >= 500:
                    failures.append(f"{username} {url}: {r.status_code}")
    assert failures == []
