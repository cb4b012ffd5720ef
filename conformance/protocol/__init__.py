"""The Live Photos protocol as code, once: the request's endpoint, header, fields, valid values and
limits (read from ``schemas/``), the response envelope, and the multipart reader. The reference
server, the proxy, the strategies and the checks import these instead of restating them (issue 16).
"""

from __future__ import annotations

from conformance.protocol.envelope import Outcome, envelope, error, new_request_id, status_of, success
from conformance.protocol.multipart import (
    MAX_BODY_BYTES,
    OBSERVER_LIMITS,
    SERVER_LIMITS,
    Form,
    FormLimits,
    FormPart,
    MultipartReader,
    UploadRejected,
    check_content_length,
    check_content_type,
    parse_form,
    read_form,
)
from conformance.protocol.request import (
    DEFAULT_TYPE,
    ENDPOINT_PATH,
    FORM_MEDIA_TYPE,
    FORMAT_MEDIA_TYPES,
    FORMATS,
    IMAGE_FIELD,
    KEY_HEADER,
    MAX_IMAGE_BYTES,
    MAX_SIDE,
    METHOD,
    MIN_SIDE,
    TYPE_FIELD,
    VALID_TYPES,
)

__all__ = [
    "DEFAULT_TYPE",
    "ENDPOINT_PATH",
    "FORMATS",
    "FORMAT_MEDIA_TYPES",
    "FORM_MEDIA_TYPE",
    "IMAGE_FIELD",
    "KEY_HEADER",
    "MAX_BODY_BYTES",
    "MAX_IMAGE_BYTES",
    "MAX_SIDE",
    "METHOD",
    "MIN_SIDE",
    "OBSERVER_LIMITS",
    "SERVER_LIMITS",
    "TYPE_FIELD",
    "VALID_TYPES",
    "Form",
    "FormLimits",
    "FormPart",
    "MultipartReader",
    "Outcome",
    "UploadRejected",
    "check_content_length",
    "check_content_type",
    "envelope",
    "error",
    "new_request_id",
    "parse_form",
    "read_form",
    "status_of",
    "success",
]
