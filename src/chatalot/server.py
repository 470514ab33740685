"""Running the server process: socket, database, migrations, HTTP, graceful shutdown.

Startup order (log lines as the original's):
    Starting Chatalot server on <LISTEN_ADDR>
    [embedded PostgreSQL started / external server reached, with retries up to 30 s]
    INFO chatalot_server: Database connected
    INFO chatalot_server: Migrations applied
    Listening on <LISTEN_ADDR>
SIGTERM / SIGINT: stop accepting, let in-flight requests finish (bounded by
CHATALOT_SHUTDOWN_TIMEOUT_SECS), close the pool, stop the embedded database, exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import threading
from collections.abc import Coroutine, Generator
from typing import Any

import uvicorn

from chatalot import __version__
from chatalot.app import create_app
from chatalot.clock import SystemClock
from chatalot.config import ListenAddress, Settings
from chatalot.context import Ctx
from chatalot.db.database import Database
from chatalot.db.migrate import MigrationPrivileges, discover, run_migrations
from chatalot.db.notify import NotificationListener
from chatalot.db.pool import DatabaseStartupError, missing_privileges_message, open_pool
from chatalot.db.provision import ProvisionedDatabase, provision_database
from chatalot.jobs import Jobs
from chatalot.logs import flush_logging
from chatalot.ratelimit import (
    LocalRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    UnlimitedRateLimiter,
)
from chatalot.realtime import presence, typing_indicators, voice_cleanup
from chatalot.realtime.broker import Broker, LocalBroker, RedisBroker
from chatalot.realtime.hub import Hub
from chatalot.realtime.ws_protocol import FastWebSocketProtocol
from chatalot.security.passwords import PasswordHasher
from chatalot.security.tokens import JwtKeys, KeyLoadError, TokenService
from chatalot.services import instance_settings, revoked_sessions, suspensions
from chatalot.services.maintenance import hourly_cleanup
from chatalot.services.message_retention import expire_messages, purge_soft_deleted_messages
from chatalot.services.orphan_files import sweep_orphan_files
from chatalot.services.scheduled_delivery import deliver_scheduled_messages
from chatalot.services.search_index import IndexJob
from chatalot.services.startup import load_state, prepare_instance, reload_instance_settings
from chatalot.storage.base import BlobStore, StorageUnavailable
from chatalot.storage.factory import describe_blob_store, open_blob_store

log = logging.getLogger("chatalot_server")

GC_THRESHOLDS = (20_000, 20, 100)


class StartupError(RuntimeError):
    """The server cannot start; the message is one line saying what to fix."""


def bind_socket(listen: ListenAddress) -> socket.socket:
    family = socket.AF_INET6 if ":" in listen.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((listen.host, listen.port))
    except OSError as err:
        sock.close()
        raise StartupError(f"LISTEN_ADDR: cannot listen on {listen} ({err.strerror})") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


async def open_database(settings: Settings) -> tuple[ProvisionedDatabase, Any]:
    """Provision (embedded or external), wait for it, open the pool, apply migrations."""
    provisioned = await provision_database(settings)
    try:
        pool = await open_pool(provisioned.url, settings.pool)
    except DatabaseStartupError as err:
        await provisioned.release()
        raise StartupError(f"DATABASE_URL: {err}") from None
    log.info("Database connected")
    try:
        migrations = discover(settings.migrations_dir)
        async with pool.acquire() as conn:
            report = await run_migrations(conn, migrations)
    except MigrationPrivileges:
        await pool.close()
        await provisioned.release()
        raise StartupError(missing_privileges_message(provisioned.url)) from None
    except Exception:
        await pool.close()
        await provisioned.release()
        raise
    if report.applied:
        log.info(
            "Applied %d migration(s): %s",
            len(report.applied),
            ", ".join(m.filename for m in report.applied),
        )
    log.info("Migrations applied")
    return provisioned, pool


class _Server(uvicorn.Server):
    """uvicorn re-raises the captured signal after a graceful stop, which would kill the
    process before the pool is closed and the embedded database stopped. We handle the signal
    ourselves and return normally instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self._on_signal) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    def _on_signal(self, sig: int, frame: Any) -> None:
        if not self.should_exit:
            log.info("Shutdown signal received")
        self.handle_exit(sig, frame)


def load_keys(settings: Settings) -> JwtKeys:
    try:
        return JwtKeys.load(settings.jwt_private_key_path, settings.jwt_public_key_path)
    except KeyLoadError as err:
        raise StartupError(str(err)) from None


def make_limiter(settings: Settings) -> RateLimiter:
    if not settings.rate_limits:
        log.warning("Rate limits are off (CHATALOT_RATE_LIMITS=off)")
        return UnlimitedRateLimiter()
    if settings.redis_url:
        log.info("Rate limits are shared through Redis")
        return RedisRateLimiter(settings.redis_url)
    return LocalRateLimiter()


def make_broker(settings: Settings, hub: Hub) -> Broker:
    """Events reach the WebSocket sessions of every process: through Redis when REDIS_URL is
    set (several processes), else within this process."""
    if settings.redis_url:
        log.info("WebSocket events are shared through Redis")
        return RedisBroker(hub, settings.redis_url)
    return LocalBroker(hub)


async def start_broker(broker: Broker) -> None:
    try:
        await broker.start()
    except Exception as err:
        raise StartupError(f"REDIS_URL: cannot subscribe to WebSocket events ({err})") from None


async def open_storage(settings: Settings) -> BlobStore:
    """The blob store (storage/factory.py); an S3 store is checked once (bucket reachable,
    credentials accepted), so a wrong setting stops startup instead of every upload."""
    store = open_blob_store(settings)
    check = getattr(store, "check", None)
    if check is not None:
        try:
            await check()
        except StorageUnavailable as err:
            await store.close()
            raise StartupError(
                f"S3_BUCKET: cannot use {describe_blob_store(store)} ({err})"
            ) from None
    log.info("Files are stored in %s", describe_blob_store(store))
    return store


async def run_server(settings: Settings) -> None:
    log.info("Starting Chatalot server on %s", settings.listen)
    keys = load_keys(settings)
    storage = await open_storage(settings)
    sock = bind_socket(settings.listen)
    try:
        provisioned, pool = await open_database(settings)
    except BaseException:
        sock.close()
        await storage.close()
        raise
    clock = SystemClock()
    hub = Hub()
    broker = make_broker(settings, hub)
    # Events of committed transactions go to the broker, which delivers them on every process.
    db = Database(pool, acquire_timeout=settings.pool.acquire_timeout_secs, sink=broker.publish)
    passwords = PasswordHasher()
    ctx = Ctx(
        db=db,
        settings=settings,
        clock=clock,
        started_monotonic=clock.monotonic(),
        version=__version__,
        tokens=TokenService(keys, clock),
        passwords=passwords,
        limiter=make_limiter(settings),
        hub=hub,
        broker=broker,
        storage=storage,
    )
    ctx.push.log_startup()  # "Web Push notifications enabled" / "Web Push disabled: ..."
    listener = NotificationListener(
        provisioned.url.dsn,
        {
            suspensions.CHANNEL: ctx.suspensions.on_notification,
            revoked_sessions.CHANNEL: ctx.revoked_sessions.on_notification,
            instance_settings.CHANNEL: lambda _payload: _spawn(reload_instance_settings(ctx)),
        },
        on_reconnect=lambda: load_state(ctx),
    )
    try:
        await start_broker(broker)
        await listener.start()
        await prepare_instance(ctx)
        await _clear_previous_voice(ctx)
    except BaseException:
        await listener.stop()
        await broker.stop()
        await db.close()
        await provisioned.release()
        await storage.close()
        sock.close()
        raise
    jobs = Jobs()
    jobs.every("hourly_cleanup", 3600, lambda: hourly_cleanup(ctx), first_after=60)
    jobs.every("expire_messages", 300, lambda: expire_messages(ctx), first_after=60)
    jobs.every(
        "purge_soft_deleted_messages",
        86400,
        lambda: purge_soft_deleted_messages(ctx),
        first_after=300,
    )
    # Typing not renewed for 10 s ends; users of a server process that died go offline.
    jobs.every("typing_expiry", 5, lambda: typing_indicators.expire(ctx), first_after=5)
    jobs.every("dead_processes", 10, lambda: presence.reap_dead_processes(ctx), first_after=10)
    # Search: SEARCH_LANGUAGE checked at once; messages stored without search columns indexed.
    jobs.every("index_messages", 60, IndexJob(ctx).run, first_after=1)
    # Voice: the 15 s disconnect grace, participants of server processes that are gone or no
    # longer members of the channel, and (hourly) calls left empty.
    jobs.every("voice_grace", 1, lambda: voice_cleanup.expire_grace(ctx), first_after=1)
    jobs.every("voice_processes", 10, voice_cleanup.ProcessSweeper(ctx).run, first_after=10)
    jobs.every("voice_members", 10, lambda: voice_cleanup.remove_non_members(ctx), first_after=10)
    jobs.every("voice_sweep", 3600, lambda: voice_cleanup.sweep(ctx), first_after=60)
    # Blobs no row names (older than 1 h); one process at a time (services/orphan_files.py).
    jobs.every("orphan_files", 86400, lambda: sweep_orphan_files(ctx), first_after=7200)
    # Scheduled messages: every 5 s by default (the original's 30 s is the longest wait);
    # claimed with SKIP LOCKED, so every process may run it and each is delivered once.
    jobs.every(
        "scheduled_delivery",
        settings.scheduled_delivery_interval_secs,
        lambda: deliver_scheduled_messages(ctx),
        first_after=1,
    )
    app = create_app(ctx)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        ws=FastWebSocketProtocol,
        # Compression costs ~2.2x CPU and ~2.4x memory per connection (perf-notes,
        # docs/benchmarks.md); frames are small JSON and often ciphertext. Off, as the original.
        ws_per_message_deflate=False,
        lifespan="on",
        access_log=False,
        log_config=None,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=int(settings.shutdown_timeout_secs) or None,
    )
    server = _Server(config)
    # Everything built so far (modules, the app and its routes, the OpenAPI document) lives as
    # long as the process: keep it out of the garbage collector's full passes, which would
    # otherwise walk it again and again while requests allocate (measured: docs/benchmarks.md).
    gc.collect()
    gc.freeze()
    # Fewer, not longer, collections under load: a full collection of a busy server's heap took
    # 90-140 ms (a visible share of the p99 delivery latency); the defaults (700, 10, 10) ran
    # one every few seconds at 1,000 messages/s (docs/benchmarks.md).
    gc.set_threshold(GC_THRESHOLDS[0], GC_THRESHOLDS[1], GC_THRESHOLDS[2])
    try:
        log.info("Listening on %s", settings.listen)
        await server.serve(sockets=[sock])
    finally:
        await jobs.stop()
        await listener.stop()
        await broker.stop()
        await ctx.limiter.close()
        await ctx.push.close()  # pending Web Push sends get a few seconds
        passwords.close()
        await db.close()
        await provisioned.release()
        await storage.close()
        sock.close()
    log.info("Server shut down gracefully")
    flush_logging()  # log lines are written by a background thread (logs.py): write them now


async def _clear_previous_voice(ctx: Ctx) -> None:
    """Without Redis this process is the only one: the voice participants an earlier process
    held (a crash, a restart) leave their calls before anyone connects."""
    try:
        await voice_cleanup.clear_previous_processes(ctx)  # logs what it cleared
    except Exception as err:  # the hourly sweep and the clients' own leaves remain
        log.warning("Could not clear the voice participants of a previous start: %s", err)


_background: set[asyncio.Task[None]] = set()


def _spawn(coro: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)
