"""Where run events are kept: always in the database, with REDIS_URL also fanned out via Redis.

The database is the record. Each event is numbered from the run row's counter in the same
transaction as the write it reports, so ids never restart and never repeat. With REDIS_URL, the
committed events are then added to a Redis stream `run:{run_id}` under their database ids, for
followers to block on. The stream may miss events (Redis was down, restarted empty, trimmed or
expired the stream): a follower that finds a gap after its cursor, or no answer, reads the
database instead, so it sees every event once and in order either way.
"""

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.db import TenantScope, scoped_session
from core.events import EventLog, NewEvent, RunEvent, iso
from core.models import Run, RunEventRow
from core.models.common import utcnow
from core.settings import CommonSettings
from core.webhooks import RunFacts, stage_deliveries

log = logging.getLogger("agent_runtime.events")

DB_POLL_SECONDS = 0.03
# Enough for a long run's deltas; older events of a capped stream are trimmed (and then read
# from the database).
STREAM_MAX_EVENTS = 50_000
STREAM_TTL_SECONDS = 7 * 24 * 3600
# A follower blocked on the stream wakes this often to ask the database (one indexed read)
# whether events reached it that the stream missed, such as a run's ending published while
# Redis was down.
IDLE_CHECK_SECONDS = 1.0
# Kept short: a Redis that does not answer must not hold up a step or a follower for long.
REDIS_CONNECT_TIMEOUT_SECONDS = 1.0
REDIS_TIMEOUT_SECONDS = 5.0
PAGE = 500
# Read back by the event counter's update: what a webhook delivery says of its run.
_RUN_FACTS = (
    col(Run.event_count),
    *(col(Run.tenant_id), col(Run.agent_id), col(Run.version_number), col(Run.version_alias)),
    *(col(Run.thread_id), col(Run.schedule_id), col(Run.webhook_url)),
)


class DatabaseEventLog:
    """The embedded default: a table, followed by polling."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def stage(self, session: Session, run_id: str, events: Sequence[NewEvent]) -> list[RunEvent]:
        """Add the events to the caller's transaction (it commits them with its own writes).

        Numbers come from a counter on the run's row: the update locks the row until commit,
        so concurrent writers of one run get consecutive numbers in commit order. The same
        update returns what webhook deliveries say of the run, which are staged here too.
        """
        if not events:
            return []
        counted = session.execute(
            update(Run)
            .where(col(Run.id) == run_id)
            .values(event_count=col(Run.event_count) + len(events))
            .returning(*_RUN_FACTS),
            execution_options={"synchronize_session": False},
        ).one()
        last = counted.event_count
        at = utcnow()
        staged = []
        for number, (event_type, data) in enumerate(events, start=last - len(events) + 1):
            stored = json.loads(json.dumps(data, default=str))
            session.add(
                RunEventRow(
                    run_id=run_id, number=number, type=event_type, data=stored, created_at=at
                )
            )
            staged.append(RunEvent(number, run_id, event_type, iso(at), stored))
        facts = RunFacts(
            run_id,
            *(counted.tenant_id, counted.agent_id, counted.version_number, counted.version_alias),
            *(counted.thread_id, counted.schedule_id, counted.webhook_url),
        )
        stage_deliveries(session, facts, staged)
        return staged

    async def publish(self, run_id: str, staged: Sequence[RunEvent]) -> None:
        pass  # followers poll the table

    def _append(self, tenant_id: str, run_id: str, events: Sequence[NewEvent]) -> list[RunEvent]:
        with scoped_session(self.engine, TenantScope(tenant_id)) as session:
            staged = self.stage(session, run_id, events)
            session.commit()
        return staged

    async def record(
        self, tenant_id: str, run_id: str, events: Sequence[NewEvent]
    ) -> list[RunEvent]:
        """The events written in a transaction of their own."""
        if not events:
            return []
        return await asyncio.to_thread(self._append, tenant_id, run_id, events)

    async def append(self, tenant_id: str, run_id: str, events: Sequence[NewEvent]) -> list[int]:
        return [event.id for event in await self.record(tenant_id, run_id, events)]

    def _read(self, tenant_id: str, run_id: str, after: int, limit: int) -> list[RunEvent]:
        with scoped_session(self.engine, TenantScope(tenant_id)) as session:
            rows = session.exec(
                select(RunEventRow)
                .where(RunEventRow.run_id == run_id, RunEventRow.number > after)
                .order_by(col(RunEventRow.number))
                .limit(limit)
            ).all()
            return [
                RunEvent(row.number, run_id, row.type, iso(row.created_at), dict(row.data))
                for row in rows
            ]

    async def read(self, tenant_id: str, run_id: str, after: int, limit: int) -> list[RunEvent]:
        return await asyncio.to_thread(self._read, tenant_id, run_id, after, limit)

    def _last_id(self, tenant_id: str, run_id: str) -> int:
        with scoped_session(self.engine, TenantScope(tenant_id)) as session:
            count = session.exec(select(Run.event_count).where(Run.id == run_id)).first()
            return count or 0

    async def last_id(self, tenant_id: str, run_id: str) -> int:
        """The id of the run's latest event (0 if none): one primary-key read."""
        return await asyncio.to_thread(self._last_id, tenant_id, run_id)

    async def wait(self, tenant_id: str, run_id: str, after: int, within: float) -> list[RunEvent]:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            events = await self.read(tenant_id, run_id, after, PAGE)
            if events or asyncio.get_running_loop().time() >= deadline:
                return events
            await asyncio.sleep(DB_POLL_SECONDS)

    async def forget(self, run_ids: Sequence[str]) -> None:
        pass  # the rows went with the runs

    async def close(self) -> None:
        pass


# Adds each event under its database id, skipping any not above the stream's top: another
# publisher got a later event there first (the follower finds the gap and reads the database).
_FAN_OUT = """
for i = 1, #ARGV, 4 do
  local added = redis.pcall('XADD', KEYS[1], 'MAXLEN', '~', ARGV_MAX, '0-' .. ARGV[i],
                            't', ARGV[i + 1], 'a', ARGV[i + 2], 'd', ARGV[i + 3])
  if type(added) == 'table' and added.err
     and not string.find(added.err, 'equal or smaller', 1, true) then
    return redis.error_reply(added.err)
  end
end
redis.call('EXPIRE', KEYS[1], ARGV_TTL)
return 1
""".replace("ARGV_MAX", str(STREAM_MAX_EVENTS)).replace("ARGV_TTL", str(STREAM_TTL_SECONDS))


def _stream(run_id: str) -> str:
    return f"run:{run_id}"


def _decode(run_id: str, entries: list[Any]) -> list[RunEvent]:
    return [
        RunEvent(
            int(entry_id.split("-", 1)[1]),
            run_id,
            fields["t"],
            fields["a"],
            json.loads(fields["d"]),
        )
        for entry_id, fields in entries
    ]


def _whole(after: int, events: list[RunEvent]) -> bool:
    """Whether the events are exactly the ones after `after`, with no gap."""
    return all(event.id == after + offset for offset, event in enumerate(events, start=1))


class RedisEventLog:
    """The database's log, fanned out to live followers through a Redis stream per run."""

    def __init__(self, url: str, database: DatabaseEventLog) -> None:
        self.database = database
        self.redis = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self._fan_out = self.redis.register_script(_FAN_OUT)

    def stage(self, session: Session, run_id: str, events: Sequence[NewEvent]) -> list[RunEvent]:
        return self.database.stage(session, run_id, events)

    async def publish(self, run_id: str, staged: Sequence[RunEvent]) -> None:
        """Add committed events to the stream; if Redis is unreachable, followers read them
        from the database instead, so this only logs."""
        if not staged:
            return
        args: list[str] = []
        for event in staged:
            data = json.dumps(event.data, separators=(",", ":"), default=str)
            args += [str(event.id), event.type, event.at, data]
        try:
            await self._fan_out(keys=[_stream(run_id)], args=args)
        except RedisError as exc:
            log.warning(
                "events %d-%d of run %s not fanned out: %s",
                staged[0].id,
                staged[-1].id,
                run_id,
                exc,
            )

    async def append(self, tenant_id: str, run_id: str, events: Sequence[NewEvent]) -> list[int]:
        staged = await self.database.record(tenant_id, run_id, events)
        await self.publish(run_id, staged)
        return [event.id for event in staged]

    async def read(self, tenant_id: str, run_id: str, after: int, limit: int) -> list[RunEvent]:
        try:
            entries: Any = await self.redis.xrange(_stream(run_id), min=f"(0-{after}", count=limit)
        except RedisError:
            entries = []
        events = _decode(run_id, entries)
        if events and _whole(after, events):
            return events
        # Nothing, or a gap: the stream is incomplete (or simply has nothing new).
        return await self.database.read(tenant_id, run_id, after, limit)

    async def wait(self, tenant_id: str, run_id: str, after: int, within: float) -> list[RunEvent]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            block = min(IDLE_CHECK_SECONDS, deadline - loop.time())
            if block <= 0:
                return []
            try:
                answer: Any = await self.redis.xread(
                    {_stream(run_id): f"0-{after}"}, count=PAGE, block=max(1, int(block * 1000))
                )
            except RedisError:
                # Unreachable: follow the database for a while, then try Redis again.
                events = await self.database.wait(tenant_id, run_id, after, block)
                if events:
                    return events
                continue
            events = _decode(run_id, answer[0][1]) if answer else []
            if events and _whole(after, events):
                return events
            if events or await self.database.last_id(tenant_id, run_id) > after:
                return await self.database.read(tenant_id, run_id, after, PAGE)

    async def forget(self, run_ids: Sequence[str]) -> None:
        if not run_ids:
            return
        try:
            await self.redis.delete(*(_stream(run_id) for run_id in run_ids))
        except RedisError as exc:  # the streams expire within STREAM_TTL_SECONDS anyway
            log.warning("could not drop the live events of %d run(s): %s", len(run_ids), exc)

    async def close(self) -> None:
        await self.redis.aclose()


def event_log_from_settings(settings: CommonSettings, engine: Engine) -> EventLog:
    database = DatabaseEventLog(engine)
    if settings.redis_url:
        return RedisEventLog(settings.redis_url, database)
    return database
