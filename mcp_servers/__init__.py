"""The riskmesh MCP data servers: one server per data domain, every tool a batch tool.

Servers may import only `riskmesh.contracts` and third-party libraries. Run them with
`python -m riskmesh.mcp_servers.serve` or build them in process with `build_servers`.
"""

from riskmesh.mcp_servers.action_store import ActionStore, MemoryActionStore, RedisActionStore
from riskmesh.mcp_servers.history import HistoryStore, MemoryHistoryStore, RedisHistoryStore
from riskmesh.mcp_servers.screening import NameScreener, normalise_name
from riskmesh.mcp_servers.serve import SERVER_NAMES, build_servers, http_app
from riskmesh.mcp_servers.stores import ReferenceData, load_reference_data

__all__ = [
    "SERVER_NAMES",
    "ActionStore",
    "HistoryStore",
    "MemoryActionStore",
    "MemoryHistoryStore",
    "NameScreener",
    "RedisActionStore",
    "RedisHistoryStore",
    "ReferenceData",
    "build_servers",
    "http_app",
    "load_reference_data",
    "normalise_name",
]
