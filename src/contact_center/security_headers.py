"""The edge of the application: which proxies' forwarded headers count, and the security headers
every response carries.

Both wrap the whole application, outside Starlette's error handling, so an unexpected 500 gets
the headers too and every layer below (access log, authentication, sign-in limit, audit) sees
the client's address. The app enforces them itself, whoever serves it: `contact-center serve`
turns uvicorn's own proxy handling off.
"""

from __future__ import annotations

from typing import cast

from secure import (
    ContentSecurityPolicy,
    CrossOriginOpenerPolicy,
    PermissionsPolicy,
    ReferrerPolicy,
    Secure,
    StrictTransportSecurity,
    XContentTypeOptions,
    XFrameOptions,
)
from secure.middleware.asgi import SecureASGIMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from contact_center.settings import Settings

HSTS_MAX_AGE = 63_072_000  # two years, as browsers' preload lists ask


def content_security_policy() -> ContentSecurityPolicy:
    """Only this origin's files run: no inline script, no eval, no plugins, no framing.

    Styles are this origin's files too: the console has no inline style (htmx's indicator
    styles are off, bar widths are SVG attributes), and Swagger UI sets styles through the DOM,
    which a policy does not govern. `data:` images are Swagger UI's icons in its stylesheet.
    """
    return (
        ContentSecurityPolicy()
        .default_src("'self'")
        .script_src("'self'")
        .style_src("'self'")
        .img_src("'self'", "data:")
        .font_src("'self'")
        .connect_src("'self'")
        .object_src("'none'")
        .base_uri("'self'")
        .frame_ancestors("'none'")
        .form_action("'self'")
    )


def security_headers(*, hsts: bool) -> Secure:
    return Secure(
        csp=content_security_policy(),
        hsts=(
            StrictTransportSecurity().max_age(HSTS_MAX_AGE).include_subdomains() if hsts else None
        ),
        # Console URLs can carry a searched phone number: never send them to another site.
        referrer=ReferrerPolicy().no_referrer(),
        xcto=XContentTypeOptions().nosniff(),
        xfo=XFrameOptions().deny(),
        coop=CrossOriginOpenerPolicy().same_origin(),
        permissions=PermissionsPolicy().camera().microphone().geolocation().payment(),
    )


class SecurityHeadersMiddleware:
    """The headers of `security_headers` on every HTTP response; HSTS in production and on any
    request that arrived over HTTPS (after a trusted proxy's X-Forwarded-Proto)."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.production = production
        # The library types ASGI loosely (scope as `object`): these are ASGI apps like any.
        self.plain = cast("ASGIApp", SecureASGIMiddleware(app, secure=security_headers(hsts=False)))
        self.strict = cast("ASGIApp", SecureASGIMiddleware(app, secure=security_headers(hsts=True)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        https = scope.get("scheme") in ("https", "wss")
        chosen = self.strict if self.production or https else self.plain
        await chosen(scope, receive, send)


def edge(app: ASGIApp, settings: Settings) -> ASGIApp:
    """`app` wrapped in the security headers and, with TRUSTED_PROXIES, the forwarded headers
    of those proxies only (uvicorn's middleware: the rightmost untrusted X-Forwarded-For address
    becomes the client). Without TRUSTED_PROXIES no forwarded header is believed."""
    wrapped: ASGIApp = SecurityHeadersMiddleware(app, production=settings.is_production)
    if settings.trusted_proxy_list:
        # uvicorn types ASGI with its own TypedDicts; it is the same protocol.
        proxy = ProxyHeadersMiddleware(
            wrapped,  # type: ignore[arg-type]
            trusted_hosts=settings.trusted_proxy_list,
        )
        wrapped = cast("ASGIApp", proxy)
    return wrapped
