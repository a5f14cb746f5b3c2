"""API authentication with the second factor (core/second_factor.py).

A user who must pass the second factor gets a token only by sending a current code with the password
(``POST /api/v1/auth/token/ {"username", "password", "otp"}``); the new token replaces any older one. A token of
such a user that is older than the user's authenticator (issued by password alone, before the second factor was
set up) is refused, and so is any token of such a user who has no authenticator.
"""
from __future__ import annotations

from rest_framework import authentication, exceptions

from core import second_factor


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if second_factor.required(user):
            since = second_factor.device_since(user)
            if since is None or token.created < since:
                raise exceptions.AuthenticationFailed(second_factor.REQUIRED_MESSAGE)
        return user, token
