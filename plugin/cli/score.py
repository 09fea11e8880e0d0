"""`customer-value score` and `summary`: one customer's assessment, or a sample account's, as
an agent would read it (or as the JSON contract with --json)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TypeVar

import click

from integrations.errors import IntegrationError, NotFound
from integrations.files.crm import FolderCrm, load_crm
from integrations.files.dataset import Dataset, DatasetError, load
from integrations.zendesk import ZendeskConfig
from plugin.cli.base import BAR_WIDTH, Timestamp, account_target, fail, main, read_json_file
from plugin.core.assessment import Assessment, assess
from plugin.core.domain import CustomerHistory
from plugin.core.model import account_cutoffs
from plugin.core.norms import account_norms
from plugin.core.settings import Settings, SettingsError
from plugin.core.spend import with_contacts
from plugin.core.times import zulu
from plugin.demo.generator import generate
from plugin.service_layer.services import Services
from plugin.storage.vault import VaultError
from plugin.web.contract import to_json


@main.command("score")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Dataset folder in Zendesk's JSON envelopes (see docs/dataset.md). "
                   "Without it: the history store (see `sync`) plus a live refresh from Zendesk.")
@click.option("--user", "user_id", type=click.IntRange(min=1), required=True,
              help="Zendesk id of the requester.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON object of the contract.")
@click.option("--now", type=Timestamp(), default=None,
              help="Score as of this moment (ISO 8601 with a zone). Default: the current time.")
@click.option("--ticket", "ticket_id", type=click.IntRange(min=1), default=None,
              help="The ticket being worked on (for channel and experience suggestions).")
@click.option("--settings", "settings_file", type=click.Path(path_type=Path), default=None,
              help="Settings as JSON (any subset of the defaults).")
@click.option("--gestures-used", type=click.IntRange(min=0), default=0,
              help="Surprise-and-delight gestures already given this month.")
@click.option("--skip-invalid", is_flag=True,
              help="Leave out invalid records (reported as warnings) instead of stopping.")
@click.option("--subdomain", default=None,
              help="Score in the account installed under this subdomain instead of the "
                   "ZENDESK_* one (not with --data).")
def score_command(data_dir: Path | None, user_id: int, as_json: bool, now: datetime | None,
                  ticket_id: int | None, settings_file: Path | None, gestures_used: int,
                  skip_invalid: bool, subdomain: str | None) -> None:
    """Score one customer, from a dataset folder or from Zendesk."""
    now = now or datetime.now(UTC)
    settings = read_settings(settings_file)
    if data_dir is not None and subdomain is not None:
        fail("--subdomain scores from an installed account; --data from a folder: not both")
    if data_dir is None:
        history, population, settings, sampled = online_history(
            user_id, settings if settings_file is not None else None, subdomain)
    else:
        dataset = read_dataset(data_dir, settings, skip_invalid)
        try:
            history = dataset.history(user_id)
        except KeyError:
            fail(f"user {user_id} is not in {data_dir / 'users.json'} "
                 f"({len(dataset.profiles)} users; for example {_examples(dataset)})")
        crm = read_crm(data_dir, settings)

        def population() -> Iterable[CustomerHistory]:
            return (with_contacts(h, crm, settings) for h in dataset.histories())

        history = with_contacts(history, crm, settings)
        sampled = population
    norms = account_norms(sampled(), settings, now)
    cutoffs = account_cutoffs(population(), settings, now, norms)
    result = assess(history, settings, now, cutoffs=cutoffs, norms=norms, ticket_id=ticket_id,
                    gestures_used=gestures_used)
    if as_json:
        click.echo(json.dumps(to_json(result), ensure_ascii=False, indent=2))
    else:
        click.echo(describe(result))


@main.command("summary")
@click.option("--customers", type=click.IntRange(min=10, max=100_000), default=500,
              show_default=True, help="Size of the generated sample account.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Where to keep the sample dataset. Default: a temporary folder.")
def summary_command(customers: int, out: Path | None) -> None:
    """Generate a sample account and show its customers' values, tiers and suggestions."""
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="customer-value-demo-") as scratch:
        folder = out or Path(scratch)
        click.echo(f"Generating a sample account of {customers} customers in {folder} ...")
        generate(folder, customers, seed=7, now=now)
        settings = Settings()
        dataset = read_dataset(folder, settings, skip_invalid=False)
        norms = account_norms(dataset.histories(), settings, now)
        results = [assess(history, settings, now, norms=norms, trend_points=1)
                   for history in dataset.histories()]
    click.echo(summarise(results))


def summarise(results: list[Assessment]) -> str:
    """An account at a glance: tiers, the spread of values, and who stands out."""
    ranked = sorted(results, key=lambda r: r.value.value, reverse=True)
    lines = ["", "Customers by tier"]
    for tier in ("high", "medium", "low"):
        count = sum(1 for r in results if r.value.tier == tier)
        lines.append(f"  {tier:<7} {count:5d}  {'#' * round(40 * count / len(results))}")
    lines.append("\nValues (bins of 10)")
    for low in range(-100, 100, 10):
        count = sum(1 for r in results if low <= r.value.value < low + 10)
        if count:
            lines.append(f"  {low:+4d}..{low + 10:+4d} {count:5d}  "
                         f"{'#' * max(1, round(40 * count / len(results)))}")
    for title, group in (("Highest value", ranked[:3]), ("Lowest value", ranked[-3:])):
        lines.append(f"\n{title}")
        lines += [f"  {r.value.value:+6.1f}  {r.value.name} (user {r.value.user_id})"
                  for r in group]
    example = next((r for r in ranked if r.value.measures.tickets >= 3), ranked[0])
    lines.append("\n" + "-" * 72 + "\n" + describe(example))
    return "\n".join(lines)


def read_settings(path: Path | None) -> Settings:
    if path is None:
        return Settings()
    data = read_json_file(path, f"settings file {path}")
    try:
        return Settings.from_dict(data)
    except SettingsError as error:
        lines = "\n".join(f"  - {field}: {message}" for field, message in error.errors.items())
        fail(f"settings {path} are invalid:\n{lines}")


class _Read(Protocol):
    @property
    def warnings(self) -> list[str]: ...


FolderRead = TypeVar("FolderRead", bound=_Read)


def read_crm(folder: Path, settings: Settings) -> FolderCrm | None:
    """The dataset's files of the CRM the settings take spend from (None for fields)."""
    try:
        return load_crm(folder, settings.spend_source)
    except DatasetError as error:
        fail(f"{folder}: {error}")


def read_dataset(folder: Path, settings: Settings, skip_invalid: bool) -> Dataset:
    return read_folder(folder, skip_invalid, lambda: load(
        folder, spend_field=settings.spend_field, skip_invalid=skip_invalid))


def read_folder(folder: Path, skip_invalid: bool, read: Callable[[], FolderRead]) -> FolderRead:
    """`read()` of a dataset folder (read whole or staged), ending the command with the
    folder's problem where it has one, and warning of the records it left out."""
    try:
        dataset = read()
    except DatasetError as error:
        hint = "" if skip_invalid else "\n(--skip-invalid leaves bad records out instead)"
        fail(f"{folder}: {error}{hint}")
    if dataset.warnings:
        click.echo(f"warning: {len(dataset.warnings)} record(s) left out or not linked; "
                   f"first: {dataset.warnings[0]}", err=True)
    return dataset


def online_history(user_id: int, settings: Settings | None, subdomain: str | None = None
                   ) -> tuple[CustomerHistory, Callable[[], Iterable[CustomerHistory]], Settings,
                              Callable[[], Iterable[CustomerHistory]]]:
    """The customer's history from the store plus a live refresh, the account's histories, the
    settings used (`settings` if given with `--settings`, else the account's saved ones, as the
    sidebar uses them) and the sample the account's norms are read from."""
    services, config = account_target("web", subdomain)
    store = services.store(config.base_url)
    if settings is None:
        settings = services.versions(store).current()
    services.client(config).spend_field = settings.spend_field
    try:
        history = services.history(config, user_id, settings, mode="background",
                                   secrets=saved_secrets(services, config))
    except NotFound:
        fail(f"user {user_id} is not in this Zendesk account")
    except IntegrationError as error:
        fail(str(error))
    finally:
        services.close()
    return (history, lambda: store.histories(settings), settings,
            lambda: store.sample(settings))


def saved_secrets(services: Services, config: ZendeskConfig):
    """The account's secrets saved from the settings page (the CRM credentials), read with
    the app's key; one that cannot be opened with it is skipped with a warning (the
    environment's credentials then stand in)."""
    store = services.store(config.base_url)

    def read(name: str) -> str | None:
        try:
            return services.secret(store, name)
        except VaultError:
            click.echo(f"warning: the saved {name} cannot be decrypted with this app's key; "
                       "using the environment's instead", err=True)
            return None
    return read


def describe(result: Assessment) -> str:
    """The assessment as an agent would read it in a terminal."""
    v = result.value
    lines = [f"{v.name} (user {v.user_id}): value {v.value:+.1f}, {v.tier} tier"
             + ("  [little data]" if v.little_data else ""),
             f"computed at {zulu(v.computed_at)} with settings version "
             f"{v.settings_version}" + (f", segment {v.segment}" if v.segment else "")]
    for notice in v.notices:
        lines.append(f"! {notice}")
    for title, signals, total in (("Benefits", v.benefits, v.total_benefits),
                                  ("Costs", v.costs, v.total_costs)):
        lines.append(f"\n{title} ({total:.1f})")
        for s in signals:
            filled = round(BAR_WIDTH * s.points / s.max_points) if s.max_points else 0
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            lines.append(f"  {s.label:<26} {bar} {s.points:5.1f}  {s.evidence}")
    if result.suggestions:
        lines.append("\nSuggestions")
        for s in result.suggestions:
            lines.append(f"  * {s.title}: {s.reason}")
            lines.append(f"      {s.action.type}: {s.action.value}")
    return "\n".join(lines)


def _examples(dataset: Dataset) -> str:
    return ", ".join(str(user_id) for user_id in list(dataset.profiles)[:3]) or "none"
