"""Everything the routes share, built once per process from the settings and checked, and the
app's lifespan: the store writer, the session reaper, warm-up, and the ready line."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, replace

from config import ConfigError, ConfigProblem, EnvSettings, Settings
from engine.options import SessionSettings
from engine.tool_runner import ToolOptions
from engine.turns import smart_turn, speech_gate
from server.access import admission_policy, allowed_hosts, tokens
from server.metrics import ObservedSink, ServerMetrics
from server.settings import LimitSettings, SecuritySettings, is_loopback
from server.shutdown import Drain
from server.tracing import TracingSettings, TurnTracer, turn_tracer
from server.turn_taking import EndOfTurnSettings, TurnTakingSettings, with_turn_taking
from services.readiness import Readiness
from services.registry import ProviderFactory
from services.secrets import REDACTOR
from session import SessionManager
from storage.base import SessionStore, StoreFailure
from storage.memory import MemoryStore
from storage.settings import StorageSettings
from storage.sqlite import SQLiteStore
from tools.loading import load_toolbox, tool_problems
from tools.settings import ToolSettings
from utils.aio import cancel_and_wait
from utils.tokens import Tokens
from websocket.admission import Admission
from websocket.connection import ConnectionLimits, ConnectionServices, WireProtocol
from websocket.parley.router import AudioOutFormat, parley_protocol
from websocket.realtime.router import realtime_protocol

log = logging.getLogger("parley")
Address = tuple[str, int]


@dataclass(frozen=True)
class Server:
    settings: Settings
    security: SecuritySettings
    limits: LimitSettings
    providers: ProviderFactory
    sessions: SessionManager
    readiness: Readiness
    connections: ConnectionServices
    parley: WireProtocol
    realtime: WireProtocol
    tokens: Tokens | None  # None: no token is required
    allowed_hosts: frozenset[str] | None
    metrics: ServerMetrics
    tracer: TurnTracer | None  # None: no OTLP endpoint set


def build_server(settings: Settings, provider_settings: Iterable[EnvSettings], env_file: str | None) -> Server:
    """Everything, checked: a chosen provider that cannot work, or a server on the network with
    no token, is a ConfigError now, not at the first turn."""
    providers = ProviderFactory(settings, provider_settings, env_file)
    security, limits = providers.settings_of(SecuritySettings), providers.settings_of(LimitSettings)
    if problems := [*providers.problems(), *security.problems(settings.host)]:
        raise ConfigError(problems)
    REDACTOR.add_settings([*providers.chosen_settings(), security])
    if security.auth == "off" and not is_loopback(settings.host):
        log.warning("AUTH=off on HOST=%s: anyone who can reach this port can use the server", settings.host)
    storage, tool_settings = providers.settings_of(StorageSettings), providers.settings_of(ToolSettings)
    if problems := tool_problems(tool_settings):
        raise ConfigError(problems)
    defaults = SessionSettings(settings.input_sample_rate, settings.language, settings.system_prompt, settings.voice)
    sessions = SessionManager(
        defaults, open_store(storage), settings.history_max_messages, limits.max_sessions,
        limits.session_idle_timeout_s, max_per_address=limits.max_sessions_per_address,
        archive_on_reset=storage.reset_keeps_archive, retention_s=storage.session_retention_days * 86400,
    )  # fmt: skip
    readiness = Readiness()
    connection_limits = ConnectionLimits(
        limits.outbound_queue_size, limits.max_messages_per_s, limits.max_errors_per_min, limits.send_timeout_s,
        limits.connection_idle_timeout_s,
    )  # fmt: skip
    admission = Admission(admission_policy(security, limits, settings.host))
    engine = with_turn_taking(
        replace(settings.engine_options(limits), tools=tool_options(tool_settings)),
        providers.settings_of(TurnTakingSettings), providers.settings_of(EndOfTurnSettings),
    )  # fmt: skip
    metrics = ServerMetrics(dict(providers.names.items()), lambda: len(sessions), admission.open_count, engine.budgets)
    tracer = turn_tracer(providers.settings_of(TracingSettings), dict(providers.names.items()))
    observers = (metrics.observe,) if tracer is None else (metrics.observe, tracer.observe)
    connections = ConnectionServices(
        sessions, providers, engine, connection_limits, admission, readiness,
        observe=lambda sink: ObservedSink(sink, *observers), tools=load_toolbox(tool_settings),
    )  # fmt: skip
    audio_out = AudioOutFormat(settings.output_sample_rate, settings.audio_out_frame_ms)
    return Server(
        settings, security, limits, providers, sessions, readiness, connections,
        parley_protocol(audio_out, limits.max_text_chars),
        realtime_protocol(engine, settings.output_sample_rate, limits.max_text_chars), tokens(security, settings.host),
        allowed_hosts(security, settings.host), metrics, tracer,
    )  # fmt: skip


def open_store(storage: StorageSettings) -> SessionStore:
    if storage.session_store == "memory":
        return MemoryStore()
    try:
        return SQLiteStore(storage.data_dir, storage.sqlite_synchronous)
    except (OSError, StoreFailure) as error:
        raise ConfigError(
            [ConfigProblem("DATA_DIR", f"={storage.data_dir!r}: cannot open the session store: {error}")]
        ) from None


def tool_options(settings: ToolSettings) -> ToolOptions:
    return ToolOptions(settings.tool_max_rounds, settings.tool_filler_ms / 1000, settings.tool_filler_text)


@contextlib.asynccontextmanager
async def running(server: Server, announce: Address | bool) -> AsyncIterator[None]:
    """The app's lifespan: the store writer, the session reaper, and warm-up in the background."""
    warm_up = [server.providers.warm_up]
    if server.settings.vad_confirm == "silero":
        warm_up.append(speech_gate.preload)
    if server.connections.engine.listen.end_of_turn.model == "smart_turn":
        warm_up.append(smart_turn.load)
    server.sessions.start()
    drain = Drain(server.connections.admission, server.settings.shutdown_grace_s)
    drain.install()
    tasks = [
        asyncio.create_task(server.sessions.run_reaper(), name="session-reaper"),
        asyncio.create_task(warm_then_announce(server, warm_up, announce), name="warm-up"),
        asyncio.create_task(server.metrics.watch_loop_lag(), name="loop-lag"),
    ]
    try:
        yield
    finally:
        drain.uninstall()
        await cancel_and_wait(tasks, 1.0)  # a model still loading finishes in its thread, unawaited
        await server.sessions.aclose()
        await server.providers.aclose()
        if server.tracer is not None:
            await server.tracer.aclose()


async def warm_then_announce(server: Server, steps: list[Callable[[], None]], announce: Address | bool) -> None:
    """Warm the engines up; then, for a person starting the server, one line: ready (or why
    not), and the URL to open when the address is known."""
    readiness = server.readiness
    await readiness.warm_up(steps)
    if announce:
        said = f"ready in {readiness.warm_up_s:.1f} s" if readiness.ready else f"started, but {readiness.error}."
        if isinstance(announce, tuple):
            host, port = announce
            said += f" - open http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}/"
        print(f"parley: {said}", flush=True)
