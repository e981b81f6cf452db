"""The workbench's pages; each module owns its page's state (a substate of the session's)."""
