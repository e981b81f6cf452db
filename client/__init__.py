"""The one typed REST client of Agent Runtime (httpx): used by the CLI, notebooks and workbench.

It speaks HTTP only and imports nothing of the server.
"""

from client.api import AgentRuntimeClient, ApiError

__all__ = ["AgentRuntimeClient", "ApiError"]
