from riskmesh.agents.registry import MCP_SERVERS_FOR_AGENT
from riskmesh.mcp_servers.serve import SERVER_NAMES
from riskmesh.orchestrator.stack import MCP_FOR_AGENT
from riskmesh.orchestrator.topology import AGENT_KINDS, MCP_SERVERS


def test_the_launcher_gives_each_agent_exactly_the_mcp_servers_its_registry_names():
    assert {k: set(v) for k, v in MCP_FOR_AGENT.items()} == {k: set(v) for k, v in MCP_SERVERS_FOR_AGENT.items()}


def test_the_launcher_starts_every_mcp_server_and_every_agent():
    assert set(MCP_SERVERS) == set(SERVER_NAMES)
    assert set(AGENT_KINDS) == set(MCP_SERVERS_FOR_AGENT)
