"""The `spanledger` command: serve, manage resources and keys, inspect and rebuild projections, replay the log."""

from __future__ import annotations

import argparse
import getpass
import importlib
import logging
import signal
import sys
import threading

from spanledger.bootstrap import Container, build
from spanledger.bootstrap.databases import ensure_database, startup_lock
from spanledger.bootstrap.settings import Settings
from spanledger.domain.errors import DomainError
from spanledger.projections.runner import Progress

DEFAULT_RESOURCE = "default"


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _container(settings: Settings, *, follow: bool = False, work: bool = False) -> Container:
    if settings.uses_postgres and ensure_database(settings.database_url):
        print(f"Created database {settings.database_url.rsplit('/', 1)[-1]}.")
    return build(settings, follow=follow, work=work)


def serve(settings: Settings) -> None:
    import uvicorn

    from spanledger.api.app import create_app

    container = _container(settings, follow=True, work=settings.serve_workers)
    try:
        with startup_lock(settings):  # servers starting together create it once
            if not container.app.has_resource(DEFAULT_RESOURCE):
                _, key, _ = container.app.create_resource(DEFAULT_RESOURCE, _actor())
                print(f"Created resource {DEFAULT_RESOURCE!r}. Its API key (shown once, stored hashed):\n\n  {key}\n")
        where = settings.database_url and "PostgreSQL" or f"SQLite under {settings.data_dir.resolve()}"
        print(f"spanledger on http://{settings.host}:{settings.port} ({where})")
        uvicorn.run(create_app(container), host=settings.host, port=settings.port, log_level="info")
    finally:
        container.close()


def worker(settings: Settings) -> None:
    """Training and auto-labeling workers on their own (for more of them, or apart from the API)."""
    container = _container(settings, follow=True, work=True)
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    print(f"spanledger worker {container.worker.name} waiting for training and auto-labeling jobs", flush=True)
    # A worker process is there to run models: import flair (seconds of CPU) while it waits,
    # rather than when its first auto-labeling job has come.
    threading.Thread(target=importlib.import_module, args=("spanledger.ner.model",), daemon=True).start()
    try:
        stopped.wait()
    finally:
        container.close()


def _progress(p: Progress) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(
            f"\r{p.done:,}/{p.total:,} events  {p.rate:,.0f} events/s  {p.seconds_left:,.0f}s left   "
        )
        sys.stderr.flush()


def projections(settings: Settings, action: str) -> None:
    container = _container(settings)
    try:
        runner = container.runner
        head = container.app.recorder.max_notification_id() or 0
        if action == "verify":
            from spanledger.bootstrap.databases import scratch_read_model
            from spanledger.projections.verify import verify

            with scratch_read_model(settings) as scratch:
                report = verify(runner, scratch)
            for difference in report.differences:
                print("\n".join(difference.lines()))
            if not report.ok:
                raise SystemExit(f"The read model differs from a replay of the log up to position "
                                 f"{report.position:,} in {len(report.differences)} table(s).")
            print(f"The read model matches a replay of the log up to position {report.position:,} "
                  f"({report.rows:,} rows).")
            return
        if action == "rebuild":
            runner.drop()
            applied = runner.catch_up(_progress)
            if sys.stderr.isatty():
                sys.stderr.write("\n")
            print(f"Rebuilt the read model from {applied:,} events.")
        for name, position in sorted(runner.positions().items()):
            print(f"{name:<12} at {position:,} of {head:,}  ({head - position:,} behind)")
    finally:
        container.close()


def resources(settings: Settings, args: argparse.Namespace) -> None:
    container = _container(settings)
    try:
        if args.action == "create":
            _, key, _ = container.app.create_resource(args.name, _actor(), args.monthly_text_records)
            print(key)
        elif args.action == "issue-key":
            key, _ = container.app.issue_api_key(args.name, _actor(), args.key_name)
            print(key)
        else:
            container.app.revoke_api_key(args.name, args.key_id, _actor())
            print(f"Revoked key {args.key_id} of {args.name}.")
    finally:
        container.close()


def project_files(settings: Settings, args: argparse.Namespace) -> None:
    """Import a project from a folder or zip (the project file and its texts side by side), or
    export one to a folder or zip, as Azure's samples and exports are shipped."""
    import hashlib
    from pathlib import Path

    import orjson

    from spanledger.api.collector import collector_paused
    from spanledger.api.project_export import current_file
    from spanledger.api.project_folders import read_folder, write_folder
    from spanledger.domain import ids
    from spanledger.domain.offsets import StringIndexType
    from spanledger.projections import queries

    container = _container(settings)
    try:
        app = container.app
        if not app.has_resource(args.resource):
            raise DomainError(f"No resource {args.resource!r}.", "resource")
        resource_id = ids.resource_id(args.resource)
        if args.action == "import":
            body, raw = read_folder(Path(args.path))
            name = args.project or (body.get("metadata") or {}).get("projectName")
            if not isinstance(name, str):
                raise DomainError("The file names no project (metadata.projectName): give --project.", "project")
            if isinstance(body.get("metadata"), dict):
                body["metadata"]["projectName"] = name
            with collector_paused():
                app.import_project(resource_id, name, body, hashlib.sha256(raw).hexdigest(), _actor())
            file = body["assets"]
            print(f"Imported {name}: {len(file['documents'])} documents, {len(file['entities'])} entities.")
            return
        _caught_up(container)
        with container.reads.connect() as conn:
            row = queries.get_project(conn, str(ids.project_id(resource_id, args.project)))
            if row is None:
                raise DomainError(f"Project {args.project!r} was not found.", "project")
            file = current_file(conn, row, StringIndexType(args.string_index_type))
        app.record_export(resource_id, args.project, hashlib.sha256(orjson.dumps(file)).hexdigest(),
                          args.string_index_type, _actor())
        written = write_folder(file, Path(args.path))
        print(f"Exported {args.project} to {args.path} ({len(written)} files).")
    finally:
        container.close()


def replay(settings: Settings, args: argparse.Namespace) -> None:
    from spanledger.api.replay_command import run

    container = _container(settings)
    try:
        run(container, args)
    finally:
        container.close()


def _caught_up(container: Container, attempts: int = 50) -> None:
    """The read model at the log's head: applied here, or by a server following the log."""
    import time

    from spanledger.projections.runner import PositionMoved

    for _ in range(attempts):
        try:
            container.runner.catch_up()
            return
        except PositionMoved:  # a running server applied that batch: look again
            time.sleep(0.1)
    container.runner.catch_up()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="spanledger", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the API, the projections and the workers")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    sub.add_parser("worker", help="run the training and auto-labeling workers (and the projections) without the API")
    r = sub.add_parser("resources", help="create resources and manage their API keys")
    rsub = r.add_subparsers(dest="action", required=True)
    create = rsub.add_parser("create", help="create a resource; prints its first API key")
    create.add_argument("name")
    create.add_argument("--monthly-text-records", type=int, default=5000)
    issue = rsub.add_parser("issue-key", help="issue another API key; prints it")
    issue.add_argument("name")
    issue.add_argument("--name", dest="key_name", help="who holds the key: the audit shows it beside the key id")
    revoke = rsub.add_parser("revoke-key", help="revoke an API key by its id")
    revoke.add_argument("name")
    revoke.add_argument("key_id")
    pf = sub.add_parser("projects", help="import and export projects as Azure project files (a folder or a zip)")
    pfsub = pf.add_subparsers(dest="action", required=True)
    imp = pfsub.add_parser("import", help="make or replace a project from a folder or zip: the file and its texts")
    imp.add_argument("path")
    imp.add_argument("--resource", default=DEFAULT_RESOURCE)
    imp.add_argument("--project", help="the project's name (default: the file's metadata.projectName)")
    exp = pfsub.add_parser("export", help="write a project's file and texts to a folder, or a .zip")
    exp.add_argument("project")
    exp.add_argument("path")
    exp.add_argument("--resource", default=DEFAULT_RESOURCE)
    exp.add_argument("--string-index-type", default="Utf16CodeUnit", choices=["Utf16CodeUnit", "UnicodeCodePoint"])
    pr = sub.add_parser("projections", help="read-model positions; rebuild from the log; verify against a replay")
    pr.add_argument("action", choices=["status", "rebuild", "verify"])
    from spanledger.api import replay_command  # light: the domain and the replay package, no web or ML code

    replay_command.add_parser(sub, DEFAULT_RESOURCE)
    return p


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    settings = Settings()
    if args.command == "serve":
        settings = settings.model_copy(update={k: v for k in ("host", "port") if (v := getattr(args, k))})
    try:
        if args.command == "serve":
            serve(settings)
        elif args.command == "worker":
            worker(settings)
        elif args.command == "projections":
            projections(settings, args.action)
        elif args.command == "projects":
            project_files(settings, args)
        elif args.command == "replay":
            replay(settings, args)
        else:
            resources(settings, args)
    except DomainError as error:
        sys.exit(f"error: {error.message}" + (f" (at {error.target})" if error.target else ""))


if __name__ == "__main__":
    main()
