"""The event stores against a real database and a real redis-server of the test's own: ids come
from the database and never restart, and a follower reads the database wherever the Redis
stream is incomplete (a gap, a flushed or unreachable Redis, events it never got)."""

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from core.db import TenantScope, make_engine, scoped_session
from core.event_store import DatabaseEventLog, RedisEventLog
from core.events import NewEvent, RunEvent
from tests.faults.redis_server import RedisServer, running_redis
from tests.helpers import free_port
from tests.test_events import a_queued_run

T = TypeVar("T")


def batch(*names: str) -> list[NewEvent]:
    return [("step.started", {"name": name}) for name in names]


def ids(events: list[RunEvent]) -> list[int]:
    return [event.id for event in events]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with running_redis(tmp_path) as server:
        yield server


@pytest.fixture
def database(database_url: str) -> Iterator[DatabaseEventLog]:
    engine = make_engine(database_url)
    yield DatabaseEventLog(engine)
    engine.dispose()


def with_log(
    url: str, database: DatabaseEventLog, work: Callable[[RedisEventLog], Awaitable[T]]
) -> T:
    async def run() -> T:
        log = RedisEventLog(url, database)
        try:
            return await work(log)
        finally:
            await log.close()

    return asyncio.run(run())


@pytest.mark.usefixtures("app")  # its teardown empties the tables
def test_staged_events_are_numbered_with_the_transaction_and_fanned_out_after_commit(
    database_url: str, database: DatabaseEventLog, redis_server: RedisServer
) -> None:
    tenant_id, run_id = a_queued_run(database_url)

    async def work(log: RedisEventLog) -> list[RunEvent]:
        with scoped_session(database.engine, TenantScope(tenant_id)) as session:
            staged = log.stage(session, run_id, batch("a", "b"))
            session.rollback()  # never committed: the ids are not used up
        with scoped_session(database.engine, TenantScope(tenant_id)) as session:
            staged = log.stage(session, run_id, batch("a", "b"))
            session.commit()
        assert ids(staged) == [1, 2]
        assert await log.read(tenant_id, run_id, 0, 10) == staged  # the database has them
        await log.publish(run_id, staged)
        assert ids(await log.wait(tenant_id, run_id, 0, 1)) == [1, 2]
        return await log.read(tenant_id, run_id, 0, 10)

    assert with_log(redis_server.url, database, work) == asyncio.run(
        database.read(tenant_id, run_id, 0, 10)
    )
    assert redis_server.client().xlen(f"run:{run_id}") == 2


@pytest.mark.usefixtures("app")
@pytest.mark.usefixtures("app")
def test_forgetting_deleted_runs_drops_their_live_streams(
    database_url: str, database: DatabaseEventLog, redis_server: RedisServer
) -> None:
    tenant_id, run_id = a_queued_run(database_url)
    other_tenant, other_id = a_queued_run(database_url)

    async def work(log: RedisEventLog) -> None:
        await log.append(tenant_id, run_id, batch("a"))
        await log.append(other_tenant, other_id, batch("a"))
        await log.forget([run_id])
        await log.forget([])  # nothing to drop is no error

    with_log(redis_server.url, database, work)
    streams = redis_server.client()
    assert (streams.exists(f"run:{run_id}"), streams.exists(f"run:{other_id}")) == (0, 1)


def test_a_gap_in_the_stream_is_filled_from_the_database_and_stale_ids_are_skipped(
    database_url: str, database: DatabaseEventLog, redis_server: RedisServer
) -> None:
    tenant_id, run_id = a_queued_run(database_url)

    async def work(log: RedisEventLog) -> None:
        assert await log.append(tenant_id, run_id, batch("a", "b", "c")) == [1, 2, 3]
        missed = await database.record(tenant_id, run_id, batch("d", "e"))  # never fanned out
        assert await log.append(tenant_id, run_id, batch("f")) == [6]
        await log.publish(run_id, missed)  # late: below the stream's top, so skipped
        stream = await log.redis.xrange(f"run:{run_id}")
        assert [entry_id for entry_id, _ in stream] == ["0-1", "0-2", "0-3", "0-6"]
        assert ids(await log.read(tenant_id, run_id, 0, 10)) == [1, 2, 3, 4, 5, 6]
        assert ids(await log.read(tenant_id, run_id, 3, 10)) == [4, 5, 6]
        assert ids(await log.wait(tenant_id, run_id, 3, 2)) == [4, 5, 6]
        names = [event.data["name"] for event in await log.wait(tenant_id, run_id, 0, 2)]
        assert names == ["a", "b", "c", "d", "e", "f"]

    with_log(redis_server.url, database, work)


@pytest.mark.usefixtures("app")
def test_a_trailing_gap_reaches_a_waiting_follower(
    database_url: str, database: DatabaseEventLog, redis_server: RedisServer
) -> None:
    """The run's ending was recorded while Redis was away and nothing follows it."""
    tenant_id, run_id = a_queued_run(database_url)

    async def work(log: RedisEventLog) -> list[RunEvent]:
        await log.append(tenant_id, run_id, batch("a", "b"))
        waiting = asyncio.create_task(log.wait(tenant_id, run_id, 2, 30))
        await asyncio.sleep(0.2)  # blocked on the stream
        await database.record(tenant_id, run_id, [("run.completed", {"status": "succeeded"})])
        return await waiting

    ended = with_log(redis_server.url, database, work)
    assert [(event.id, event.type) for event in ended] == [(3, "run.completed")]


@pytest.mark.usefixtures("app")
def test_ids_continue_after_redis_loses_everything(
    database_url: str, database: DatabaseEventLog, redis_server: RedisServer
) -> None:
    tenant_id, run_id = a_queued_run(database_url)

    async def work(log: RedisEventLog) -> None:
        assert await log.append(tenant_id, run_id, batch("a", "b", "c")) == [1, 2, 3]
        await log.redis.flushall()
        assert await log.append(tenant_id, run_id, batch("d", "e")) == [4, 5]
        assert ids(await log.read(tenant_id, run_id, 0, 10)) == [1, 2, 3, 4, 5]
        assert ids(await log.read(tenant_id, run_id, 3, 10)) == [4, 5]
        assert ids(await log.wait(tenant_id, run_id, 1, 2)) == [2, 3, 4, 5]

    with_log(redis_server.url, database, work)


@pytest.mark.usefixtures("app")
def test_with_redis_unreachable_events_are_recorded_and_followed_from_the_database(
    database_url: str, database: DatabaseEventLog, tmp_path: Path
) -> None:
    tenant_id, run_id = a_queued_run(database_url)
    redis_server = RedisServer(tmp_path, free_port())  # not started yet

    async def work(log: RedisEventLog) -> None:
        assert await log.append(tenant_id, run_id, batch("a", "b")) == [1, 2]
        assert ids(await log.read(tenant_id, run_id, 0, 10)) == [1, 2]
        waiting = asyncio.create_task(log.wait(tenant_id, run_id, 2, 30))
        await asyncio.sleep(0.2)
        assert await log.append(tenant_id, run_id, batch("c")) == [3]
        assert ids(await waiting) == [3]
        assert await log.wait(tenant_id, run_id, 3, 0.3) == []
        await asyncio.to_thread(redis_server.start)  # back, empty: later events fan out again
        try:
            assert await log.append(tenant_id, run_id, batch("d")) == [4]
            assert ids(await log.wait(tenant_id, run_id, 2, 2)) == [3, 4]
            assert ids(await log.wait(tenant_id, run_id, 3, 2)) == [4]
        finally:
            redis_server.kill()

    with_log(redis_server.url, database, work)


@pytest.mark.usefixtures("app")
def test_the_database_log_numbers_and_replays_the_same_without_redis(
    database_url: str, database: DatabaseEventLog
) -> None:
    tenant_id, run_id = a_queued_run(database_url)

    async def work() -> None:
        with scoped_session(database.engine, TenantScope(tenant_id)) as session:
            staged = database.stage(session, run_id, batch("a", "b"))
            session.commit()
        await database.publish(run_id, staged)  # nothing to fan out
        assert await database.append(tenant_id, run_id, batch("c")) == [3]
        assert await database.read(tenant_id, run_id, 0, 10) == [
            *staged,
            *(await database.read(tenant_id, run_id, 2, 10)),
        ]
        assert await database.last_id(tenant_id, run_id) == 3
        assert await database.wait(tenant_id, run_id, 3, 0.2) == []

    asyncio.run(work())
