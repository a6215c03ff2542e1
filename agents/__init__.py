"""Analysis logic of the agents, free of transport code. Data comes only through an MCP ToolCaller."""
