"""`customer-value generate` and `demo`: sample accounts, written to a folder or served with
the whole app on them."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from plugin.cli.base import Timestamp, fail, main
from plugin.core.times import zulu
from plugin.demo.generator import generate
from plugin.demo.server import run_demo


@main.command("generate")
@click.option("--customers", type=click.IntRange(min=1, max=10_000_000), required=True,
              help="How many customers (about ten tickets each on average).")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder to write the dataset to (created if missing).")
@click.option("--seed", type=int, default=7, show_default=True,
              help="Same seed, same clock and same size give identical files.")
@click.option("--now", type=Timestamp(), default=None,
              help="The account's present moment. Default: the current time.")
@click.option("--lifetimes", is_flag=True,
              help="Customers live lifetimes (purchases, leaving sooner after bad service) "
                   "and truth.json records what happened to each (for backtests).")
def generate_command(customers: int, out: Path, seed: int, now: datetime | None,
                     lifetimes: bool) -> None:
    """Write a realistic, seeded dataset folder in Zendesk's JSON envelopes."""
    if out.exists() and not out.is_dir():
        fail(f"{out} exists and is not a folder")
    now = now or datetime.now(UTC)
    with click.progressbar(length=customers, label="Generating customers",
                           file=sys.stderr) as bar:
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            bar.update(count - done)
            done = count

        try:
            summary = generate(out, customers, seed=seed, now=now, progress=advance,
                               lifetimes=lifetimes)
        except OSError as error:
            fail(f"cannot write to {out}: {error.strerror or error}")
    click.echo(f"Wrote {summary.users:,} users, {summary.organizations:,} organizations, "
               f"{summary.tickets:,} tickets, {summary.ratings:,} ratings and "
               f"{summary.survey_responses:,} survey responses to {out} "
               f"(as of {zulu(summary.now)})")


@main.command("demo")
@click.option("--customers", type=click.IntRange(min=10, max=100_000), default=300,
              show_default=True, help="Size of the generated sample account.")
@click.option("--port", type=click.IntRange(0, 65535), default=5000, show_default=True,
              help="Port of the app on 127.0.0.1 (0 picks a free one).")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="Serve this dataset folder instead of a generated account.")
@click.option("--now", type=Timestamp(), default=None,
              help="The account's present moment. Default: the current time.")
@click.option("--sandbox-port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port of the built-in Zendesk sandbox on 127.0.0.1 (0 picks a free one).")
def demo_command(customers: int, port: int, data_dir: Path | None,
                 now: datetime | None, sandbox_port: int) -> None:
    """Run the whole app on a generated account served by the built-in Zendesk sandbox."""
    try:
        run_demo(customers, port, echo=lambda line: click.echo(line, err=True), data=data_dir,
                 now=now, sandbox_port=sandbox_port)
    except OSError as error:
        fail(f"cannot start the demo: {error.strerror or error}")
