"""The LangGraph-compatible API: the subset of LangGraph's Agent Server API its SDK uses,
mapped onto our agents, threads and runs (a view, not a second data model). Mounted at
`LANGGRAPH_API_PREFIX` (default `/langgraph`); the README's table lists what is supported."""

from fastapi import APIRouter

from backend.routes.langgraph import assistants, crons, runs, threads

router = APIRouter(tags=["langgraph"])
for part in (assistants, threads, crons, runs):
    router.include_router(part.router)
