"""The gateway's Agent Card: valid A2A 1.0, served with cache headers, and every skill on it answers.

a2a-sdk ships no JSON Schema file for A2A 1.0; it ships the normative protobuf (`lf.a2a.v1`, with
`google.api.field_behavior` REQUIRED marks). The schema below is derived from that descriptor: JSON field
names, required fields, enum names, no unknown fields. The card is also parsed strictly by the SDK's own type.
"""

from __future__ import annotations

from typing import Any

import jsonschema
from a2a.types import AgentCard
from gateway_doubles import send, tx
from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.json_format import ParseDict

_WELL_KNOWN = {"google.protobuf.Struct": {"type": "object"}, "google.protobuf.Value": {},
               "google.protobuf.Timestamp": {"type": "string"}}
_SCALARS = {FieldDescriptor.TYPE_STRING: {"type": "string"},
            FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
            FieldDescriptor.TYPE_INT32: {"type": "integer"}, FieldDescriptor.TYPE_BYTES: {"type": "string"},
            FieldDescriptor.TYPE_INT64: {"type": ["string", "integer"]},
            FieldDescriptor.TYPE_DOUBLE: {"type": "number"}}


def _required(field: FieldDescriptor) -> bool:
    return field_behavior_pb2.REQUIRED in field.GetOptions().Extensions[field_behavior_pb2.field_behavior]


def _field(field: FieldDescriptor, defs: dict[str, Any]) -> dict[str, Any]:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        return {"type": "object", "additionalProperties": _field(field.message_type.fields_by_name["value"], defs)}
    if field.message_type is not None:
        item = _message(field.message_type, defs)
    elif field.enum_type is not None:
        item = {"enum": [v.name for v in field.enum_type.values]}
    else:
        item = dict(_SCALARS[field.type])
    return {"type": "array", "items": item} if field.is_repeated else item


def _message(desc: Descriptor, defs: dict[str, Any]) -> dict[str, Any]:
    if desc.full_name in _WELL_KNOWN:
        return _WELL_KNOWN[desc.full_name]
    if desc.full_name not in defs:
        defs[desc.full_name] = {}
        oneofs = [[f.json_name for f in o.fields] for o in desc.oneofs if len(o.fields) > 1]
        exclusive = [{"not": {"required": [a, b]}} for names in oneofs for a in names for b in names if a < b]
        defs[desc.full_name] = {
            "type": "object", "additionalProperties": False,
            "properties": {f.json_name: _field(f, defs) for f in desc.fields},
            "required": [f.json_name for f in desc.fields if _required(f)],
            **({"allOf": exclusive} if exclusive else {}),
        }
    return {"$ref": f"#/$defs/{desc.full_name}"}


def a2a_card_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    root = _message(AgentCard.DESCRIPTOR, defs)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **root, "$defs": defs}


async def test_the_served_card_validates_against_the_a2a_1_0_schema_and_parses_strictly(gateway):
    response = await gateway.http.get("/.well-known/agent-card.json")
    card = response.json()
    jsonschema.validate(card, a2a_card_schema())
    parsed = ParseDict(card, AgentCard(), ignore_unknown_fields=False)
    assert parsed.capabilities.streaming and parsed.capabilities.push_notifications
    assert {i.protocol_binding for i in parsed.supported_interfaces} == {"JSONRPC", "HTTP+JSON", "GRPC"}
    assert set(parsed.security_schemes) == {"bearer", "apiKey"}
    assert parsed.security_schemes["apiKey"].api_key_security_scheme.name == "X-API-Key"
    assert {s.id: list(s.security_requirements[0].schemes["bearer"].list) for s in parsed.skills} == {
        "assess-transaction": ["assess"], "assess-batch": ["assess"], "explain-decision": ["explain"],
        "submit-feedback": ["feedback"]}


def test_the_schema_catches_a_card_missing_a_required_field():
    schema = a2a_card_schema()
    try:
        jsonschema.validate({"name": "x"}, schema)
    except jsonschema.ValidationError:
        return
    raise AssertionError("a card without version, interfaces, skills… must not validate")


async def test_the_card_is_served_with_cache_control_and_an_etag(gateway):
    response = await gateway.http.get("/.well-known/agent-card.json")
    assert "max-age" in response.headers["cache-control"]
    again = await gateway.http.get("/.well-known/agent-card.json", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


_PAYLOADS = {
    "assess-transaction": tx("T-c1"),
    "assess-batch": {"transactions": [tx("T-c2")]},
    "explain-decision": {"tx_id": "T-c1"},
    "submit-feedback": {"feedback": [{"tx_id": "T-c1", "kind": "confirmed_fraud"}]},
}


async def test_every_skill_on_the_card_answers_with_its_declared_output_media_type(gateway):
    card = ParseDict((await gateway.http.get("/.well-known/agent-card.json")).json(), AgentCard())
    assert [s.id for s in card.skills] == list(_PAYLOADS)
    for skill in card.skills:
        result = await send(gateway, _PAYLOADS[skill.id], metadata={"riskmesh": {"skill": skill.id}})
        assert result["message"]["parts"][0]["mediaType"] == skill.output_modes[0], skill.id
