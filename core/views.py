from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .services import notification_mark_read


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True


@require_POST
def logout_view(request):
    logout(request)
    return redirect("login")


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
    notification_mark_read(user=request.user, ids=ids)
    return redirect(request.POST.get("next") if url_has_allowed_host_and_scheme(
        request.POST.get("next"), allowed_hosts={request.get_host()}) else "notifications")
