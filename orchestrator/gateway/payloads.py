"""Reading the gateway's request parts and writing its reply parts.

A request's first part carries the payload: a `data` part (the most interoperable form for outside callers,
e.g. @a2a-js/sdk), JSON text, or raw JSON bytes (fastest for big batches). The reply uses the same kind of
part, with the skill's output media type: a `data` request gets a `data` reply holding the object. (`data`
parts are protobuf Values: integers arrive as floats, which the contracts accept; money is a decimal string.)
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import orjson
from a2a.types import Message, Part, SendMessageRequest
from google.protobuf.json_format import MessageToDict, ParseDict
from google.protobuf.struct_pb2 import Value
from pydantic import ValidationError

from riskmesh.contracts import RiskmeshModel, describe_validation_error
from riskmesh.orchestrator.gateway.skills import GatewaySkill, select_skill, wants_task

__all__ = [
    "PayloadError",
    "decode_message",
    "message_skill",
    "part_object",
    "proto_wants_task",
    "reply_part",
    "send_request_skill",
    "send_request_wants_task",
]


class PayloadError(ValueError):
    """The message carries no readable payload, or one that breaks the skill's contract."""


def _keys(obj: Any) -> frozenset[str] | None:
    return frozenset(obj) if isinstance(obj, dict) else None


def _loads(raw: bytes | str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"payload is not valid JSON: {exc}") from None


def part_object(part: Part) -> Any:
    """The JSON value the part carries."""
    content = part.WhichOneof("content")
    if content == "data":
        return MessageToDict(part.data)
    if content == "text":
        return _loads(part.text)
    if content == "raw":
        return _loads(part.raw)
    raise PayloadError(f"the first part holds {content or 'nothing'}; send a data part or JSON text")


def message_skill(message: Message) -> GatewaySkill:
    """The skill a protobuf message asks for (UnknownSkill / PayloadError otherwise)."""
    if not message.parts:
        raise PayloadError("the message has no parts; send the payload as a data part")
    part = message.parts[0]
    metadata = MessageToDict(message.metadata) if message.HasField("metadata") else {}

    def keys() -> frozenset[str] | None:
        if part.WhichOneof("content") == "data":
            value = part.data
            return frozenset(value.struct_value.fields) if value.HasField("struct_value") else None
        return _keys(part_object(part))

    return select_skill(metadata, part.media_type, keys)


def decode_message(message: Message) -> tuple[GatewaySkill, RiskmeshModel]:
    """The skill and its validated request; PayloadError names the bad field."""
    skill = message_skill(message)
    obj = part_object(message.parts[0])
    try:
        return skill, skill.request_model.model_validate(obj)
    except ValidationError as exc:
        reason, _ = describe_validation_error(exc)
        raise PayloadError(f"invalid {skill.request_model.__name__}: {reason}") from None


def reply_part(model: RiskmeshModel, media_type: str, like: Part | None) -> Part:
    """`model` in the same kind of part as the request's (`data` unless the request used raw or text)."""
    kind = like.WhichOneof("content") if like is not None else "data"
    if kind == "raw":
        return Part(raw=model.model_dump_json().encode(), media_type=media_type)
    if kind == "text":
        return Part(text=model.model_dump_json(), media_type=media_type)
    value = Value()
    ParseDict(model.model_dump(mode="json"), value)
    return Part(data=value, media_type=media_type)


# --- the same decisions on the JSON form of a request (the HTTP auth layer reads it before the SDK does) ---

def _dict_part_keys(part: Mapping[str, Any]) -> frozenset[str] | None:
    if "data" in part:
        return _keys(part["data"])
    try:
        if "text" in part:
            return _keys(orjson.loads(part["text"]))
        if "raw" in part:
            return _keys(orjson.loads(base64.b64decode(part["raw"])))
    except (orjson.JSONDecodeError, binascii.Error, TypeError, ValueError):
        return None
    return None


def send_request_skill(params: Mapping[str, Any]) -> GatewaySkill:
    """The skill of a SendMessageRequest in its JSON form (`{"message": …, "configuration": …}`)."""
    message = params.get("message") or {}
    parts = message.get("parts") or []
    if not parts or not isinstance(parts[0], Mapping):
        raise PayloadError("the message has no parts; send the payload as a data part")
    part = parts[0]
    media_type = str(part.get("mediaType") or part.get("media_type") or "")
    return select_skill(message.get("metadata") or {}, media_type, lambda: _dict_part_keys(part))


def send_request_wants_task(params: Mapping[str, Any]) -> bool:
    config = params.get("configuration") or {}
    message = params.get("message") or {}
    return wants_task(message.get("metadata") or {},
                      bool(config.get("returnImmediately") or config.get("return_immediately")),
                      bool(config.get("taskPushNotificationConfig") or config.get("task_push_notification_config")))


def proto_wants_task(request: SendMessageRequest) -> bool:
    metadata = MessageToDict(request.message.metadata) if request.message.HasField("metadata") else {}
    config = request.configuration
    return wants_task(metadata, config.return_immediately, config.HasField("task_push_notification_config"))

