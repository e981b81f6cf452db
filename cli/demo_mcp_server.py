"""The MCP server `make dev`'s `demo-mcp` agent calls, over stdio: a few text tools, so a
newcomer sees tools from an MCP server work without any key. Built with the official SDK.

`python -m cli.demo_mcp_server` speaks MCP on stdin/stdout.
"""

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

READ_ONLY = ToolAnnotations(read_only_hint=True)


def build() -> MCPServer:
    server = MCPServer("agent-runtime-demo")

    @server.tool(description="Reverse a text.", annotations=READ_ONLY)
    def reverse(text: str) -> str:
        return text[::-1]

    @server.tool(description="Count the words of a text.", annotations=READ_ONLY)
    def word_count(text: str) -> int:
        return len(text.split())

    return server


if __name__ == "__main__":
    build().run("stdio")
