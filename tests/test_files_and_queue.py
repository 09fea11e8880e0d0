"""The app's own files are its owner's alone, the queue stores JSON rather than pickles, and a
short secret key stops the app at start-up."""

import pickle
import stat

import pytest
from huey.registry import Message
from sqlalchemy import text

from plugin.config import ConfigError, load
from plugin.service_layer.jobs import JsonSerializer
from plugin.storage.migrations import upgrade
from plugin.storage.schema import connect


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_store_and_queue_are_created_0600(make_app, tmp_path):
    app = make_app()
    app.extensions["queue"].tag_ticket("https://acme.zendesk.com", 5, 7, "inv-1")
    for name in ("app.db", "queue.db"):
        assert mode(tmp_path / name) == 0o600, name
    for extra in tmp_path.glob("*.db-*"):  # WAL and shared-memory files
        assert mode(extra) == 0o600, extra.name


def test_an_existing_world_readable_store_is_narrowed(tmp_path):
    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    upgrade(f"sqlite:///{path}")
    connect(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o600


def test_queued_jobs_are_json_and_pickles_are_not_read(make_app, tmp_path):
    app = make_app()
    queue = app.extensions["queue"]
    queue.tag_ticket("https://acme.zendesk.com", 5, 7, "inv-1")
    engine = connect(f"sqlite:///{tmp_path / 'queue.db'}")
    with engine.connect() as conn:
        (stored,) = conn.execute(text("SELECT data FROM task")).scalars().all()
    engine.dispose()
    assert stored.startswith(b'{"$message":')
    task = queue.dequeue()
    assert task.args == ("https://acme.zendesk.com", 5, 7, "inv-1")

    class Boom:
        def __reduce__(self):
            return (print, ("ran",))

    with pytest.raises(ValueError):
        JsonSerializer().deserialize(pickle.dumps(Boom()))


def test_a_message_round_trips_with_its_times():
    from datetime import UTC, datetime
    message = Message("id-1", "tag_ticket", datetime(2025, 1, 2, 3, 4, tzinfo=UTC), 8, 5,
                      None, ("acct", 1, 2), {"invocation": "x"})
    serializer = JsonSerializer()
    assert serializer.deserialize(serializer.serialize(message)) == message
    with pytest.raises(TypeError):
        serializer.serialize(Message("id-2", "t", None, 0, 0, None, (object(),), {}))


@pytest.mark.parametrize("key", ["short", "x" * 31, "é" * 15])
def test_a_short_secret_key_stops_the_app(monkeypatch, tmp_path, key):
    monkeypatch.setenv("CUSTOMER_VALUE_INSTANCE", str(tmp_path))
    monkeypatch.setenv("CUSTOMER_VALUE_SECRET_KEY", key)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load()


def test_a_long_enough_secret_key_starts(monkeypatch, tmp_path):
    monkeypatch.setenv("CUSTOMER_VALUE_INSTANCE", str(tmp_path))
    monkeypatch.setenv("CUSTOMER_VALUE_SECRET_KEY", "x" * 32)
    assert load()["SECRET_KEY"] == "x" * 32
