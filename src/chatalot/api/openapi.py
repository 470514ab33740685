"""The OpenAPI document (``/api/openapi/openapi.json``) as a contract that a fuzzer can hold the
server to (``scripts/fuzz``).

Litestar describes each route from its signature; this module adds what Litestar cannot see,
in one place, so that a new route is described correctly without extra work:

- every error is our one shape, ``{"error": {"code", "message"}}``, with the code that status
  always carries (``components/responses``), never Litestar's default 400 body;
- every route can answer 429 (rate limits, ``Retry-After``); a route with any input (path,
  query or body) can answer 400; a route with a body can answer 413; a route that takes the
  ``actor`` dependency needs the bearer token and can answer 401;
- path parameters named ``id`` or ``*_id`` are UUIDs (``format: uuid``);
- a handler returning ``Response[bytes]`` or a subclass (``api.responses.empty()``) answers 200
  with no body; a query parameter typed ``X | None`` is optional, not nullable;
- operations are named after their handler (``put_user_admin``) and tagged with their routes
  module (``account``, ``admin_users``, ...).

What only the route knows is said in its decorator or signature, briefly:
``responses=errors(403, 404)`` for the other statuses it can answer, ``opt=multipart(...)`` for
upload routes that parse their multipart body themselves, ``integer_query(1, 100)`` /
``described_query(...)`` / ``described_path(...)`` for text parameters the handler parses itself,
``opt=required_query("q")`` for one it needs but checks itself. Body fields carry their rules in
``protocol/api/constraints.py``.

``ApiContract`` (a Litestar init plugin, installed in app.py) applies this to every handler.
"""

from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass
from typing import Any, ClassVar

from litestar import Response
from litestar.config.app import AppConfig
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import (
    Components,
    Encoding,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import PathParameter, QueryParameter
from litestar.plugins import InitPluginProtocol

from chatalot.errors import ErrorCode
from chatalot.protocol.api.errors import ErrorOut

OPENAPI_PATH = "/api/openapi"
BEARER_SCHEME = "bearerAuth"
MULTIPART_KEY = "openapi_multipart"
REQUIRED_QUERY_KEY = "openapi_required_query"


@dataclass(frozen=True, slots=True)
class ErrorStatus:
    status: int
    name: str  # the key under components/responses
    code: ErrorCode
    description: str
    headers: tuple[str, ...] = ()


ERROR_STATUSES: dict[int, ErrorStatus] = {
    e.status: e
    for e in (
        ErrorStatus(
            400,
            "ValidationError",
            ErrorCode.VALIDATION_ERROR,
            "Invalid input: malformed JSON, a missing field, a wrong type or a value the server "
            "refuses; the message names what is wrong.",
        ),
        ErrorStatus(
            401,
            "Unauthorized",
            ErrorCode.UNAUTHORIZED,
            "The access token is missing, malformed, expired or revoked, or the account is "
            "suspended (clients sign out on 401).",
        ),
        ErrorStatus(403, "Forbidden", ErrorCode.FORBIDDEN, "Signed in, but not allowed."),
        ErrorStatus(
            404,
            "NotFound",
            ErrorCode.NOT_FOUND,
            "The resource does not exist, or its existence is private.",
        ),
        ErrorStatus(409, "Conflict", ErrorCode.CONFLICT, "A uniqueness or state conflict."),
        ErrorStatus(
            413, "PayloadTooLarge", ErrorCode.PAYLOAD_TOO_LARGE, "The request body is too large."
        ),
        ErrorStatus(
            416,
            "RangeNotSatisfiable",
            ErrorCode.RANGE_NOT_SATISFIABLE,
            "The requested byte range starts past the end of the file; Content-Range gives "
            "its size (`bytes */{size}`).",
            headers=("Content-Range",),
        ),
        ErrorStatus(
            429,
            "RateLimited",
            ErrorCode.RATE_LIMITED,
            "Too many requests (per client address, or a lockout after failed attempts).",
            headers=("Retry-After",),
        ),
        ErrorStatus(
            502,
            "BadGateway",
            ErrorCode.BAD_GATEWAY,
            "A service this server relies on (e.g. GIPHY) failed or timed out; retry later.",
        ),
    )
}

_HEADERS = {
    "Content-Range": OpenAPIHeader(
        description="`bytes */{size}`: the size of the file.",
        required=True,
        schema=Schema(type=OpenAPIType.STRING),
    ),
    "Retry-After": OpenAPIHeader(
        description="Seconds to wait before trying again.",
        required=True,
        schema=Schema(type=OpenAPIType.INTEGER, minimum=0),
    ),
}


def _error_schema(code: ErrorCode) -> Schema:
    detail = Schema(
        type=OpenAPIType.OBJECT,
        required=["code", "message"],
        properties={
            "code": Schema(type=OpenAPIType.STRING, const=code.value),
            "message": Schema(type=OpenAPIType.STRING, description="Safe to show to a person."),
        },
        additional_properties=False,
    )
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["error"],
        properties={"error": detail},
        additional_properties=False,
    )


def _error_response(error: ErrorStatus) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=error.description,
        content={"application/json": OpenAPIMediaType(schema=_error_schema(error.code))},
        headers={name: _HEADERS[name] for name in error.headers} or None,
    )


def error_ref(status: int) -> Reference:
    return Reference(ref=f"#/components/responses/{ERROR_STATUSES[status].name}")


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The route-specific error statuses of a route (e.g. ``errors(403, 404)``); 400, 401,
    413 and 429 are added by the rules above and need not be listed."""
    unknown = [s for s in statuses if s not in ERROR_STATUSES]
    if unknown:
        raise ValueError(f"no error response is described for {unknown}")
    return {
        s: ResponseSpec(
            data_container=ErrorOut,
            description=ERROR_STATUSES[s].description,
            generate_examples=False,
        )
        for s in statuses
    }


def binary_part(*media_types: str) -> Schema:
    """A file part of a multipart body (``media_types``: what the server accepts)."""
    return Schema(
        type=OpenAPIType.STRING,
        format=OpenAPIFormat.BINARY,
        content_media_type=", ".join(media_types) if media_types else None,
    )


def multipart(
    *, required: tuple[str, ...] = (), **parts: Schema | dict[str, Any]
) -> dict[str, Any]:
    """``opt=`` for an upload route that reads its multipart/form-data body itself (Litestar
    sees no ``data`` parameter there, so it would document no body)."""
    aliases = Schema.field_aliases()
    properties: dict[str, Schema | Reference] = {
        name: part
        if isinstance(part, Schema)
        else Schema(**{aliases.get(k, k): v for k, v in part.items()})
        for name, part in parts.items()
    }
    encoding = {
        name: Encoding(content_type=part.content_media_type)
        for name, part in properties.items()
        if isinstance(part, Schema) and part.content_media_type
    }
    body = RequestBody(
        required=True,
        content={
            "multipart/form-data": OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.OBJECT,
                    properties=properties,
                    required=list(required) or None,
                ),
                encoding=encoding or None,
            )
        },
    )
    return {MULTIPART_KEY: body}


def integer_query(
    low: int | None, high: int | None, description: str | None = None
) -> QueryParameter:
    """A query parameter the handler reads as text and parses with ``api.params.parse_int``
    (same bounds; None: any whole number), documented as the integer it must be."""
    schema: dict[str, Any] = {"type": OpenAPIType.INTEGER}
    if low is not None:
        schema["minimum"] = low
    if high is not None:
        schema["maximum"] = high
    return QueryParameter(schema_extra=schema, description=description)


def binary_response(media_type: str, description: str) -> dict[int, ResponseSpec]:
    """``responses=`` for a route whose 200 is a file (e.g. ``image/*``), not JSON."""
    return {
        200: ResponseSpec(
            data_container=bytes,
            media_type=media_type,
            description=description,
            generate_examples=False,
        )
    }


def described_query(description: str | None = None, **schema: Any) -> QueryParameter:
    """A text query parameter with JSON-schema keywords for the document only (e.g.
    ``format="uuid"``, ``enum=[...]``, ``minLength=2``)."""
    return QueryParameter(schema_extra=schema or None, description=description)


def described_path(description: str | None = None, **schema: Any) -> PathParameter:
    """A path parameter with JSON-schema keywords for the document only."""
    return PathParameter(schema_extra=schema or None, description=description)


def required_query(*names: str) -> dict[str, Any]:
    """``opt=`` for query parameters that the handler receives as optional (so that its own
    400 message is used) but that every valid request has."""
    return {REQUIRED_QUERY_KEY: frozenset(names)}


IMAGE_PART = binary_part("image/png", "image/jpeg", "image/webp", "image/gif")


# -- applying the rules --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RouteFacts:
    """What the rules need to know about one handler, read from its signature and options."""

    authenticated: bool
    empty_success: bool
    tag: str | None
    multipart: RequestBody | None
    required_query: frozenset[str] = frozenset()


def route_facts(handler: HTTPRouteHandler) -> RouteFacts:
    fn = handler.fn
    parameters = inspect.signature(fn).parameters
    try:
        returns = typing.get_type_hints(fn).get("return")
    except (NameError, TypeError):  # a type only imported for type checking
        returns = None
    module = getattr(fn, "__module__", "") or ""
    prefix = "chatalot.api.routes."
    multipart_body = handler.opt.get(MULTIPART_KEY)
    return RouteFacts(
        authenticated="actor" in parameters,
        empty_success=_is_empty_response(returns),
        tag=module[len(prefix) :] if module.startswith(prefix) else None,
        multipart=multipart_body if isinstance(multipart_body, RequestBody) else None,
        required_query=frozenset(handler.opt.get(REQUIRED_QUERY_KEY, ())),
    )


def _is_empty_response(annotation: Any) -> bool:
    """``Response[bytes]`` or a subclass of it: what ``api.responses.empty()`` gives."""
    return annotation == Response[bytes] or Response[bytes] in getattr(
        annotation, "__orig_bases__", ()
    )


def _without_null(schema: Schema | Reference | None) -> Schema | Reference | None:
    """A parameter typed ``X | None`` is simply optional: a query string cannot hold null."""
    if not isinstance(schema, Schema) or not schema.one_of:
        return schema
    members = [
        m for m in schema.one_of if not (isinstance(m, Schema) and m.type == OpenAPIType.NULL)
    ]
    if len(members) == len(schema.one_of):
        return schema
    if schema.type is None and len(members) == 1 and isinstance(members[0], Schema):
        schema.type = members[0].type
        schema.format = schema.format or members[0].format
        schema.one_of = None
    elif schema.type is not None:
        schema.one_of = None
    else:
        schema.one_of = members
    return schema


def _is_uuid_name(name: str) -> bool:
    return name == "id" or name.endswith("_id")


class ContractOperation(Operation):
    """An Operation that applies the module's rules once Litestar has built it."""

    facts: ClassVar[RouteFacts]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        apply_rules(self, self.facts)


def apply_rules(operation: Operation, facts: RouteFacts) -> None:
    if facts.multipart is not None:
        operation.request_body = facts.multipart
    if facts.tag and not operation.tags:
        operation.tags = [facts.tag]
    for parameter in operation.parameters or []:
        if isinstance(parameter, Parameter):
            _describe_parameter(parameter, facts)
    if facts.authenticated:
        operation.security = [{BEARER_SCHEME: []}]
    responses: dict[str, Any] = dict(operation.responses or {})
    for status in _error_statuses(operation, responses, facts):
        responses[str(status)] = error_ref(status)
    if facts.empty_success:
        for code, response in responses.items():
            if code.startswith("2") and isinstance(response, OpenAPIResponse):
                response.content = None
                response.description = "Done (an empty body)."
    operation.responses = dict(sorted(responses.items()))


def _describe_parameter(parameter: Parameter, facts: RouteFacts) -> None:
    parameter.schema = _without_null(parameter.schema)
    if parameter.param_in == "query" and parameter.name in facts.required_query:
        parameter.required = True
    schema = parameter.schema
    if (
        parameter.param_in == "path"
        and _is_uuid_name(parameter.name)
        and isinstance(schema, Schema)
        and schema.type == OpenAPIType.STRING
    ):
        schema.format = OpenAPIFormat.UUID


def _error_statuses(operation: Operation, responses: dict[str, Any], facts: RouteFacts) -> set[int]:
    """The 4xx statuses the route declared, plus those every route of its kind can answer."""
    statuses = {int(s) for s in responses if s.isdigit() and 400 <= int(s) < 500}
    statuses.add(429)
    if operation.parameters or operation.request_body is not None:
        statuses.add(400)
    if operation.request_body is not None:
        statuses.add(413)
    if facts.authenticated:
        statuses.add(401)
    return statuses


def operation_class_for(handler: HTTPRouteHandler) -> type[Operation]:
    facts = route_facts(handler)
    return type("ContractOperation", (ContractOperation,), {"facts": facts})


class ApiContract(InitPluginProtocol):
    """Gives every route handler of the app the operation class that applies the rules.
    Idempotent: the same handler may be registered in several apps (tests)."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        for handler in app_config.route_handlers:
            if isinstance(handler, HTTPRouteHandler) and handler.include_in_schema is not False:
                handler.operation_class = operation_class_for(handler)
        return app_config


def handler_operation_id(handler: HTTPRouteHandler, method: Any, path: Any) -> str:
    """The handler's function name (``get_me``, ``put_user_admin``): unique, and stable when a
    path changes."""
    return handler.handler_name


def openapi_config(version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Chatalot",
        version=version,
        description=(
            'The Chatalot REST API. Errors are `{"error": {"code", "message"}}`; ids are '
            "UUIDs; actions that return nothing answer 200 with an empty body. No string may "
            "contain NUL (U+0000): PostgreSQL cannot store it, so it is a 400 everywhere. "
            "Lengths the server checks are in UTF-8 bytes; a `maxLength` or pattern here is what "
            "always fits, and each field's description gives the limit."
        ),
        path=OPENAPI_PATH,
        render_plugins=[],
        operation_id_creator=handler_operation_id,
        components=Components(
            security_schemes={
                BEARER_SCHEME: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="The access token from /api/auth/login, register or refresh.",
                )
            },
            responses={e.name: _error_response(e) for e in ERROR_STATUSES.values()},
        ),
    )
