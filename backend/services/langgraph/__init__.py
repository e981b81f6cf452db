"""The LangGraph-compatible API's services: our agents, threads and runs in LangGraph's shapes
(assistants, threads with values and interrupts, runs and their stream modes)."""
