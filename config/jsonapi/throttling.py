"""Request rates per client: a burst and a sustained limit, and a tighter one for heavy work.

Rates are DRF rate strings in ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` under the
scopes ``burst``, ``sustained`` and ``heavy``; ``None`` turns a limit off. They are read
for every request, not copied when this module is imported as DRF's ``SimpleRateThrottle``
does, so a changed setting applies at once.

A view marks its heavy actions (uploads, bulk work) declaratively::

    class RecordViewSet(ResourceViewSet):
        heavy_actions = {"create"}

matched against the viewset's ``action``, or the lower-case method name on a plain
``APIView`` (``heavy_actions = {"post"}``). A heavy request counts against all three.

Throttles run after authentication and permissions (DRF's ``initial()``), so a request
without a valid token is a 401 before it is counted; the few views open to anonymous
clients (the OpenAPI document) count per client address.
"""

import math

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class FixedWindowRateThrottle(SimpleRateThrottle):
    """At most N requests per client in each window of the rate's period (a fixed window).

    One counter per client and window, ``add`` then ``incr``: atomic on Redis and on our
    database cache (config/cache.py), so the limit holds across worker processes, where
    DRF's own throttle reads, appends to and writes back a list of timestamps (two
    processes can both see room for one more request). The price of a fixed window: a
    client can spend a full allowance at the end of one window and another at the start
    of the next. Refused requests count too, so a client that keeps sending while
    throttled uses up its sustained allowance rather than trying for free.

    ``Retry-After`` is the time left in the window, in whole seconds, at least 1.
    """

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        user = request.user
        if user is not None and user.is_authenticated:
            return f"user-{user.pk}"
        return f"ip-{self.get_ident(request)}"

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.window_end = (window + 1) * self.duration
        key = self.cache_format % {"scope": self.scope, "ident": f"{ident}-{window}"}
        # The counter outlives its window by a second: nothing counts into it after that.
        count = self.increment(key, timeout=math.ceil(self.window_end - now) + 1)
        return count <= self.num_requests

    def increment(self, key, timeout):
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's first request, or two at once
            if self.cache.add(key, 1, timeout):
                return 1
            return self.cache.incr(key)

    def wait(self):
        return max(1, math.ceil(self.window_end - self.timer()))


class BurstRateThrottle(FixedWindowRateThrottle):
    scope = "burst"


class SustainedRateThrottle(FixedWindowRateThrottle):
    scope = "sustained"


class HeavyRateThrottle(FixedWindowRateThrottle):
    """Counts only the actions a view lists in ``heavy_actions``."""

    scope = "heavy"

    def get_cache_key(self, request, view):
        action = getattr(view, "action", None) or request.method.lower()
        if action not in getattr(view, "heavy_actions", ()):
            return None
        return super().get_cache_key(request, view)
