"""What the portal's forms post: URL-encoded fields, read with limits, and crowd-form's `taskAnswers`.

Only `application/x-www-form-urlencoded` is taken (all the portal's forms, and crowd-form, send it);
a body over MAX_BODY_BYTES, not UTF-8, or repeating a field is refused with a 4xx and a message.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from offline.aws.errors import SerializationException
from offline.aws.protocols.json import load_json_object

MAX_BODY_BYTES = 4 * 1024 * 1024  # an answer with long free text fits many times over
MAX_FIELDS = 64
FORM_TYPE = "application/x-www-form-urlencoded"


class FormError(Exception):
    """A form the portal cannot take: `status` (400, 413, 415) and a message for the page."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def parse_form(content_type: str | None, body: bytes) -> dict[str, str]:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != FORM_TYPE:
        raise FormError(415, f"the form must be sent as {FORM_TYPE}")
    if len(body) > MAX_BODY_BYTES:
        raise FormError(413, f"the form is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB")
    try:
        text = body.decode("utf-8")
        fields = parse_qs(
            text, keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_FIELDS, errors="strict"
        )
    except UnicodeDecodeError as e:
        raise FormError(400, "the form is not UTF-8") from e
    except ValueError as e:  # too many fields
        raise FormError(400, f"the form has more than {MAX_FIELDS} fields") from e
    repeated = sorted(name for name, values in fields.items() if len(values) > 1)
    if repeated:
        raise FormError(400, f"the form repeats the field {repeated[0]!r}")
    return {name: values[0] for name, values in fields.items()}


def parse_task_answers(text: str | None) -> dict:
    """crowd-form's `taskAnswers`: a JSON array holding one object, which becomes A2I's answerContent."""
    if text is None or not text.strip():
        raise FormError(400, "the form has no taskAnswers: submit it from the task page")
    try:
        value = json.loads(text, parse_constant=_not_json)
    except RecursionError as e:
        raise FormError(400, "taskAnswers nests too deeply") from e
    except ValueError as e:
        raise FormError(400, f"taskAnswers is not JSON: {e}") from e
    if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], dict):
        raise FormError(400, "taskAnswers must be a JSON array holding one object (what crowd-form submits)")
    try:  # the limits of every JSON document the local runtime takes (depth, valid Unicode)
        return load_json_object(
            json.dumps(value[0], ensure_ascii=False).encode("utf-8", "surrogatepass"), "taskAnswers[0]"
        )
    except SerializationException as e:
        raise FormError(400, e.message) from e


def _not_json(constant: str):
    raise ValueError(f"{constant} is not a JSON number")
