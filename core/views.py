from base64 import b32encode

from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views import i18n as i18n_views
from django.views.decorators.http import require_POST
from django.views.i18n import LANGUAGE_QUERY_PARAMETER

from .services import notification_mark_read, user_set_language


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True


@require_POST
def logout_view(request):
    logout(request)
    return redirect("login")


def set_language(request):
    """The site's language switch (Django's ``set_language``); a signed-in user's choice is also kept on their
    account, so the e-mails they receive are written in it."""
    response = i18n_views.set_language(request)
    chosen = request.POST.get(LANGUAGE_QUERY_PARAMETER)
    if request.method == "POST" and request.user.is_authenticated and chosen:
        user_set_language(actor=request.user, language=chosen)
    return response


@login_required
def notifications(request):
    """The inbox. Reading the page marks nothing: a notice is marked read by its button (POST)."""
    items = list(request.user.notifications.all()[:100])
    return render(request, "core/notifications.html", {"items": items})


@login_required
@require_POST
def notifications_mark_read(request):
    """Mark one notice (``id``) or all of the user's notices (``all``) as read; only the user's own."""
    ids = None if request.POST.get("all") else [int(i) for i in request.POST.getlist("id") if i.isdigit()]
    notification_mark_read(actor=request.user, ids=ids)
    return redirect(request.POST.get("next") if url_has_allowed_host_and_scheme(
        request.POST.get("next"), allowed_hosts={request.get_host()}) else "notifications")


def _next_url(request, default="home"):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return resolve_url(default)


@login_required
def otp_setup(request):
    """Enrolment: a QR code (inline SVG drawn here) of a new authenticator, confirmed by its first code; then the
    recovery codes, shown once. A user who already has an authenticator verifies instead."""
    from django_otp import login as otp_login

    from . import second_factor

    if second_factor.has_device(request.user):
        return redirect("otp_verify")
    device = second_factor.pending_totp(request.user)
    error = ""
    if request.method == "POST":
        codes = second_factor.confirm(device, (request.POST.get("otp") or "").strip())
        if codes is not None:
            otp_login(request, device)
            return render(request, "core/otp_codes.html", {"codes": codes, "next": _next_url(request)})
        if second_factor.has_device(request.user):  # confirmed by a first click of the same form: verify instead
            return redirect("otp_verify")
        error = _("验证码不正确，请核对手机上的时间后重试。")
    uri = second_factor.provisioning_uri(device)
    return render(request, "core/otp_setup.html", {
        "qr": mark_safe(second_factor.qr_svg(uri)),  # noqa: S308 — SVG generated here from our own URI
        "secret": b32encode(device.bin_key).decode(), "error": error, "next": _next_url(request)})


@login_required
def otp_verify(request):
    """The step after the password for users who must pass the second factor: a code from the authenticator, or a
    recovery code (each works once)."""
    from django_otp import login as otp_login

    from . import second_factor

    if not second_factor.has_device(request.user):
        return redirect("otp_setup")
    error = ""
    if request.method == "POST":
        device = second_factor.match(request.user, request.POST.get("otp", ""))
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        error = _("验证码不正确或已使用。")
    return render(request, "core/otp_verify.html", {"error": error, "next": _next_url(request)})


@login_required
@require_POST
def otp_recovery_codes(request):
    """New recovery codes (the old ones stop working), for a verified session."""
    from . import second_factor

    if not second_factor.is_verified(request):
        return redirect("otp_verify")
    codes = second_factor.new_recovery_codes(request.user)
    return render(request, "core/otp_codes.html", {"codes": codes, "next": resolve_url("home")})
