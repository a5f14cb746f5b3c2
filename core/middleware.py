"""Language: pages are in Simplified Chinese unless the user chose English."""
from django.conf import settings
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Pages follow only the language the user picked (the cookie set by the switch),
    so an English browser still sees the Chinese interface first. The API also
    honours Accept-Language, for outside programs that want English error texts."""

    def process_request(self, request):
        if request.path_info.startswith("/api/"):
            return super().process_request(request)
        language = settings.LANGUAGE_CODE
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen:
            try:
                language = translation.get_supported_language_variant(chosen)
            except LookupError:
                pass
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class SecondFactorMiddleware:
    """When the second factor is required (``core.second_factor``), a signed-in user of a money role whose session
    has not passed it is sent to enrolment (no authenticator yet) or verification; on the API such a session is
    refused with 403. Token requests are checked by ``core.api.auth.TokenAuthentication``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.http import JsonResponse
        from django.shortcuts import redirect
        from django.utils.http import urlencode

        from . import second_factor

        user = getattr(request, "user", None)
        if (user is not None and second_factor.required(user) and not second_factor.is_verified(request)
                and not request.path_info.startswith(second_factor.OPEN_PATHS)):
            if request.path_info.startswith("/api/"):
                return JsonResponse({"code": "second_factor_required", "detail": str(second_factor.REQUIRED_MESSAGE)},
                                    status=403)
            target = "otp_verify" if second_factor.has_device(user) else "otp_setup"
            url = redirect(target).url
            if request.method == "GET":
                url += "?" + urlencode({"next": request.get_full_path()})
            return redirect(url)
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Sends ``settings.PERMISSIONS_POLICY`` (browser features no page uses, switched off) on every response."""

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.value = getattr(settings, "PERMISSIONS_POLICY", "")

    def __call__(self, request):
        response = self.get_response(request)
        if self.value:
            response.headers.setdefault("Permissions-Policy", self.value)
        return response
