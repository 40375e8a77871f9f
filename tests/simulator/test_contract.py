"""The simulator's OpenAPI document against the vendor's published one, and conformance to it."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from replay.simulator import SimulatorConfig, create_app

from .conftest import TOKEN

PUBLISHED = Path(__file__).resolve().parents[2] / ".." / "shared" / "api" / "execute-playbook.md"


def _own_document() -> dict[str, Any]:
    text = resources.files("replay.simulator").joinpath("openapi.json").read_text(encoding="utf-8")
    return json.loads(text)


@pytest.fixture(scope="module")
def published() -> dict[str, Any]:
    if not PUBLISHED.exists():
        pytest.skip("the shared API reference is not present")
    yaml = pytest.importorskip("yaml")
    found = re.search(
        r"````yaml[^\n]*\n(.*?)\n````", PUBLISHED.read_text(encoding="utf-8"), re.DOTALL
    )
    assert found, "no yaml block in the published reference"
    return yaml.safe_load(found.group(1))


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _fields(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Collect every property reachable through $ref, allOf, oneOf and anyOf."""
    schema = _resolve(document, schema)
    found: dict[str, dict[str, Any]] = {}
    for combinator in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(combinator, []):
            found.update(_fields(document, part))
    for name, prop in schema.get("properties", {}).items():
        found[name] = _resolve(document, prop)
    return found


def _shape(document: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any]:
    """Return what clients depend on: type, format, default, item and value types."""
    shape = {key: prop.get(key) for key in ("type", "format", "default")}
    if "items" in prop:
        items = _resolve(document, prop["items"])
        shape["items"] = {
            name: _shape(document, value) for name, value in _fields(document, items).items()
        } or items.get("type")
        shape["items_required"] = sorted(items.get("required", []))
    if isinstance(prop.get("additionalProperties"), dict):
        shape["values"] = prop["additionalProperties"].get("type")
    return shape


def _compare(
    ours: dict[str, Any], theirs: dict[str, Any], our_schema: Any, their_schema: Any
) -> None:
    our_fields = _fields(ours, our_schema)
    their_fields = _fields(theirs, their_schema)
    assert sorted(our_fields) == sorted(their_fields)
    for name in their_fields:
        assert _shape(ours, our_fields[name]) == _shape(theirs, their_fields[name]), name


def _operation(document: dict[str, Any], path: str = "/playbook/execution") -> dict[str, Any]:
    return document["paths"][path]["post"]


def test_request_fields_match(published) -> None:
    ours = _own_document()
    _compare(
        ours,
        published,
        _operation(ours)["requestBody"]["content"]["application/json"]["schema"],
        _operation(published)["requestBody"]["content"]["application/json"]["schema"],
    )


def test_batch_items_match(published) -> None:
    ours = _own_document()
    batch = _resolve(
        ours,
        _operation(ours, "/playbook/execution/batch")["requestBody"]["content"]["application/json"][
            "schema"
        ],
    )
    assert batch["required"] == ["inputList"]
    assert (
        batch["properties"]["inputList"]["minItems"],
        batch["properties"]["inputList"]["maxItems"],
    ) == (1, 10)
    _compare(
        ours,
        published,
        batch["properties"]["inputList"]["items"],
        _operation(published)["requestBody"]["content"]["application/json"]["schema"],
    )
    single = _fields(published, {"$ref": "#/components/schemas/ExecutionTargetParams"})
    for name in ("liveRun", "channelId"):
        assert _shape(ours, batch["properties"][name]) == _shape(published, single[name])


@pytest.mark.parametrize("status", ["200", "400", "401", "403", "500"])
def test_response_fields_match(published, status: str) -> None:
    ours = _own_document()
    our_schema = _operation(ours)["responses"][status]["content"]["application/json"]["schema"]
    their_schema = _operation(published)["responses"][status]["content"]["application/json"][
        "schema"
    ]
    _compare(ours, published, our_schema, their_schema)
    batch = _operation(ours, "/playbook/execution/batch")["responses"][status]["content"][
        "application/json"
    ]["schema"]
    if status == "200":
        assert batch["type"] == "array"
        batch = batch["items"]
    _compare(ours, published, batch, their_schema)


def test_validation_error_shapes(published) -> None:
    ours = _own_document()
    shapes = [
        [
            _shape(document, _resolve(document, part)["properties"]["error"])
            for part in document["components"]["schemas"]["ValidationError"]["oneOf"]
        ]
        for document in (ours, published)
    ]
    assert shapes[0] == shapes[1]


def test_documents_auth_and_statuses(published) -> None:
    ours = _own_document()
    assert ours["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert ours["security"] == published["security"]
    for path in ("/playbook/execution", "/playbook/execution/batch"):
        responses = _operation(ours, path)["responses"]
        assert set(_operation(published)["responses"]) | {"429"} <= set(responses)
        assert "Retry-After" in responses["429"]["headers"]


# Schema-driven conformance: positive and negative cases against the app in-process.
_app = create_app(SimulatorConfig(token=TOKEN, latency_scale=0))
_schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


@_schema.parametrize()
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_conformance(case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"})
