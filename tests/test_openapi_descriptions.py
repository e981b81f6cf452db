"""`/openapi.json` describes everything it names: every schema, every property, every operation.

A property carries its own description even when it is a bare `$ref`: the referenced schema
says what the type is, the property what it holds here. Inline objects nested in a property
(items, unions, maps) are held to the same rule, and every `$ref` must resolve.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

Schema = dict[str, Any]
SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
SUBSCHEMAS = ("items", "additionalProperties", "not")
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture
def document(client: TestClient) -> Schema:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    served: Schema = answer.json()
    return served


def nested(schema: Schema) -> Iterator[Schema]:
    """The schemas directly inside `schema` other than its properties."""
    for key in SUBSCHEMA_LISTS:
        yield from schema.get(key, [])
    for key in SUBSCHEMAS:
        if isinstance(schema.get(key), dict):
            yield schema[key]


def undescribed_properties(schema: Schema, where: str) -> Iterator[str]:
    """`where.<property>` for each property, at any depth of inline objects, without one."""
    for name, prop in (schema.get("properties") or {}).items():
        if not str(prop.get("description", "")).strip():
            yield f"{where}.{name}"
        yield from undescribed_properties(prop, f"{where}.{name}")
    for inner in nested(schema):
        yield from undescribed_properties(inner, where)


def references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def test_every_schema_and_property_is_described(document: Schema) -> None:
    schemas: dict[str, Schema] = document["components"]["schemas"]
    missing = [name for name, schema in schemas.items() if not schema.get("description")]
    for name, schema in schemas.items():
        missing += undescribed_properties(schema, name)
    assert missing == [], f"{len(missing)} without a description:\n" + "\n".join(missing)


def test_every_reference_names_a_described_schema(document: Schema) -> None:
    schemas = document["components"]["schemas"]
    prefix = "#/components/schemas/"
    dangling = sorted(
        {ref for ref in references(document) if ref.removeprefix(prefix) not in schemas}
    )
    assert dangling == []
    used = {ref.removeprefix(prefix) for ref in references(document)}
    assert all(schemas[name].get("description") for name in used)


def test_every_operation_has_a_summary_and_a_description(document: Schema) -> None:
    missing = [
        f"{method.upper()} {path}: {part}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in METHODS
        for part in ("summary", "description")
        if not str(operation.get(part, "")).strip()
    ]
    assert missing == [], "\n".join(missing)


def test_the_checks_see_what_is_missing() -> None:
    """The walkers find an undescribed property wherever it hides, and accept a described one."""
    bare = {"type": "string"}
    schema: Schema = {
        "description": "x",
        "properties": {
            "plain": bare,
            "ref": {"$ref": "#/components/schemas/Other"},
            "listed": {
                "description": "d",
                "items": {"type": "object", "properties": {"inner": bare}},
            },
            "either": {
                "description": "d",
                "anyOf": [{"type": "object", "properties": {"deep": bare}}, {"type": "null"}],
            },
            "fine": {"description": "d", "type": "integer"},
        },
    }
    assert sorted(undescribed_properties(schema, "S")) == [
        "S.either.deep",
        "S.listed.inner",
        "S.plain",
        "S.ref",
    ]


def test_every_parameter_is_described(document: Schema) -> None:
    """Path, query and header parameters say what they hold, as properties do."""
    missing = [
        f"{method.upper()} {path}: {parameter['in']} {parameter['name']}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in METHODS
        for parameter in operation.get("parameters", [])
        if not str(parameter.get("description", "")).strip()
    ]
    assert missing == [], f"{len(missing)} without a description:\n" + "\n".join(missing)
