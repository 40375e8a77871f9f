"""The ``replay`` command line. Commands parse options, call the library and print results.

Exit codes: 0 success; 1 the run crossed its failure threshold, or a comparison gate failed;
2 a usage, dataset or configuration error; 3 an infrastructure failure (authentication,
exhausted quota); 130 the run was interrupted and can be resumed.

Heavy libraries are imported inside the commands so that ``replay --help`` starts fast.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from replay import __version__

__all__ = ["main"]

logger = logging.getLogger("replay")

# Arrow's jemalloc pool returns memory to the system more readily than the system allocator,
# which kept large runs about 20 MB lower per stage in benchmarks/bench_memory.py. The pool
# must be chosen before pyarrow is first imported.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")

EXIT_USAGE = 2


def _report_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ReplayError into a one-paragraph message and its exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from replay.errors import ReplayError

        try:
            return func(*args, **kwargs)
        except ReplayError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs one INFO line per request: far too many for a run of thousands
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


class _LazyGroup(click.Group):
    """A group whose heavier commands are imported only when used, to keep ``--help`` fast."""

    lazy_commands = {"simulate": ("replay.simulator.command", "simulate")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_commands])

    def invoke(self, ctx: click.Context) -> Any:
        # click turns Ctrl-C into "Aborted!" and exit code 1; replay documents 130 for an interruption
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\ninterrupted", err=True)
            sys.exit(130)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands:
            module_name, attribute = self.lazy_commands[cmd_name]
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="replay")
@click.option("--log-level", default=lambda: os.environ.get("REPLAY_LOG_LEVEL", "INFO"), show_default="INFO",
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="Logging level of messages on stderr (also REPLAY_LOG_LEVEL).")
def main(log_level: str) -> None:
    """Replay past incidents against investigation playbooks, score the answers, and report.

    Start with: replay run datasets/q3.parquet --simulator
    """
    _configure_logging(log_level)


def _dataset_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--column", "columns", multiple=True, metavar="FIELD=COLUMN",
                     help="Read FIELD from another column, e.g. --column root_cause=summary. Repeatable."),
        click.option("--time-zone", help="IANA zone for times written without an offset, e.g. Europe/Berlin."),
        click.option("--allow-partial-dates", is_flag=True, default=None,
                     help="Accept date-only times (YYYY, YYYY-MM, YYYY-MM-DD) as the start of that period."),
        click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="TOML config file (default: replay.toml in the working directory, if present)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@main.command()
@click.argument("dataset", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--book", "books", multiple=True, help="Book (playbook) to replay each incident against. Repeatable; "
              "default: each incident's book_name column.")
@click.option("--repeat", type=int, help="Independent executions per incident and book. [default: 1]")
@click.option("--label", help="A name for this run, used in its id and report.")
@click.option("--concurrency", type=int, help="Executions in flight. [default: 4 against the real API, where each "
              "execution queries your own metrics, logs and traces; 64 against the simulator]")
@click.option("--rate", type=float, help="Requests per second, 0 for no limit. [default: 2 against the real API; "
              "no limit against the simulator]")
@click.option("--burst", type=int, help="Requests that may start back to back after an idle period. [default: 1]")
@click.option("--timeout", type=float, help="Seconds one request may take before it is retried. [default: 300]")
@click.option("--batch-size", type=click.IntRange(1, 10), help="Executions per request (2-10 use the batch "
              "endpoint). [default: 1]")
@click.option("--max-attempts", type=int, help="Attempts per execution, the first included. [default: 5]")
@click.option("--max-retry-after", type=float, help="Longest Retry-After (seconds) to wait for; a longer one stops "
              "the run as an exhausted quota. [default: 300]")
@click.option("--execution-deadline", type=float, help="Seconds one execution may take across all its attempts "
              "and waits; no retry starts past it. [default: 1800]")
@click.option("--max-failures", type=float, help="Stop the run after this many failed executions (a count), or this "
              "fraction of them (below 1).")
@click.option("--api-url", help="Base URL of the execution API. [default: https://api.wildmoose.ai]")
@click.option("--simulator", is_flag=True, help="Run against the built-in simulator, served in this process.")
@click.option("--simulator-latency", type=float, help="Scale of the simulator's latency profile (books answer in 4-8 s median at 1), 0 for instant. [default: 0.2]")
@click.option("--limit", type=int, help="Replay only the first N incidents (after sampling and sharding).")
@click.option("--sample", type=int, help="Replay a random sample of N incidents (see --seed).")
@click.option("--seed", type=int, help="Seed for --sample and the simulator. [default: 0]")
@click.option("--shard", metavar="I/N", help="Replay only part I of N disjoint, stable parts of the dataset.")
@click.option("--resume", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Continue an interrupted run directory; finished executions are not repeated.")
@click.option("--retry-failed", is_flag=True, help="With --resume, run failed executions again.")
@click.option("--dry-run", is_flag=True, help="Print the plan and its expected duration; send nothing.")
@click.option("--skip-invalid", is_flag=True, default=None, help="Run the valid rows; record invalid ones as "
              "invalid_input.")
@click.option("--scorer", "scorers", multiple=True, help="Scorer name or module:attribute. Repeatable.")
@click.option("--out", help="Directory for run directories. [default: runs]")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path),
              help="File holding the API token (default: the WILDMOOSE_API_TOKEN variable).")
@click.option("--token-url", help="OAuth token endpoint for a client-credentials exchange (the secret is read "
              "from WILDMOOSE_CLIENT_SECRET).")
@click.option("--client-id", help="OAuth client id for --token-url.")
@click.option("--audience", help="OAuth audience for --token-url.")
@_dataset_options
@click.pass_context
@_report_errors
def run(ctx: click.Context, dataset: Path | None, simulator: bool, resume: Path | None, retry_failed: bool,
        dry_run: bool, config_path: Path | None, columns: tuple[str, ...], **options: Any) -> None:
    """Validate DATASET, replay its incidents, score the answers and write the report."""
    from replay.runner import run_replay
    from replay.settings import load_settings, parse_column_mapping
    from replay.store import read_manifest

    if dataset is None and resume is None:
        raise click.UsageError("give a DATASET file, or --resume RUN_DIR")
    if retry_failed and resume is None:
        raise click.UsageError("--retry-failed needs --resume RUN_DIR")
    if dataset is not None and resume is not None:
        raise click.UsageError("give either a DATASET or --resume RUN_DIR: a resumed run replays its own incidents")
    flags = _given(ctx, options)
    if columns:
        flags["columns"] = parse_column_mapping(columns)
    for name in ("books", "scorers"):
        if name in flags:
            flags[name] = tuple(flags[name])
    if "token_file" in flags:
        flags["token_file"] = str(flags["token_file"])
    base = None
    if resume is not None:
        manifest = read_manifest(resume)
        base = manifest.get("settings")
        _check_resume_flags(flags, base or {}, simulator, bool(manifest.get("simulator")))
        simulator = bool(manifest.get("simulator"))
    settings = load_settings(flags, config_path=config_path, base=base)

    outcome = run_replay(dataset, settings, simulator=simulator, resume=resume, retry_failed=retry_failed,
                         dry_run=dry_run)
    if outcome.plan_text:
        click.echo(outcome.plan_text)
        return
    _print_run(outcome)
    sys.exit(outcome.exit_code)


@main.command()
@click.argument("dataset", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--book", "default_book", help="Book to use for rows without a book_name.")
@click.option("--all", "show_all", is_flag=True, help="List every problem, not only the first examples of each kind.")
@_dataset_options
@_report_errors
def validate(dataset: Path, default_book: str | None, show_all: bool, columns: tuple[str, ...],
             time_zone: str | None, allow_partial_dates: bool | None, config_path: Path | None) -> None:
    """Check DATASET and list every problem: row, column, value and fix."""
    from replay.datasets import format_problems, load_incidents
    from replay.settings import load_settings, parse_column_mapping

    flags: dict[str, Any] = {"time_zone": time_zone, "allow_partial_dates": allow_partial_dates}
    if columns:
        flags["columns"] = parse_column_mapping(columns)
    if default_book:
        flags["books"] = (default_book,)
    settings = load_settings(flags, config_path=config_path)
    # the same default book as 'replay run': --book, else the books of the config file
    loaded = load_incidents(dataset, column_map=settings.columns or None, default_zone=settings.time_zone,
                            allow_partial_dates=settings.allow_partial_dates,
                            default_book=settings.books[0] if settings.books else None)
    total = len(loaded.incidents) + len(loaded.invalid_rows)
    if not loaded.problems:
        click.echo(f"{dataset}: {total} rows, all valid.")
        return
    click.echo(format_problems(loaded.problems, dataset, limit=None if show_all else 50))
    click.echo(f"\n{dataset}: {len(loaded.invalid_rows)} of {total} rows are invalid, {len(loaded.incidents)} valid. "
               "'replay run --skip-invalid' runs the valid ones and records the others as invalid_input.")
    sys.exit(1)


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--scorer", "scorers", multiple=True, help="Scorer name or module:attribute. Repeatable. "
              "[default: the run's scorers, else the built-in defaults]")
@click.option("--calibrate", is_flag=True, help="Measure each scorer's agreement with human verdicts (the "
              "dataset's human_verdict column, or --labels) and store it in the run as calibration.json.")
@click.option("--labels", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="CSV, JSON lines or Parquet file of human verdicts with incident_id, human_verdict and "
              "optionally book_name. Implies --calibrate.")
@click.option("--judge-repeats", type=click.IntRange(min=2), default=None,
              help="Also grade each answer N times with the LLM judge and print how often the judge agrees "
              "with itself, so a flaky grader is told apart from a flaky playbook.")
@_report_errors
def score(run_dir: Path, scorers: tuple[str, ...], calibrate: bool, labels: Path | None,
          judge_repeats: int | None) -> None:
    """Score a finished run again, without calling the API, and re-render its report."""
    from replay.reporting import render_report, score_run_dir

    scores = score_run_dir(run_dir, scorers or None)
    if judge_repeats is not None:
        from replay.scoring.consistency import format_judge_agreement, judge_agreement_run

        click.echo(format_judge_agreement(judge_agreement_run(run_dir, judge_repeats)))
    if calibrate or labels is not None:
        from replay.scoring.calibration import calibrate_run, format_calibration

        click.echo(format_calibration(calibrate_run(run_dir, labels)))
    path, summary = render_report(run_dir)
    click.echo(f"scored {scores['execution_key'].nunique()} executions with {scores['scorer'].nunique()} scorers")
    _print_summary(summary)
    click.echo(f"report: {path}")


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--scorer", help="Scorer whose verdicts the summary uses. [default: the first default scorer]")
@_report_errors
def report(run_dir: Path, scorer: str | None) -> None:
    """Render the HTML report of a run again."""
    from replay.reporting import render_report

    path, _summary = render_report(run_dir, scorer=scorer)
    click.echo(f"report: {path}")


@main.command()
@click.option("--out", default="runs", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory holding run directories.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON records on stdout.")
@_report_errors
def runs(out: Path, as_json: bool) -> None:
    """List runs with their status and headline numbers."""
    from replay.library import load_runs

    table = load_runs(out)
    if table.empty:
        click.echo(f"no runs under {out}")
        return
    if as_json:
        click.echo(table.to_json(orient="records", indent=2))
        return

    from rich.console import Console
    from rich.table import Table

    view = Table(box=None, header_style="bold")
    for name in ("run", "label", "status", "started (UTC)", "executions", "ok", "failed"):
        view.add_column(name, justify="right" if name in ("executions", "ok", "failed") else "left", no_wrap=True)
    for row in table.itertuples(index=False):
        status = str(row.status)
        if status == "running":
            # a run killed with kill -9 never updates its manifest; only its journal records what finished
            status = "running or interrupted"
        view.add_row(str(row.run_id), str(row.label or ""), status, str(row.started_at or "")[:19].replace("T", " "),
                     str(row.executions), str(row.ok), str(row.failed))
    # a pipe gets full lines rather than the 80 columns rich assumes without a terminal
    Console(width=None if sys.stdout.isatty() else 200).print(view)


# settings that decide what a run executes: a resume must keep them. --api-url may change
# (the same API behind another address), but not the switch between the API and the simulator.
PLAN_SETTINGS = ("books", "repeat", "limit", "sample", "seed", "shard", "columns", "time_zone",
                 "allow_partial_dates", "skip_invalid", "label", "out")


def _check_resume_flags(flags: dict[str, Any], stored: dict[str, Any], simulator: bool, was_simulator: bool) -> None:
    """Reject flags that would change a resumed run's plan or its API."""
    changed = []
    for name in PLAN_SETTINGS:
        if name in flags:
            given, before = flags[name], stored.get(name)
            if isinstance(given, tuple):
                given, before = list(given), list(before or [])
            if given != before:
                changed.append(f"--{name.replace('_', '-')} (run: {before!r}, given: {given!r})")
    if simulator and not was_simulator:
        changed.append("--simulator (the run used the API at " + str(stored.get("api_url")) + ")")
    if was_simulator and "api_url" in flags:
        changed.append("--api-url (the run used the built-in simulator)")
    if changed:
        raise click.UsageError(
            "a resumed run keeps its plan and its API; these flags differ from the run: " + "; ".join(changed)
            + ". Drop them to resume, or start a new run."
        )


def _given(ctx: click.Context, options: dict[str, Any]) -> dict[str, Any]:
    """Keep only options the user passed, so config files and variables can fill the rest."""
    given = {}
    for name, value in options.items():
        source = ctx.get_parameter_source(name)
        if source is not None and source.name == "COMMANDLINE" and value not in (None, ()):
            given[name] = value
    return given


def _print_run(outcome: Any) -> None:
    counts = ", ".join(f"{k} {v}" for k, v in sorted(outcome.counts.items()))
    ended = f"{outcome.executions} executions"
    if outcome.planned is not None and outcome.planned != outcome.executions:
        ended = f"{outcome.executions} of {outcome.planned} executions ended"
    click.echo(f"\nrun {outcome.status}: {ended} ({counts}) in {outcome.wall_time_s:.1f} s")
    if outcome.reason:
        click.echo(f"reason: {outcome.reason}")
    if outcome.summary is not None:
        _print_summary(outcome.summary)
    click.echo(f"results: {outcome.run_dir / 'results.parquet'}")
    click.echo(f"scores:  {outcome.run_dir / 'scores.parquet'}")
    if outcome.report_path is not None:
        click.echo(f"report:  {outcome.report_path}")
    else:
        click.echo(f"report:  not written; render it with: replay report {outcome.run_dir}")
    if outcome.resume_command:
        click.echo(f"resume with: {outcome.resume_command}")


def _print_summary(summary: Any) -> None:
    if summary is None or summary.empty:
        return
    click.echo("")
    for row in summary.itertuples(index=False):
        accuracy = "n/a" if row.n_scored == 0 else (
            f"{row.accuracy:6.1%} [{row.accuracy_low:.1%}, {row.accuracy_high:.1%}]")
        latency = "n/a" if row.latency_p50_s != row.latency_p50_s else f"{row.latency_p50_s:.2f} s"
        book = row.book_name or "(no book: invalid rows)"
        click.echo(f"  {book:<28} accuracy {accuracy}  scored {row.n_scored}/{row.n_executions}  "
                   f"errors {row.error_rate:.1%}  p50 {latency}")
    click.echo("")




@main.command()
@click.argument("run_a", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("run_b", required=False, type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--book-a", help="Book of side A. [default: the run's only book; with one run, the first of its two]")
@click.option("--book-b", help="Book of side B. [default: the run's only book, or the book named like A's; with "
              "one run, the second of its two]")
@click.option("--scorer", help="Scorer whose verdicts count; one without stored scores is run in memory. "
              "[default: rca]")
@click.option("--repeats", type=click.Choice(["majority", "mean"]), default="majority", show_default=True,
              help="How an incident's repeated executions count for accuracy: the majority verdict, or the "
              "share of correct repeats.")
@click.option("--fail-on-drop", type=click.FloatRange(min=0), metavar="POINTS",
              help="Exit with code 1 when accuracy falls from A to B by more than POINTS percentage points.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="HTML report file. [default: reports/compare-<A>-vs-<B>.html]")
@_report_errors
def compare(run_a: Path, run_b: Path | None, book_a: str | None, book_b: str | None, scorer: str | None,
            repeats: str, fail_on_drop: float | None, out: Path | None) -> None:
    """Compare two playbook versions incident by incident: two books of RUN_A, or RUN_A against RUN_B.

    Prints accuracy, mean score, failure rates and latency of both sides, each with a 95%
    paired bootstrap interval of the difference. Then prints McNemar's exact test and the
    regressions and fixes, and writes an HTML report.

    \b
    Exit codes:
      0  compared; accuracy fell by no more than --fail-on-drop (or no limit was given)
      1  accuracy fell by more than --fail-on-drop points, or no incident was scored on
         both sides while --fail-on-drop was given
      2  usage error, unreadable run directory, or a book or scorer not found
    """
    from replay.comparison import (
        compare_runs,
        default_report_path,
        format_comparison,
        write_comparison_report,
    )
    from replay.store import read_manifest

    comparison = compare_runs(run_a, run_b, book_a=book_a, book_b=book_b, scorer=scorer,
                              repeats=repeats)  # type: ignore[arg-type]
    if out is None:
        reports_dir = (read_manifest(run_a).get("settings") or {}).get("reports_dir") or "reports"
        out = default_report_path(comparison, reports_dir)
    path = write_comparison_report(comparison, out)
    click.echo(format_comparison(comparison))
    click.echo(f"\nreport: {path}")

    if fail_on_drop is not None and comparison.exceeds_drop(fail_on_drop):
        reason = f"accuracy fell by {comparison.accuracy_drop_points:.1f} points, more than the allowed {fail_on_drop:g}"
        if comparison.n_scored_pairs == 0:
            reason = "no incident was scored on both sides"
        click.echo(f"gate failed: {reason}", err=True)
        sys.exit(1)
