"""`customer-value backtest`: does the value predict? Every customer scored at a past moment
from only what was known then, against what happened next (`plugin.core.backtest`)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from integrations.files.crm import former_emails
from integrations.files.dataset import DatasetError
from integrations.files.staged import folder_bytes, staged
from plugin.cli.base import Timestamp, account_services, fail, main
from plugin.cli.score import read_crm, read_folder, read_settings
from plugin.core.backtest import DIRECTION, Backtest, Report, as_dict, fmt_auc
from plugin.core.domain import CustomerHistory, normal_email
from plugin.core.settings import Settings
from plugin.core.spend import with_contacts
from plugin.core.times import zulu
from plugin.service_layer.backtest import data_end, run_backtest, suggest

DURATION = re.compile(r"^(\d+(?:\.\d+)?)([dwh])$")
UNITS = {"d": "days", "w": "weeks", "h": "hours"}


class Duration(click.ParamType):
    """A span such as 90d, 12w or 36h."""

    name = "duration"

    def convert(self, value, param, ctx) -> timedelta:
        if isinstance(value, timedelta):
            return value
        found = DURATION.match(str(value).strip())
        if not found or float(found.group(1)) <= 0 or float(found.group(1)) > 36_500:
            self.fail(f"{value!r} is not a span such as 90d, 12w or 36h", param, ctx)
        return timedelta(**{UNITS[found.group(2)]: float(found.group(1))})


@main.command("backtest")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, exists=True,
                                                     path_type=Path), default=None,
              help="A dataset folder (docs/dataset.md). Without it: the history store.")
@click.option("--at", type=Timestamp(), default=None,
              help="The moment to score at (ISO 8601 with a zone). Default: one horizon "
                   "before now (the store) or before the dataset's latest event.")
@click.option("--horizon", type=Duration(), default="90d", show_default=True,
              help="What happened in (at, at + horizon] is the outcome.")
@click.option("--settings", "settings_file", type=click.Path(path_type=Path), default=None,
              help="Settings as JSON (default: the account's saved ones, or the defaults "
                   "with --data).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--suggest-weights", is_flag=True,
              help="Also fit weights on the window before --at and check them on the one "
                   "after; proposed (never applied) only if at least as good there.")
@click.option("--skip-invalid", is_flag=True, help="Leave out invalid dataset records.")
def backtest_command(data_dir: Path | None, at: datetime | None, horizon: timedelta,
                     settings_file: Path | None, as_json: bool, suggest_weights: bool,
                     skip_invalid: bool) -> None:
    """Score every customer at a past moment and measure what happened next."""
    settings = read_settings(settings_file)
    with ExitStack() as stack:
        if data_dir is not None:
            histories, total, former, end = _folder(stack, data_dir, settings, skip_invalid)
            sample = None
            default_at = (end or datetime.now(UTC)) - horizon
        else:
            services = account_services(zendesk_mode="background")
            store = services.store(services.zendesk.base_url)
            if settings_file is None:
                settings = services.versions(store).current()
            total = len(store.user_ids())

            def histories() -> Iterable[CustomerHistory]:
                return store.histories(settings)

            def sample() -> Iterable[CustomerHistory]:
                return store.sample(settings)

            former, end = frozenset(), None
            default_at = datetime.now(UTC) - horizon
        _run(histories, sample, total, settings, (at or default_at).astimezone(UTC), horizon,
             former, end, as_json, suggest_weights)


def _folder(stack: ExitStack, folder: Path, settings: Settings, skip_invalid: bool):
    """The folder's histories (staged on disk, read a customer at a time, with the CRM's
    deals), how many customers, those the CRM marks former, and the data's end."""
    dataset = read_folder(folder, skip_invalid, lambda: _with_bar(
        folder_bytes(folder), "Reading the dataset folder",
        lambda progress: stack.enter_context(staged(
            folder, spend_field=settings.spend_field, skip_invalid=skip_invalid,
            progress=progress))))
    crm = read_crm(folder, settings)

    def histories() -> Iterable[CustomerHistory]:
        return (with_contacts(h, crm, settings) for h in dataset.histories())

    former: frozenset[int] = frozenset()
    if settings.spend_source == "sell":
        try:
            emails = former_emails(folder)
        except DatasetError as error:
            fail(f"{folder}: {error}")
        former = frozenset(p.id for p in dataset.profiles() if normal_email(p.email) in emails)
    return histories, len(dataset), former, data_end(histories())


def _run(histories, sample, total: int, settings: Settings, at: datetime, horizon: timedelta,
         former: frozenset[int], end: datetime | None, as_json: bool,
         suggest_weights: bool) -> None:
    result = _with_bar(total, "Scoring customers at " + zulu(at), lambda progress: run_backtest(
        histories, settings, at, horizon, former=former, end=end, progress=progress,
        sample=sample))
    proposal = None
    if suggest_weights:
        proposal = _with_bar(total * 3, "Fitting weights", lambda progress: suggest(
            histories, settings, at, horizon, former=former, end=end, progress=progress,
            sample=sample))
    if as_json:
        body = as_dict(result)
        if proposal is not None:
            body["suggested_weights"] = proposal.as_dict()
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return
    click.echo(describe(result))
    if proposal is not None:
        click.echo("\n" + proposal.describe())


def _with_bar(total: int, label: str, work: Callable[[Callable[[int], None]], object]):
    with click.progressbar(length=max(total, 1), label=label, file=sys.stderr) as bar:
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            if count > done:
                bar.update(count - done)
                done = count
        return work(advance)


def describe(result: Backtest) -> str:
    days = result.horizon.total_seconds() / 86_400
    lines = [f"Backtest at {zulu(result.at)}, outcomes over the next {days:g} days",
             f"{result.known:,} customers known then; {result.overall.customers:,} active "
             "(a ticket or a decided deal in the year before) are judged", ""]
    lines += _report("Overall", result.overall)
    for name, report in result.segments.items():
        lines += ["", *_report(f"Segment {name}", report)]
    return "\n".join(lines)


def _report(title: str, report: Report) -> list[str]:
    lines = [f"{title} ({report.customers:,} customers)"]
    for figure in report.figures:
        lines.append(f"  AUC, value predicts {DIRECTION[figure.name]:<14} "
                     f"{fmt_auc(figure.auc):>6}  ({figure.positives:,} {DIRECTION[figure.name]}, "
                     f"{figure.negatives:,} not)")
    rho = "n/a" if report.spearman_future_spend is None else \
        f"{report.spearman_future_spend:+.3f}"
    lines.append(f"  Spearman, value with future spend       {rho:>6}")
    if report.deciles:
        lines.append("  decile (highest value first)  customers  value range     leaving  "
                     "lift  bad rating  mean future spend")
        for d in report.deciles:
            lift = "n/a" if d.leaving_lift is None else f"{d.leaving_lift:.2f}"
            lines.append(f"  {d.decile:>6}  {d.customers:>25,}  {d.low:+6.1f}..{d.high:+6.1f}"
                         f"  {d.leaving_share:7.1%}  {lift:>4}  {d.bad_rating_share:10.1%}"
                         f"  {d.mean_future_spend:17,.2f}")
    lines += [f"  ! {warning}" for warning in report.warnings]
    return lines
