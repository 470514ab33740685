"""The OpenAPI document is a contract (api/openapi.py): these tests fail when a route is added
or changed without its error responses, security, ids or body being described."""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import ERROR_STATUSES, errors
from chatalot.app import create_litestar
from chatalot.context import Ctx
from chatalot.services import images
from chatalot.services.instance_settings import KNOWN_KEYS
from tests.support.auth import make_user

FUZZ_CONFIG = Path(__file__).resolve().parents[1] / "fuzz" / "schemathesis.toml"
METHODS = ("get", "put", "post", "patch", "delete")


def document(app: Litestar) -> dict[str, Any]:
    return app.openapi_schema.to_schema()


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def handlers(app: Litestar) -> dict[tuple[str, str], HTTPRouteHandler]:
    """(METHOD, documented path) -> handler, for the routes in the document."""
    found = {}
    for route in app.routes:
        for method, (handler, _) in getattr(route, "route_handler_map", {}).items():
            if method.lower() in METHODS and handler.resolve_include_in_schema():
                found[(method, route.path_format)] = handler
    return found


def resolve(doc: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in value:
        node: Any = doc
        for part in value["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        value = node
    return value


@pytest.fixture
def app(ctx: Ctx) -> Litestar:
    return create_litestar(ctx)


def test_every_error_response_is_the_error_shape_with_its_code(app: Litestar) -> None:
    """Each 4xx an operation declares is {"error": {"code", "message"}} with that status' code."""
    doc = document(app)
    for method, path, op in operations(doc):
        for status, response in op["responses"].items():
            if not status.startswith("4"):
                continue
            body = resolve(doc, response)["content"]["application/json"]["schema"]
            assert body["required"] == ["error"], (method, path, status)
            detail = body["properties"]["error"]
            assert set(detail["required"]) == {"code", "message"}, (method, path, status)
            code = ERROR_STATUSES[int(status)].code.value
            assert detail["properties"]["code"]["const"] == code, (method, path, status)


def test_every_operation_documents_429_and_400_when_it_takes_input(app: Litestar) -> None:
    """Rate limits apply everywhere; any path, query or body input can be refused with 400;
    any body can be too large (413)."""
    for method, path, op in operations(document(app)):
        responses = op["responses"]
        assert "429" in responses, (method, path)
        assert "Retry-After" in resolve(document(app), responses["429"])["headers"]
        if op.get("parameters") or op.get("requestBody"):
            assert "400" in responses, (method, path)
        if op.get("requestBody"):
            assert "413" in responses, (method, path)


def test_operations_with_an_actor_need_the_bearer_token(app: Litestar) -> None:
    """A handler taking ``actor`` is documented with the bearer scheme and 401; one without it
    has neither (so the fuzzer and clients know which routes are public)."""
    doc = document(app)
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    by_route = handlers(app)
    assert len(by_route) == len(operations(doc))
    for method, path, op in operations(doc):
        takes_actor = "actor" in inspect.signature(by_route[(method, path)].fn).parameters
        assert bool(op.get("security")) is takes_actor, (method, path)
        if takes_actor:
            assert op["security"] == [{"bearerAuth": []}], (method, path)
            assert "401" in op["responses"], (method, path)


def test_community_gated_operations_document_403_and_404(app: Litestar) -> None:
    """Every /api/communities/{community_id}/... operation passes the community gate: 403 for
    outsiders, 404 for instance staff when the community does not exist."""
    doc = document(app)
    gated = [
        (method, path, op)
        for method, path, op in operations(doc)
        if path.startswith("/api/communities/{community_id}")
    ]
    assert len(gated) > 20
    for method, path, op in gated:
        assert {"403", "404"} <= set(op["responses"]), (method, path)


def test_id_path_parameters_are_uuids(app: Litestar) -> None:
    """Every path parameter named ``id`` or ``*_id`` is ``format: uuid`` and required."""
    seen = 0
    for method, path, op in operations(document(app)):
        for parameter in op.get("parameters", []):
            if parameter["in"] == "path" and re.fullmatch(r"id|\w+_id", parameter["name"]):
                seen += 1
                assert parameter["schema"] == {"type": "string", "format": "uuid"}, (method, path)
                assert parameter["required"] is True
    assert seen >= 10


async def test_a_non_uuid_id_in_a_path_is_a_400(
    app: Litestar, client: httpx.AsyncClient, ctx: Ctx
) -> None:
    """What `format: uuid` promises: any other text in an id position is refused with 400
    (never 404 or 500), whoever calls."""
    owner = await make_user(ctx, "uuidowner", is_admin=True, is_owner=True)
    for method, path, op in operations(document(app)):
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
        if not any(n.endswith("_id") for n in names):
            continue
        url = re.sub(r"\{\w+\}", "not-a-uuid", path)
        body = {} if "requestBody" in op else None
        response = await client.request(method, url, json=body, headers=owner.headers)
        assert response.status_code == 400, (method, path, response.text)
        assert response.json()["error"]["code"] == "validation_error"


def test_empty_success_has_no_body_and_json_success_has_a_schema(app: Litestar) -> None:
    """Handlers returning ``empty()`` document a 200 without content; the others document
    their JSON (or, for images, the file)."""
    by_route = handlers(app)
    for method, path, op in operations(document(app)):
        if "204" in op["responses"]:  # 204 No Content (e.g. /api/push/subscribe)
            assert "content" not in op["responses"]["204"], (method, path)
            continue
        success = op["responses"]["200"]
        returns = inspect.signature(by_route[(method, path)].fn).return_annotation
        if "Response[bytes]" in str(returns):
            assert "content" not in success, (method, path)
        else:
            assert success.get("content"), (method, path)


def test_upload_routes_document_their_multipart_parts(app: Litestar) -> None:
    """The routes that parse multipart themselves describe the parts they read."""
    doc = document(app)
    expected = {
        "/api/account/avatar": {images.AVATAR.field},
        "/api/account/banner": {images.BANNER.field},
        "/api/account/voice-background": {images.VOICE_BACKGROUND.field},
        "/api/feedback": {"title", "description", "category", "screenshot"},
        "/api/files/upload": {"file", "name", "channel_id"},
        "/api/communities/{community_id}/icon": {"icon"},
        "/api/communities/{community_id}/banner": {"banner"},
        "/api/communities/{community_id}/emojis": {"file", "shortcode"},
        "/api/groups/{group_id}/icon": {"icon"},
        "/api/groups/{group_id}/banner": {"banner"},
        "/api/groups/{group_id}/channels/{channel_id}/voice-background": {"background"},
    }
    for path, parts in expected.items():
        body = doc["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]
        assert set(body["schema"]["properties"]) == parts, path


def test_instance_settings_body_lists_every_setting(app: Litestar) -> None:
    """PUT /api/admin/settings documents exactly the settings the service accepts."""
    body = document(app)["paths"]["/api/admin/settings"]["put"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == set(KNOWN_KEYS)
    assert schema["additionalProperties"] is False


def test_fuzz_config_names_existing_operations(app: Litestar) -> None:
    """Every operation id in tests/fuzz/schemathesis.toml exists (ids are handler names)."""
    ids = {op["operationId"] for _, _, op in operations(document(app))}
    config = tomllib.loads(FUZZ_CONFIG.read_text())
    named = {i for entry in config["operations"] for i in entry["include-operation-id"]}
    assert named, "the fuzz config names no operation"
    assert named <= ids


@get("/api/contract-probe/{thing_id:str}", responses=errors(404))
async def _probe_get(ctx: CtxDep, actor: ActorDep, thing_id: FromPath[str]) -> dict[str, str]:
    return {}


@post("/api/contract-probe", status_code=200)
async def _probe_post(ctx: CtxDep, data: JSONBody[dict[str, str]]) -> Response[bytes]:
    return Response(b"")


def test_a_new_route_is_described_by_construction(ctx: Ctx) -> None:
    """A route added without any OpenAPI work gets security, 401, 400, 404, 413, 429, a UUID
    id and an empty 200 from the rules alone."""
    doc = document(create_litestar(ctx, extra_handlers=[_probe_get, _probe_post]))
    probe = doc["paths"]["/api/contract-probe/{thing_id}"]["get"]
    assert probe["security"] == [{"bearerAuth": []}]
    assert set(probe["responses"]) == {"200", "400", "401", "404", "429"}
    assert probe["parameters"][0]["schema"]["format"] == "uuid"
    public = doc["paths"]["/api/contract-probe"]["post"]
    assert "security" not in public
    assert set(public["responses"]) == {"200", "400", "413", "429"}
    assert "content" not in public["responses"]["200"]
