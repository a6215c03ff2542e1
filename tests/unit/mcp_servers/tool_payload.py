"""Reading riskmesh MCP tool answers in tests: each is one text block holding a JSON object."""

from __future__ import annotations

from typing import Any

import orjson
from mcp.types import CallToolResult, TextContent


def payload(result: CallToolResult) -> dict[str, Any]:
    """The JSON object a successful batch tool answered (see `toolkit.batch_result`)."""
    assert not result.is_error, result.content
    assert result.structured_content is None
    (block,) = result.content
    assert isinstance(block, TextContent)
    body = orjson.loads(block.text)
    assert isinstance(body, dict)
    return body
