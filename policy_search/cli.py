"""`policy-search`: ingest, search, serve; backup, restore, rollback.

Exit codes: 0 success, 1 the index or a file could not be used, 2 bad usage
or an unusable query (empty, too long, k out of range).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from index.fs_errors import storage_failure
from index.store import IndexUnavailable
from policy_search.settings import Settings, describe, get_settings
from search.filters import DOC_TYPES

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _settings(args: argparse.Namespace) -> Settings:
    settings = get_settings()
    if getattr(args, "index", None):
        settings = settings.model_copy(update={"index_dir": Path(args.index)})
    return settings


def _progress_factory(quiet: bool) -> Callable[[str, int], Callable[[int], None]] | None:
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bars: list[Any] = []

    class Tick:
        """Advances a bar; ``describe`` shows what else was done (chunks, sentences)."""

        def __init__(self, bar: Any) -> None:
            self.bar = bar

        def __call__(self, n: int) -> None:
            self.bar.update(n)

        def describe(self, text: str) -> None:
            self.bar.set_postfix_str(text, refresh=False)

    def factory(label: str, total: int) -> Callable[[int], None]:
        for bar in bars:
            bar.close()
        # tqdm shows the estimate of the time left from the rate so far.
        bar = tqdm(
            total=total,
            desc=label,
            unit="doc" if label == "documents" else "item",
            file=sys.stderr,
            leave=False,
        )
        bars.append(bar)
        return Tick(bar)

    return factory


def cmd_ingest(args: argparse.Namespace) -> int:
    from index.ann import AnnConfig
    from index.build import build_index
    from index.embed import make_embedder
    from ingest.sandbox import ExtractionLimits, SandboxedParser
    from search.backends import make_backend

    settings = _settings(args)
    paths = [Path(p) for p in args.paths] or [settings.corpus_dir]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"error: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    if args.quiet:
        # The model library's own bar ("Loading weights"), read when it is first imported.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    embedder = make_embedder(settings.embedder_spec)
    parser = SandboxedParser(ExtractionLimits.from_settings(settings))
    from index.ray_pipeline import RayExecutor

    executor = (
        RayExecutor(settings.embedder_spec, parser=parser, address=args.ray_address)
        if args.ray or args.ray_address
        else None
    )
    try:
        report = build_index(
            paths,
            settings.index_dir,
            embedder,
            progress=_progress_factory(args.quiet),
            parser=parser,
            windows=settings.dense_windows,
            window_method=settings.window_method,
            ann=AnnConfig.from_settings(settings),
            publisher=make_backend(settings),
            executor=executor,
            max_file_bytes=settings.max_file_bytes,
        )
    except Exception as exc:
        failure = storage_failure(exc, settings.index_dir)
        if failure is None:
            raise
        # One line a person can act on; the previous version was not touched.
        print(
            f"error: cannot write the index in {settings.index_dir}: {failure.reason}; "
            "the previous version still serves",
            file=sys.stderr,
        )
        return EXIT_FAILED
    finally:
        if executor is not None:
            executor.close()
    if report.repaired:
        print(f"repaired the index folder: {report.repaired}", file=sys.stderr)
    if report.published:
        print(report.published)
    if report.full_rebuild_reason and not args.quiet:
        print(f"full rebuild: {report.full_rebuild_reason}", file=sys.stderr)
    for problem in report.problems:
        print(f"skipped {problem.path}: {problem.reason}", file=sys.stderr)
    if not args.quiet:
        for label, ids in (
            ("added", report.added),
            ("updated", report.updated),
            ("removed", report.removed),
        ):
            for doc_id in ids:
                print(f"{label} {doc_id}")
    print(report.summary())
    return EXIT_OK


def _print_human(query: str, results: list[Any]) -> None:
    if not results:
        print(f"No results for {query!r}.")
        return
    for i, r in enumerate(results, 1):
        where = " › ".join(p for p in (r.section,) if p) or "(no section)"
        page = f", page {r.page}" if r.page else ""
        print(f"{i}. [{r.score:.3f}] {r.title}")
        print(f"   {where}{page} — {r.doc_id}")
        text = " ".join(r.text.split())
        print(f"   {text[:300]}{'…' if len(text) > 300 else ''}")
        print()


def cmd_search(args: argparse.Namespace) -> int:
    from search.engine import QueryError, SearchEngine

    engine = SearchEngine(_settings(args))
    try:
        k = engine.check_k(args.k)
        if args.batch:
            return _search_batch(engine, Path(args.batch), k, _filters(args))
        if args.query is None:
            raise QueryError("give a QUERY or --batch FILE")
        results = engine.search(args.query, k, filters=_filters(args))
    except QueryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(
            json.dumps(
                {"query": args.query, "results": [r.to_json() for r in results]}, ensure_ascii=False
            )
        )
    else:
        _print_human(args.query, results)
    return EXIT_OK


def _filters(args: argparse.Namespace) -> Any:
    from search.filters import Filters

    return Filters(
        doc_type=args.type,
        province=args.province,
        date_from=args.date_from,
        date_to=args.date_to,
        doc_id=args.doc,
        issuer=args.issuer,
        number=args.number,
        document_type=args.document_type,
    )


def _search_batch(engine: Any, path: Path, k: int, filters: Any = None) -> int:
    from search.engine import QueryError

    if not path.is_file():
        raise QueryError(f"batch file not found: {path}")
    status = EXIT_OK
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if line_no > engine.settings.max_batch_queries:
                raise QueryError(f"batch has more than {engine.settings.max_batch_queries} queries")
            try:
                item = json.loads(line)
                qid, query = item.get("id"), item["query"]
                results = [r.to_json() for r in engine.search(query, k, filters=filters)]
                out: dict[str, Any] = {"id": qid, "query": query, "results": results}
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                # One bad line is reported in place; the other queries still run.
                reason = str(exc) if isinstance(exc, QueryError) else f"line {line_no}: {exc!r}"
                out = {
                    "id": item.get("id") if isinstance(item, dict) else None,
                    "query": item.get("query") if isinstance(item, dict) else None,
                    "results": [],
                    "error": reason,
                }
                status = EXIT_USAGE
            print(json.dumps(out, ensure_ascii=False), flush=True)
    return status


def cmd_eval(args: argparse.Namespace) -> int:
    if args.assignments is not None:
        from evaluation.assignments import run_assignment_eval

        return run_assignment_eval(
            args.assignments, args.labels, args.markdown, args.verbose, sys.stdout
        )
    if args.lawqa is not None:
        from evaluation.lawqa import run_lawqa_eval

        return run_lawqa_eval(args, _settings(args))
    if args.answers:
        from evaluation.answers import run_answer_eval

        return run_answer_eval(args, _settings(args))
    from evaluation.retrieval import run_eval

    return run_eval(args, _settings(args))


def cmd_ask(args: argparse.Namespace) -> int:
    from search.answer import Answerer
    from search.engine import QueryError, SearchEngine

    answerer = Answerer(SearchEngine(_settings(args)))
    try:
        result = answerer.ask(args.question, args.k, _filters(args), lang=args.lang)
    except QueryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return EXIT_OK
    if result.answer is None:
        print("No answer found. Nearest passages:\n")
    else:
        cites = ", ".join(f"[{n}]" for n in result.answer.citations)
        print(f"{result.answer.text}\n  — {cites} (confidence {result.answer.confidence:.2f})\n")
    for p in result.passages:
        where = " › ".join(x for x in (p.title, p.section) if x)
        page = f", page {p.page}" if p.page else ""
        print(f"[{p.n}] {where}{page}\n    {p.url}")
    return EXIT_OK


M_ARENA_MAX = -8  # glibc's mallopt parameter number


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's per-thread heap arenas for a server process (unless the environment says).

    Every request thread (and the embedder's thread) otherwise gets its own
    arena and keeps its freed memory: at 100k chunks the server's RSS was
    2.77 GB with the default (up to 8 per core) and 2.36 GB with 2 arenas, at
    equal or better latency (bench/bench_query.py). ``MALLOC_ARENA_MAX`` in
    the environment wins. A no-op (False) where the C library has no mallopt.
    """
    import ctypes

    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))


def server_config(app: Any, host: str, port: int, **options: Any) -> Any:
    """uvicorn's configuration for `serve`.

    uvicorn's own proxy-header handling is off: by default it believes
    X-Forwarded-For from 127.0.0.1, so any local client (or a proxy that passes
    the header through) could pick the address it is rate-limited under. The app
    reads forwarded headers itself, from POLICY_SEARCH_TRUSTED_PROXIES only
    (web/security.py). Logs are JSON lines and the access line is the app's own,
    with secrets redacted (web/requestlog.py): uvicorn's wrote the raw query string.
    ``options`` go to uvicorn.Config (workers, factory).
    """
    import uvicorn

    from web.requestlog import log_config

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        log_config=log_config(),
        access_log=False,
        proxy_headers=False,
        forwarded_allow_ips="",
        **options,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    workers = args.workers
    if workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    limit_malloc_arenas()  # before the server starts its threads
    from web.metrics import prepare_workers, remove_worker_folder

    # Before prometheus_client is imported: workers share one folder of metric values.
    metrics_dir = prepare_workers(workers)
    # The log is JSON lines (web/requestlog.py): no progress bars (here or in the children,
    # which inherit this), and warnings go through logging.
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.captureWarnings(True)
    # The server embeds in a process of its own (see index/embed_process.py) unless told not to.
    os.environ.setdefault("POLICY_SEARCH_EMBEDDER_PROCESS", "1")
    settings = _settings(args)
    host, port = args.host or settings.host, args.port or settings.port
    if settings.rate_limit_file is None:
        # Rate-limit buckets every worker of this server shares (web/ratelimit.py); one file
        # per port, so two servers on one index keep their own budgets.
        runtime = settings.index_dir.resolve() / "runtime" / f"ratelimit-{port}.sqlite"
        settings = settings.model_copy(update={"rate_limit_file": runtime})
    if settings.task_file is None:
        # Queued writes' tasks, read by whichever worker a poll reaches (web/tasks.py).
        tasks = settings.index_dir.resolve() / "runtime" / f"tasks-{port}.sqlite"
        settings = settings.model_copy(update={"task_file": tasks})
    try:
        return _run_server(settings, host, port, workers)
    finally:
        remove_worker_folder(metrics_dir)


def _run_server(settings: Settings, host: str, port: int, workers: int) -> int:
    import uvicorn

    from web.app import create_app

    if workers == 1:
        app = create_app(settings)
        uvicorn.Server(server_config(app, host, port)).run()
        return EXIT_OK

    from uvicorn.supervisors import Multiprocess

    from index.store import Snapshot, current_path

    # Each worker is a fresh interpreter that builds its app from the environment
    # (create_app(get_settings())), with its own embedder process; what the command
    # line changed travels there.
    os.environ["POLICY_SEARCH_INDEX_DIR"] = str(settings.index_dir.resolve())
    os.environ["POLICY_SEARCH_RATE_LIMIT_FILE"] = str(settings.rate_limit_file)
    os.environ["POLICY_SEARCH_TASK_FILE"] = str(settings.task_file)
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")  # limit_malloc_arenas, for the workers
    # Refuse a missing or inconsistent index here, once, rather than in workers that
    # uvicorn would restart forever.
    current = current_path(settings.index_dir)
    if current is None:
        raise IndexUnavailable(
            f"no index at {settings.index_dir}: build one with `policy-search ingest`"
        )
    Snapshot(current)
    config = server_config("web.app:create_app", host, port, factory=True, workers=workers)
    Multiprocess(config, sockets=[config.bind_socket()]).run()
    return EXIT_OK


# A backup, restore or rollback waits this long for a write in progress to finish.
WRITE_WAIT_S = 600.0


def _storage_error(exc: OSError, where: Path) -> int:
    failure = storage_failure(exc, where)
    print(f"error: {failure.reason if failure else exc}; nothing was changed", file=sys.stderr)
    return EXIT_FAILED


def cmd_backup(args: argparse.Namespace) -> int:
    from index.backup import backup

    settings = _settings(args)
    dest = Path(args.dest)
    try:
        report = backup(settings.index_dir, dest, settings.uploads_path, lock_timeout=WRITE_WAIT_S)
    except OSError as exc:
        return _storage_error(exc, dest)
    for doc_id in report.missing:
        print(
            f"warning: the uploaded file of {doc_id} is missing; not in the backup", file=sys.stderr
        )
    print(f"backed up {report.summary()} to {dest}")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from index.backup import restore
    from index.store import version_dirs
    from search.backends import make_backend

    settings = _settings(args)
    backend = make_backend(settings)
    before = {v.name for v in version_dirs(settings.index_dir)}
    try:
        report = restore(
            Path(args.src),
            settings.index_dir,
            settings.uploads_path,
            publish=backend.publish,
            lock_timeout=WRITE_WAIT_S,
        )
    except OSError as exc:
        return _storage_error(exc, settings.index_dir)
    # Versions the restore pruned (all but the one it replaced) leave the backend too.
    backend.retire(sorted(before - {v.name for v in version_dirs(settings.index_dir)}))
    was = f" (was {report.replaced}; `policy-search rollback` goes back to it)"
    print(
        f"restored version {report.restored_from} as {report.version}: {report.documents} "
        f"documents, {report.uploads} uploaded originals" + (was if report.replaced else "")
    )
    return EXIT_OK


def cmd_rollback(args: argparse.Namespace) -> int:
    from index.store import no_index, rollback, writer_lock
    from search.backends import make_backend

    settings = _settings(args)
    if not os.path.lexists(settings.index_dir / "current"):
        raise no_index(settings.index_dir)  # before the lock, which would make the folder
    backend = make_backend(settings)
    try:
        with writer_lock(settings.index_dir, timeout=WRITE_WAIT_S):
            was, now = rollback(settings.index_dir, backend.publish)
    except OSError as exc:
        return _storage_error(exc, settings.index_dir)
    print(f"rolled back: version {now} serves (was {was})")
    return EXIT_OK


def cmd_settings(args: argparse.Namespace) -> int:
    for env, value, help_text in describe():
        print(f"{env}={value}\n    {help_text}")
    return EXIT_OK


def _filter_arguments(p: argparse.ArgumentParser) -> None:
    """The metadata filters, the same for ``search`` and ``ask``."""
    p.add_argument("--type", choices=DOC_TYPES, help="document type")
    p.add_argument("--province", help='province named in the document, e.g. "Lào Cai"')
    p.add_argument(
        "--date-from", metavar="DATE", help="documents dated on or after (yyyy[-mm[-dd]])"
    )
    p.add_argument(
        "--date-to", metavar="DATE", help="documents dated on or before (yyyy[-mm[-dd]])"
    )
    p.add_argument("--doc", metavar="DOC_ID", help="only this source document")
    p.add_argument(
        "--issuer",
        help='official documents of this issuing body (or under it), e.g. "UBND tỉnh Lào Cai", '
        '"ubnd lao cai"',
    )
    p.add_argument(
        "--number", help='the official document of this number, e.g. "2666/QĐ-UBND", "qd 2666"'
    )
    p.add_argument(
        "--document-type",
        metavar="TYPE",
        help='official documents of this type as printed, e.g. "Quyết định", "quyet dinh"',
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policy-search",
        description="Search Vietnamese public-policy documents (plans, agreements, news).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="add files/folders to the index (incremental)")
    p.add_argument("paths", nargs="*", help="files or folders (default: the corpus folder)")
    p.add_argument("--index", help="index folder (default: POLICY_SEARCH_INDEX_DIR)")
    p.add_argument("--quiet", action="store_true", help="no progress bars or per-document lines")
    p.add_argument(
        "--ray",
        action="store_true",
        help="extract and embed on Ray (a local instance, or --ray-address); "
        "the same version as without",
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="a Ray cluster to run on, e.g. ray://head:10001 (implies --ray)",
    )
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="search the index")
    p.add_argument("query", nargs="?", help="the question or keywords")
    p.add_argument("--k", type=int, default=None, help="number of results")
    p.add_argument("--index", help="index folder (default: POLICY_SEARCH_INDEX_DIR)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--batch",
        metavar="FILE",
        help='JSON lines {"id": ..., "query": ...}; prints one JSON line per query',
    )
    _filter_arguments(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("eval", help="measure retrieval: MRR@10, Recall@1/5/10 per method and kind")
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        choices=["xquad", "corpus", "alqac"],
        help="built-in question set (repeatable; default: xquad and corpus)",
    )
    p.add_argument(
        "--xquad",
        default="../shared/eval/xquad",
        help="folder with xquad.vi.json and xquad.en.json (default: %(default)s)",
    )
    p.add_argument("--corpus", default=None, help="folder of the corpus set (default: corpus/)")
    p.add_argument(
        "--alqac",
        nargs="?",
        const="../shared/eval/alqac",
        default=None,
        metavar="PATH",
        help="legal article retrieval on ALQAC: folder with docs/ and dev_questions.jsonl "
        "(default: ../shared/eval/alqac); hit@1/5/10 and MRR@10 per method with plain BM25 "
        "beside, on a tuning half and a check half",
    )
    p.add_argument(
        "--lawqa",
        nargs="?",
        const="../shared/eval/lawqa",
        default=None,
        metavar="PATH",
        help="long legal Q&A articles: folder with docs/ and dev_questions.jsonl (default: "
        "../shared/eval/lawqa); hit@1, MRR@10, hit@10 and passage@5 of hybrid with plain "
        "BM25 beside, with and without diacritics",
    )
    p.add_argument(
        "--limit-docs",
        type=int,
        default=None,
        metavar="N",
        help="with --lawqa: index N articles (those of the first questions, half at most, "
        "and distractors) instead of all 4,000",
    )
    p.add_argument(
        "--headers",
        action="store_true",
        help="header metadata of official documents instead: field accuracy on --admindocs "
        "and on generated fixtures (PDF, DOCX, noisy text)",
    )
    p.add_argument(
        "--admindocs",
        default=None,
        metavar="PATH",
        help="folder with labels.jsonl and docs/ for --headers (default: ../shared/eval/admindocs)",
    )
    p.add_argument(
        "--questions",
        metavar="FILE",
        help="your own question set (JSON or JSON lines) against --index",
    )
    p.add_argument("--index", help="index for --questions (default: POLICY_SEARCH_INDEX_DIR)")
    p.add_argument(
        "--cache",
        default=None,
        help="folder for the built-in sets' indexes and query vectors "
        "(default: $TMPDIR/policy-search-eval)",
    )
    p.add_argument(
        "--method",
        dest="methods",
        action="append",
        choices=["bm25", "lexical", "dense", "dense-windows", "hybrid-no-windows", "hybrid"],
        help="method (repeatable; default: all but bm25; alqac: bm25, lexical, dense, hybrid)",
    )
    p.add_argument("--limit", type=int, default=None, help="first N questions of each set")
    p.add_argument(
        "--backend",
        choices=["faiss", "milvus"],
        default="faiss",
        help="milvus: measure every method on the local store and on Milvus Lite, side by side "
        "(exit 1 when a MRR@10 differs by more than 0.01)",
    )
    p.add_argument("--markdown", action="store_true", help="print a Markdown table (README)")
    p.add_argument(
        "--answers",
        action="store_true",
        help="evaluate the answer card on the built-in answer sets (dev and held-out) "
        "instead of retrieval",
    )
    p.add_argument(
        "--calibrate",
        action="store_true",
        help="with --answers: refit the confidence model and threshold on the dev set "
        "(writes search/data/answer_calibration.json)",
    )
    p.add_argument(
        "--answers-collection",
        choices=["corpus", "shared"],
        default="corpus",
        help="with --answers: corpus: the built-in sets over corpus/; shared: corpus/ and the "
        "real plans and decisions under --eval-dir indexed together, asked --answer-set "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--eval-dir",
        default=None,
        metavar="PATH",
        help="with --answers-collection shared: folder holding plans/docs and admindocs/docs "
        "(default: ../shared/eval)",
    )
    p.add_argument(
        "--answer-set",
        default=None,
        metavar="FILE",
        help="with --answers-collection shared: the questions (default: "
        "evalsets/answers_shared.json)",
    )
    p.add_argument(
        "--held-out-by-document",
        action="store_true",
        help="with --answers-collection shared: score each document's questions with a "
        "confidence model fitted on the other documents' outcomes",
    )
    p.add_argument(
        "--verbose",
        action="store_true",
        help="with --answers: list every wrong answer; with --assignments: every miss",
    )
    p.add_argument(
        "--assignments",
        nargs="*",
        default=None,
        metavar="PATH",
        help="who-does-what extraction against hand labels: precision and recall of "
        "(task, lead) pairs per document (default paths: ../shared/eval/plans, "
        "../shared/eval/admindocs, ../shared/eval/alqac, corpus)",
    )
    p.add_argument(
        "--labels",
        default=None,
        metavar="FILE",
        help="labels for --assignments (default: evalsets/assignments.jsonl)",
    )
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("ask", help="answer a question with cited passages")
    p.add_argument("question", help="the question, in Vietnamese or English")
    p.add_argument("--k", type=int, default=None, help="number of passages")
    p.add_argument("--index", help="index folder (default: POLICY_SEARCH_INDEX_DIR)")
    p.add_argument(
        "--json",
        action="store_true",
        help='print {"question", "answer": {"text", "citations", ...}, "passages", ...}',
    )
    p.add_argument(
        "--lang",
        choices=["vi", "en"],
        default=None,
        help="language of the answer's labels (default: the question's)",
    )
    _filter_arguments(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("serve", help="start the web service")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--index", help="index folder (default: POLICY_SEARCH_INDEX_DIR)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port, each with its own embedder process; "
        "rate-limit budgets are shared by all (default: 1)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "backup", help="copy the served version and the uploaded originals to a new folder"
    )
    p.add_argument("dest", help="a new or empty folder")
    p.add_argument("--index", help="index folder (default: POLICY_SEARCH_INDEX_DIR)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="serve the version a backup holds, with its uploads")
    p.add_argument("src", help="a folder made by `policy-search backup`")
    p.add_argument("--index", help="index folder (default: POLICY_SEARCH_INDEX_DIR)")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("rollback", help="serve the version served before the current one")
    p.add_argument("--index", help="index folder (default: POLICY_SEARCH_INDEX_DIR)")
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("settings", help="list the POLICY_SEARCH_* settings with their values")
    p.set_defaults(func=cmd_settings)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except IndexUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except ValueError as exc:  # bad settings or embedder spec
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
