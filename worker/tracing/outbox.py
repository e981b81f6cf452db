"""The outbox sender: exports due outbox rows in batches and deletes what LangFuse took;
keeps and backs off the rest, so a trace survives a LangFuse outage."""

import asyncio
import contextlib
import logging
from datetime import timedelta
from itertools import groupby
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from pydantic import SecretStr
from sqlalchemy import delete, func, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from core.db import AllTenants, scoped_session
from core.models import Run, TraceOutboxRow
from core.models.common import utcnow
from core.observability import OUTBOX_DEPTH
from core.settings import CommonSettings
from worker.settings import WorkerSettings
from worker.tracing.exporter import MAX_BATCH, ExportError, LangfuseExporter, to_span
from worker.tracing.observations import NO_SYNC, trace_url, tracing_enabled

log = logging.getLogger("agent_runtime.worker.tracing")


class OutboxSender:
    """Exports due outbox rows in batches; keeps and backs off what LangFuse did not take."""

    def __init__(
        self,
        engine: Engine,
        *,
        base_url: str,
        public_key: str,
        secret_key: SecretStr,
        interval_seconds: float = 1.0,
        batch_size: int = MAX_BATCH,
        backoff_base_seconds: float = 1.0,
        backoff_cap_seconds: float = 300.0,
        timeout_seconds: float = 10.0,
    ) -> None:
        self.engine = engine
        self.interval_seconds = interval_seconds
        self.batch_size = max(1, min(batch_size, MAX_BATCH))
        self.backoff_base_seconds = backoff_base_seconds
        self.backoff_cap_seconds = backoff_cap_seconds
        # A claimed batch is invisible to other senders for this long; if this process dies
        # mid-export, the rows come back by themselves.
        self.lease = timedelta(seconds=max(60.0, 3 * timeout_seconds))
        self.exporter = LangfuseExporter(
            base_url, public_key, secret_key, timeout_seconds=timeout_seconds
        )
        self._project_id: str | None = None

    @classmethod
    def from_settings(
        cls, engine: Engine, settings: CommonSettings, **options: Any
    ) -> "OutboxSender | None":
        """A sender for the configured LangFuse, or None when tracing is off."""
        base_url, public_key = settings.langfuse_base_url, settings.langfuse_public_key
        secret_key = settings.langfuse_secret_key
        if not (tracing_enabled(settings) and base_url and public_key and secret_key):
            return None
        if isinstance(settings, WorkerSettings):
            options.setdefault("interval_seconds", settings.langfuse_export_interval_seconds)
        return cls(
            engine, base_url=base_url, public_key=public_key, secret_key=secret_key, **options
        )

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Drain until `stop` is set, then close; a full batch is followed at once by the next."""
        try:
            while not stop.is_set():
                try:
                    exported = await self.drain_once()
                    OUTBOX_DEPTH.set(await asyncio.to_thread(self.depth))
                except Exception:  # a database hiccup must not end tracing for the process
                    log.exception("trace export round failed; retrying")
                    exported = 0
                if exported >= self.batch_size:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval_seconds)
        finally:
            await asyncio.to_thread(self.close)

    def close(self) -> None:
        """Release the exporter's connections; the sender is done after this."""
        self.exporter.close()

    async def drain_once(self) -> int:
        """Export one batch of due rows; returns how many LangFuse took."""
        rows = await asyncio.to_thread(self._claim)
        if not rows:
            return 0
        spans: list[ReadableSpan] = []
        sendable: list[TraceOutboxRow] = []
        for row in rows:
            try:
                spans.append(to_span(row.payload))
                sendable.append(row)
            except (KeyError, TypeError, ValueError) as error:
                # A malformed payload is a bug; it waits (at the longest backoff) for a fix
                # instead of blocking the rows behind it.
                message = f"malformed payload: {type(error).__name__}: {error}"
                await asyncio.to_thread(self._settle_failed, [row], message, True)
        if not sendable:
            return 0
        try:
            if self._project_id is None:
                self._project_id = await asyncio.to_thread(self.exporter.project_id)
            await asyncio.to_thread(self.exporter.export, spans)
        except ExportError as error:
            self._project_id = None  # check the keys again before the next attempt
            message = self.exporter.scrub(str(error))
            log.warning("%d trace observation(s) not exported: %s", len(sendable), message)
            await asyncio.to_thread(self._settle_failed, sendable, message, False)
            return 0
        await asyncio.to_thread(self._settle_exported, sendable, self._project_id)
        return len(sendable)

    def depth(self) -> int:
        """Observations waiting, due or not."""
        with scoped_session(self.engine, AllTenants()) as session:
            return int(session.exec(select(func.count()).select_from(TraceOutboxRow)).one())

    def _claim(self) -> list[TraceOutboxRow]:
        now = utcnow()
        with scoped_session(self.engine, AllTenants()) as session:
            query = (
                select(TraceOutboxRow)
                .where(col(TraceOutboxRow.next_attempt_at) <= now)
                .order_by(col(TraceOutboxRow.created_at), col(TraceOutboxRow.id))
                .limit(self.batch_size)
            )
            # Concurrent senders on Postgres split the work; SQLite ignores it (writers queue).
            rows = list(session.exec(query.with_for_update(skip_locked=True)))
            if rows:
                session.execute(
                    update(TraceOutboxRow)
                    .where(col(TraceOutboxRow.id).in_([row.id for row in rows]))
                    .values(next_attempt_at=now + self.lease),
                    execution_options=NO_SYNC,
                )
            session.commit()
            return rows

    def _settle_exported(self, rows: list[TraceOutboxRow], project_id: str) -> None:
        with scoped_session(self.engine, AllTenants()) as session:
            session.execute(
                delete(TraceOutboxRow).where(col(TraceOutboxRow.id).in_([row.id for row in rows])),
                execution_options=NO_SYNC,
            )
            for row in rows:
                if row.payload.get("parent_span_id") is None:  # the run's root span
                    url = trace_url(self.exporter.base_url, project_id, row.payload["trace_id"])
                    session.execute(
                        update(Run).where(col(Run.id) == row.run_id).values(trace_url=url),
                        execution_options=NO_SYNC,
                    )
            session.commit()

    def _settle_failed(self, rows: list[TraceOutboxRow], message: str, longest: bool) -> None:
        now = utcnow()
        with scoped_session(self.engine, AllTenants()) as session:
            by_attempts = sorted(rows, key=lambda row: row.attempts)
            for attempts, group in groupby(by_attempts, key=lambda row: row.attempts):
                delay = self.backoff_cap_seconds if longest else self.backoff_seconds(attempts + 1)
                session.execute(
                    update(TraceOutboxRow)
                    .where(col(TraceOutboxRow.id).in_([row.id for row in group]))
                    .values(
                        attempts=attempts + 1,
                        next_attempt_at=now + timedelta(seconds=delay),
                        last_error=message[:2000],
                    ),
                    execution_options=NO_SYNC,
                )
            session.commit()

    def backoff_seconds(self, attempts: int) -> float:
        """1 s after the first failure, then doubling, up to the cap."""
        exponent = min(max(attempts - 1, 0), 32)
        return float(min(self.backoff_base_seconds * 2**exponent, self.backoff_cap_seconds))
