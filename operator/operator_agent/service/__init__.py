"""The agent as a service: `operator mcp` serves it to MCP clients (stdio or streamable
HTTP). tools.py does the work (the same assembly as `operator run`), mcp_server.py speaks
MCP, person.py is how the person (never the calling client) is asked to approve."""
