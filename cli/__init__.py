"""The `agent-runtime` command line."""
