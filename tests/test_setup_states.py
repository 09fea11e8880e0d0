"""The set-up's OAuth states: bound to one browser session, good once, for ten minutes, kept
only as hashes (SQLite, then PostgreSQL)."""

from datetime import timedelta

import pytest

from plugin.storage.migrations import upgrade
from plugin.storage.schema import connect
from plugin.storage.setups import STATE_LIFETIME, PendingSetup, SetupStates, StateRefused
from tests.factories import NOW

PENDING = PendingSetup("newco", 808, 5151)


@pytest.fixture
def states(database_url):
    upgrade(database_url)
    engine = connect(database_url)
    yield SetupStates(engine)
    engine.dispose()


def test_a_state_gives_back_its_set_up_once(states):
    states.create("s1", PENDING, session_key="browser-a", now=NOW)
    assert states.take("s1", session_key="browser-a", now=NOW) == PENDING
    with pytest.raises(StateRefused, match="used already"):
        states.take("s1", session_key="browser-a", now=NOW)


@pytest.mark.parametrize(("state", "session", "late", "reason"), [
    ("other", "browser-a", timedelta(0), "not known"),
    ("s1", "browser-b", timedelta(0), "another browser session"),
    ("s1", "browser-a", STATE_LIFETIME + timedelta(seconds=1), "expired"),
])
def test_a_state_is_refused_elsewhere_or_late(states, state, session, late, reason):
    states.create("s1", PENDING, session_key="browser-a", now=NOW)
    with pytest.raises(StateRefused, match=reason):
        states.take(state, session_key=session, now=NOW + late)


def test_only_hashes_are_kept(states):
    states.create("plain-state-value", PENDING, session_key="plain-session", now=NOW)
    with states.engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT state_hash, session_hash FROM setup_states").one()
    assert "plain" not in row[0] + row[1]
