"""The staged reader (a folder read a record at a time, then a customer at a time) gives what
the in-memory reader gives: the same histories in the same order, warnings and problems."""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.files.dataset import DatasetError, load
from integrations.files.envelope import NoList, Unstreamable, records
from integrations.files.staged import staged
from tests.records import TICKET, USER, write


def read_both(folder: Path, **options):
    """(histories, warnings) or the problems, from each reader."""
    found = []
    try:
        dataset = load(folder, **options)
        found.append((list(dataset.histories()), dataset.warnings))
    except DatasetError as error:
        found.append(error.problems)
    try:
        with staged(folder, **options) as dataset:
            found.append((list(dataset.histories()), dataset.warnings))
    except DatasetError as error:
        found.append(error.problems)
    return found


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                               max_size=4),
    max_leaves=12)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(json_values, max_size=6), before=st.dictionaries(
    st.text(max_size=5).filter(lambda k: k != "tickets"), json_values, max_size=3),
    after=st.dictionaries(st.text(max_size=5).filter(lambda k: k != "tickets"), json_values,
                          max_size=3), indent=st.sampled_from([None, 0, 2]),
    chunk=st.integers(1, 64))
def test_the_walk_yields_the_list_json_load_reads(tmp_path, items, before, after, indent,
                                                  chunk):
    path = tmp_path / "tickets.json"
    document = {**before, "tickets": items, **after}
    path.write_text(json.dumps(document, indent=indent, ensure_ascii=indent is None),
                    encoding="utf-8")
    assert list(records(path, "tickets", chunk=chunk)) == json.loads(
        path.read_text(encoding="utf-8"))["tickets"]


@pytest.mark.parametrize(("text", "raised"), [
    ('{"results": []}', NoList), ('{"tickets": {}}', Unstreamable), ("[1, 2]", Unstreamable),
    ('{"tickets": [1, 2', Unstreamable), ('{"tickets": [1 2]}', Unstreamable),
    ('{"tickets": []} {}', Unstreamable),
    ('{"tickets": [], "tickets": []}', Unstreamable)])
def test_the_walk_stops_where_it_cannot_go_on(tmp_path, text, raised):
    path = tmp_path / "tickets.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(raised):
        list(records(path, "tickets", chunk=3))


@pytest.mark.parametrize("files", [
    {"users": None}, {"tickets": "{not json"}, {"tickets": '{"tickets": [{"id": 10}'},
    {"tickets": {"results": []}}, {"tickets": [TICKET]}, {"tickets": "\ufeff" + json.dumps(
        {"tickets": [TICKET]})}, {"users": "{}", "tickets": "{", "ticket_metrics": "[]"},
    {"tickets": {"tickets": [dict(TICKET, created_at=None), "just text"]}},
    {"users": {"users": [dict(USER, tags="vip")]}, "tickets": {"tickets": [dict(
        TICKET, priority="critical")]}},
    {"ticket_metrics": {"ticket_metrics": [{"ticket_id": 10, "replies": -1}]}},
    {"tickets": "\xff"},
], ids=range(11))
def test_broken_or_unusual_files_read_as_the_in_memory_reader_reads_them(tmp_path, files):
    memory, on_disk = read_both(write(tmp_path, **files))
    assert on_disk == memory


def test_a_file_in_utf_16_is_read_whole(tmp_path):
    write(tmp_path)
    (tmp_path / "tickets.json").write_bytes(json.dumps({"tickets": [TICKET]}).encode("utf-16"))
    memory, on_disk = read_both(tmp_path)
    assert len(memory[0][0].tickets) == 1 and on_disk == memory


def rating(ticket_id, score, day):
    return {"id": ticket_id * 7 + day, "ticket_id": ticket_id, "score": score,
            "created_at": f"2024-02-{day:02d}T00:00:00Z"}


def survey(ticket_id, score, day):
    return {"id": f"s{ticket_id}{day}", "subjects": [{"type": "ticket", "id": str(ticket_id)}],
            "answers": [{"type": "rating_scale", "rating": score,
                         "created_at": f"2024-03-{day:02d}T00:00:00Z"}]}


records_of = st.fixed_dictionaries({
    "users": st.lists(st.sampled_from([1, 2, 3, 4]), max_size=6),
    "tickets": st.lists(st.tuples(st.integers(10, 15), st.sampled_from([1, 2, 3, 9]),
                                  st.sampled_from(["closed", "open", "deleted"])), max_size=10),
    "metrics": st.lists(st.tuples(st.integers(9, 15), st.integers(0, 5)), max_size=6),
    "ratings": st.lists(st.tuples(st.integers(9, 15), st.sampled_from(["good", "bad", "offered"]),
                                  st.integers(1, 9)), max_size=6),
    "surveys": st.lists(st.tuples(st.integers(9, 15), st.integers(1, 5), st.integers(1, 9)),
                        max_size=4),
    "invalid": st.booleans()})


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=records_of, skip=st.booleans())
def test_repeated_deleted_and_stray_records_read_as_in_memory(tmp_path, data, skip):
    users = [dict(USER, id=u, name=f"Person {n}", organization_id=7 if u % 2 else None)
             for n, u in enumerate(data["users"])]
    tickets = [dict(TICKET, id=t, requester_id=r, status=s, subject=f"T{n}")
               for n, (t, r, s) in enumerate(data["tickets"])]
    if data["invalid"]:
        tickets.append(dict(TICKET, id=16, created_at="never"))
    for name in ("users", "tickets", "organizations", "ticket_metrics", "satisfaction_ratings",
                 "survey_responses"):
        (tmp_path / f"{name}.json").unlink(missing_ok=True)
    write(tmp_path, users={"users": users}, tickets={"tickets": tickets},
          organizations={"organizations": [{"id": 7, "name": "Acme", "tags": ["smb"]}]},
          ticket_metrics={"ticket_metrics": [{"ticket_id": t, "replies": n}
                                             for t, n in data["metrics"]]},
          satisfaction_ratings={"satisfaction_ratings": [rating(*r) for r in data["ratings"]]},
          survey_responses={"survey_responses": [survey(*s) for s in data["surveys"]]})
    memory, on_disk = read_both(tmp_path, skip_invalid=skip)
    assert on_disk == memory


def test_a_generated_account_reads_the_same_customer_by_customer(tmp_path):
    from datetime import UTC, datetime

    from plugin.demo.generator import generate

    generate(tmp_path, 150, seed=5, now=datetime(2025, 6, 1, tzinfo=UTC))
    memory, on_disk = read_both(tmp_path)
    assert len(memory[0]) == 150 and sum(len(h.tickets) for h in memory[0]) > 500
    assert on_disk == memory
    with staged(tmp_path) as dataset:
        assert len(dataset) == 150
        assert list(dataset.histories()) == list(dataset.histories())


SELL_DEAL = {"id": 5, "contact_id": 80, "value": 120, "currency": "USD", "stage_id": 2}


@pytest.mark.parametrize(("name", "text"), [
    ("sell_deals", {"items": [{"data": SELL_DEAL, "meta": {"type": "deal"}},
                              {"data": {"id": 6}, "meta": {"type": "contact"}},
                              {"data": SELL_DEAL}], "meta": {"count": 3}}),
    ("sell_deals", {"items": [{"data": SELL_DEAL}, {"meta": {"type": "deal"}}]}),
    ("sell_deals", {"items": {}}), ("sell_deals", '{"items": [{"data": {"id": 5}}'),
    ("bitrix_deals", {"result": [{"ID": "1"}, {"ID": "2"}], "total": 2}),
    ("bitrix_deals", {"result": [{"ID": "1"}, 7]}), ("bitrix_deals", {"results": []}),
    ("bitrix_deals", "[]"), ("bitrix_deals", "\ufeff" + json.dumps({"result": [{"ID": "1"}]})),
])
def test_crm_files_read_a_record_at_a_time_as_read_whole(tmp_path, name, text):
    from integrations.files.crm import each_record, read_records

    body = text if isinstance(text, str) else json.dumps(text)
    (tmp_path / f"{name}.json").write_text(body, encoding="utf-8")
    found = []
    for read in (read_records, lambda folder, name: list(each_record(folder, name))):
        try:
            found.append(read(tmp_path, name))
        except DatasetError as error:
            found.append(error.problems)
    assert found[0] == found[1]
