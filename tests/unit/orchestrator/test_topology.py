from riskmesh.agents.registry import MCP_SERVERS_FOR_AGENT
from riskmesh.mcp_servers.serve import SERVER_NAMES
from riskmesh.orchestrator.topology import AGENT_KINDS, MCP_SERVERS


def test_the_launcher_starts_every_mcp_server_and_every_agent():
    assert set(MCP_SERVERS) == set(SERVER_NAMES)
    assert set(AGENT_KINDS) == set(MCP_SERVERS_FOR_AGENT)


def test_every_mcp_server_an_agent_needs_is_one_the_launcher_starts():
    assert set().union(*MCP_SERVERS_FOR_AGENT.values()) <= set(MCP_SERVERS)
