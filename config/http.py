"""Hardening of Django's request object, installed once when the project starts.

Django 5.2 parses ``Content-Type`` in the constructor of every request (WSGI, ASGI and the
test client alike) and raises ``ValueError`` for an RFC 2231 parameter naming an unknown
charset (``Content-Type: application/vnd.api+json; ext*=bogus''x``, Django ticket #36991).
Raised there, before any middleware or error handler runs, it is a bare 500 from the
server. Tolerating it here keeps the header in ``META`` for the JSON:API negotiation to
refuse with a 400, and leaves Django's own parsing treating the request as untyped
(no form or multipart body is read from it).
"""

from django.http import HttpRequest

_django_set_content_type_params = HttpRequest._set_content_type_params


def _set_content_type_params(self, meta):
    try:
        _django_set_content_type_params(self, meta)
    except ValueError:
        self.content_type, self.content_params = "", {}


def install():
    HttpRequest._set_content_type_params = _set_content_type_params
