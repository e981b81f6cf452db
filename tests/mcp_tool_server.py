"""A small MCP server built with the official SDK, for tests: tools that echo, fail, sleep,
return an image and count their calls. `python -m tests.mcp_tool_server stdio` or
`... http <port>`; `--echo-description` sets the echo tool's description (a server that changes
it after a version pinned it is what the rug-pull guard refuses); `--calls FILE` appends a line
per call of `count`.
"""

import argparse
import asyncio
import base64
from pathlib import Path

from mcp.server.mcpserver import Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations

# A 1x1 transparent PNG.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def build(echo_description: str, calls: Path | None) -> MCPServer:
    server = MCPServer("test-tools")

    @server.tool(description=echo_description, annotations=ToolAnnotations(read_only_hint=True))
    def echo(text: str) -> str:
        return f"echo: {text}"

    @server.tool(description="Always fails.")
    def fail(reason: str) -> str:
        raise ToolError(f"failed on purpose: {reason}")

    @server.tool(description="Sleeps, then answers.")
    async def sleep(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "slept"

    @server.tool(description="Returns a picture.")
    def picture() -> Image:
        return Image(data=PIXEL, format="png")

    @server.tool(description="Waits, then counts its call in a file.")
    async def slow_count(label: str, seconds: float) -> str:
        await asyncio.sleep(seconds)
        return count(label)

    @server.tool(description="Counts its calls in a file.")
    def count(label: str) -> str:
        if calls is not None:
            with calls.open("a") as sink:
                sink.write(label + "\n")
        return f"counted {label}"

    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("transport", choices=["stdio", "http"])
    parser.add_argument("port", nargs="?", type=int, default=0)
    parser.add_argument("--echo-description", default="Echoes the text back.")
    parser.add_argument("--calls", type=Path, default=None)
    options = parser.parse_args()
    server = build(options.echo_description, options.calls)
    if options.transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=options.port)


if __name__ == "__main__":
    main()
