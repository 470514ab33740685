"""`/api/feedback`: in-app feedback from any signed-in user (multipart form)."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.datastructures import UploadFile
from litestar.exceptions import ClientException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from chatalot.api.deps import ActorDep, CtxDep
from chatalot.api.openapi import IMAGE_PART, multipart
from chatalot.errors import Invalid
from chatalot.protocol.api.constraints import text_schema
from chatalot.protocol.api.feedback import FeedbackOut
from chatalot.services import feedback as feedback_service
from chatalot.services.feedback import FeedbackSubmission

# Screenshot (5 MiB) plus the text parts, with room to answer an oversized screenshot with the
# original's message; anything larger is refused (413) before it is read.
MAX_FEEDBACK_BODY_BYTES = 8 * 1024 * 1024
_TEXT_PARTS = ("title", "description", "category")
TITLE_PART = text_schema(feedback_service.MAX_TITLE_BYTES, required=True)
DESCRIPTION_PART = text_schema(
    feedback_service.MAX_DESCRIPTION_BYTES, required=True, multiline=True
)
CATEGORY_PART = {"type": "string", "enum": list(feedback_service.CATEGORIES)}


async def _read_form(request: Request[Any, Any, Any]) -> FeedbackSubmission:
    """Parses the multipart body. Anything but a well-formed multipart/form-data body is a
    400 ``invalid form data: ...``; a missing text part counts as empty."""
    media_type, _ = request.content_type
    if media_type != "multipart/form-data":
        raise Invalid("invalid form data: expected a multipart/form-data body")
    try:
        form = await request.form()
    except RequestEntityTooLarge:
        raise
    except ClientException as exc:
        raise Invalid(f"invalid form data: {exc.detail}") from None
    except (UnicodeDecodeError, LookupError):
        raise Invalid("invalid form data: text parts must be UTF-8") from None
    try:
        texts: dict[str, str] = {}
        for name in _TEXT_PARTS:
            values = form.getall(name) if name in form else []
            if len(values) > 1:
                raise Invalid(f"invalid form data: more than one {name} part")
            if values and not isinstance(values[0], str):
                raise Invalid(f"invalid form data: {name} must be a text part")
            texts[name] = values[0] if values else ""
        screenshot = await _read_screenshot(
            form.getall("screenshot") if "screenshot" in form else []
        )
    finally:
        await form.close()
    return FeedbackSubmission(screenshot=screenshot, **texts)


async def _read_screenshot(values: list[Any]) -> bytes | None:
    if len(values) > 1:
        raise Invalid("invalid form data: more than one screenshot part")
    if not values:
        return None
    value = values[0]
    if isinstance(value, UploadFile):
        # one byte past the limit is enough to know it is too big
        data = await value.read(feedback_service.MAX_SCREENSHOT_BYTES + 1)
    else:
        data = str(value).encode()
    return data or None


@post(
    "/api/feedback",
    status_code=200,
    request_max_body_size=MAX_FEEDBACK_BODY_BYTES,
    opt=multipart(
        required=("title", "description", "category"),
        title=TITLE_PART,
        description=DESCRIPTION_PART,
        category=CATEGORY_PART,
        screenshot=IMAGE_PART,
    ),
)
async def post_feedback(
    ctx: CtxDep, actor: ActorDep, request: Request[Any, Any, Any]
) -> FeedbackOut:
    form = await _read_form(request)
    result = await feedback_service.submit_feedback(ctx, actor, form)
    return FeedbackOut(
        success=True, issue_number=result.issue_number, message=feedback_service.SUCCESS_MESSAGE
    )


HANDLERS = [post_feedback]
