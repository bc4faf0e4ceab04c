"""Check operations against the Track API's published schemas.

``data/track_api_schemas.json`` keeps the request bodies and schemas of
Customer.io's OpenAPI description of the Track API (version 1.0.0),
with the descriptions and examples removed.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMAS = Path(__file__).parent / "data" / "track_api_schemas.json"


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SCHEMAS.read_text())
    return document


@cache
def _registry() -> Registry:
    resource = Resource(contents=_document(), specification=DRAFT202012)
    return Registry().with_resource("urn:track", resource)


def _request_schema(path: str, method: str) -> dict[str, Any]:
    body = _document()["paths"][path][method]["requestBody"]
    schema: dict[str, Any] = body["content"]["application/json"]["schema"]
    return schema


def check_request(path: str, method: str, body: Any) -> None:
    """Raise ``jsonschema.ValidationError`` if the spec rejects ``body``."""
    schema = _resolve_refs(_request_schema(path, method))
    jsonschema.Draft202012Validator(schema, registry=_registry()).validate(
        body
    )


def check_operation(schema_name: str, operation: Any) -> None:
    """Validate one v2 operation against a named component schema."""
    schema = {"$ref": f"urn:track#/components/schemas/{schema_name}"}
    jsonschema.Draft202012Validator(schema, registry=_registry()).validate(
        operation
    )


def _resolve_refs(value: Any) -> Any:
    """Point local ``#/...`` references at the registered document."""
    if isinstance(value, dict):
        return {
            key: (
                "urn:track" + item
                if key == "$ref" and isinstance(item, str)
                else _resolve_refs(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_resolve_refs(item) for item in value]
    return value


def accepting_variants(path: str, method: str, body: Any) -> list[str]:
    """Return the titles of the ``oneOf`` variants that accept ``body``.

    The spec lists delivery metrics per channel, and a metric such as
    ``clicked`` fits several channels, so ``oneOf`` itself fails.
    """
    schema = _resolve_refs(_request_schema(path, method))
    titles = []
    for variant in schema["oneOf"]:
        validator = jsonschema.Draft202012Validator(
            variant, registry=_registry()
        )
        if validator.is_valid(body):
            titles.append(variant.get("title", "?"))
    return titles
