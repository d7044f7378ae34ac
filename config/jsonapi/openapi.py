"""The OpenAPI description of every resource, generated from its ``ResourceSchema``."""

from drf_spectacular.openapi import AutoSchema


class JsonApiAutoSchema(AutoSchema):
    pass
