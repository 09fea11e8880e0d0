"""The rules of PRODUCT.md, checked as properties over generated histories and settings."""

from dataclasses import replace
from datetime import timedelta

from hypothesis import assume, given
from hypothesis import strategies as st

from plugin.core.domain import CustomerHistory, Satisfaction, Ticket
from plugin.core.model import score
from plugin.core.settings import DEFAULT_WEIGHTS, SIGNALS, Settings
from tests.factories import NOW, days_ago, profile

ages = st.floats(min_value=0, max_value=3000, allow_nan=False)
minutes = st.one_of(st.none(), st.floats(min_value=0, max_value=100_000, allow_nan=False))


@st.composite
def satisfactions(draw, created_age: float):
    scale = draw(st.sampled_from([2, 3, 5]))
    score_ = draw(st.integers(0, 1) if scale == 2 else st.integers(1, scale))
    rated_age = draw(st.floats(min_value=0, max_value=created_age, allow_nan=False))
    comment = draw(st.sampled_from(["", "Thanks!", "Too slow"]))
    # Zendesk's own reading of a survey answer (rating_category), or none (the score's).
    category = draw(st.sampled_from(["", "good", "neutral", "bad"]))
    return Satisfaction(scale=scale, score=score_, rated_at=days_ago(rated_age), comment=comment,
                        category=category)


@st.composite
def tickets(draw, id: int):
    age = draw(ages)
    return Ticket(
        id=id, created_at=days_ago(age),
        status=draw(st.sampled_from(["new", "open", "solved", "closed"])),
        priority=draw(st.sampled_from(["low", "normal", "high", "urgent"])),
        channel=draw(st.sampled_from(["email", "web", "chat", "voice"])),
        tags=tuple(draw(st.lists(st.sampled_from(["billing", "login", "refund"]), max_size=2))),
        satisfaction=draw(st.one_of(st.none(), satisfactions(age))),
        first_reply_minutes=draw(minutes), resolution_minutes=draw(minutes),
        replies=draw(st.one_of(st.none(), st.integers(0, 40))),
        reopens=draw(st.integers(0, 4)),
    )


@st.composite
def histories(draw):
    count = draw(st.integers(0, 25))
    items = tuple(draw(tickets(i + 1)) for i in range(count))
    fields = draw(st.one_of(st.just({}), st.builds(
        lambda amount: {"lifetime_spend": amount},
        st.floats(min_value=0, max_value=1e7, allow_nan=False))))
    return CustomerHistory(
        profile=profile(joined_days_ago=draw(st.floats(min_value=0, max_value=4000)),
                        fields=fields),
        tickets=items)


@st.composite
def model_settings(draw):
    weights = {name: draw(st.floats(min_value=0, max_value=100, allow_nan=False))
               for name in SIGNALS}
    return Settings.from_dict({
        "weights": weights,
        "half_life_days": draw(st.floats(min_value=1, max_value=3650, allow_nan=False)),
    })


def value(history: CustomerHistory, settings: Settings) -> float:
    return score(history, settings, NOW).value


def with_ticket(history: CustomerHistory, index: int, **changes) -> CustomerHistory:
    items = list(history.tickets)
    items[index] = replace(items[index], **changes)
    return replace(history, tickets=tuple(items))


def pick(draw, history: CustomerHistory) -> int:
    assume(history.tickets)
    return draw(st.integers(0, len(history.tickets) - 1))


@given(histories(), model_settings(), st.data())
def test_a_good_rating_never_lowers_the_value(history, settings, data):
    index = pick(data.draw, history)
    ticket = history.tickets[index]
    scale = data.draw(st.sampled_from([2, 5]))
    good = Satisfaction(scale=scale, score=1 if scale == 2 else data.draw(st.integers(4, 5)),
                        rated_at=ticket.created_at,
                        comment=data.draw(st.sampled_from(["", "Great"])))
    unrated = with_ticket(history, index, satisfaction=None)
    rated = with_ticket(history, index, satisfaction=good)
    assert value(rated, settings) >= value(unrated, settings)


@given(histories(), model_settings(), st.data())
def test_a_bad_rating_never_raises_the_value(history, settings, data):
    index = pick(data.draw, history)
    ticket = history.tickets[index]
    scale = data.draw(st.sampled_from([2, 5]))
    bad = Satisfaction(scale=scale, score=0 if scale == 2 else data.draw(st.integers(1, 2)),
                       rated_at=ticket.created_at,
                       comment=data.draw(st.sampled_from(["", "Bad"])))
    unrated = with_ticket(history, index, satisfaction=None)
    rated = with_ticket(history, index, satisfaction=bad)
    assert value(rated, settings) <= value(unrated, settings)


@given(histories(), model_settings(), st.data(), st.integers(1, 5))
def test_a_reopen_never_raises_the_value(history, settings, data, more):
    index = pick(data.draw, history)
    reopened = with_ticket(history, index, reopens=history.tickets[index].reopens + more)
    assert value(reopened, settings) <= value(history, settings)


@given(histories(), model_settings(), st.data(),
       st.floats(min_value=0.5, max_value=50_000, allow_nan=False),
       st.sampled_from(["first_reply_minutes", "resolution_minutes"]))
def test_a_longer_wait_never_raises_the_value(history, settings, data, extra, which):
    index = pick(data.draw, history)
    ticket = history.tickets[index]
    before = getattr(ticket, which)
    assume(before is not None)
    # A resolution that ends after now means the ticket is not solved yet, and its reopens and
    # reply count are not known yet: compare tickets solved by now either way.
    assume(which != "resolution_minutes" or ticket.solved_at is not None
           or ticket.created_at + timedelta(minutes=before + extra) <= NOW)
    longer = with_ticket(history, index, **{which: before + extra})
    assert value(longer, settings) <= value(history, settings)


@given(histories(), model_settings(), st.data(), st.integers(1, 20))
def test_more_back_and_forth_never_raises_the_value(history, settings, data, extra):
    index = pick(data.draw, history)
    before = history.tickets[index].replies
    assume(before is not None)
    assert value(with_ticket(history, index, replies=before + extra), settings) <= value(
        history, settings)


@given(model_settings())
def test_no_data_is_neutral_and_flagged(settings):
    newcomer = CustomerHistory(profile=profile(joined_days_ago=0))
    result = score(newcomer, settings, NOW)
    assert result.value == 0
    assert result.little_data
    assert result.tier == "medium"
    assert all(s.points == 0 for s in result.benefits + result.costs)


@given(histories(), model_settings())
def test_same_input_same_output(history, settings):
    assert score(history, settings, NOW) == score(history, settings, NOW)


@given(histories(), model_settings(), st.randoms())
def test_the_order_of_tickets_does_not_matter(history, settings, rng):
    shuffled = list(history.tickets)
    rng.shuffle(shuffled)
    # Floating-point sums in another order may differ in the last bit, which rounding to one
    # decimal can turn into at most 0.1 per signal.
    assert abs(value(replace(history, tickets=tuple(shuffled)), settings)
               - value(history, settings)) <= 0.1 * len(SIGNALS) + 1e-9


def in_contact(history: CustomerHistory) -> bool:
    return any((NOW - t.created_at).days <= 30 for t in history.tickets)


@given(histories(), st.data(), st.sampled_from(["reopens", "priority", "first_reply_minutes",
                                                 "satisfaction"]))
def test_a_bad_experience_costs_more_on_a_recent_ticket_than_on_an_old_one(history, data,
                                                                           which):
    """Recent events count more than old ones: of two solved tickets, the same bad experience
    on the later one never costs less than on the earlier one."""
    solved = [i for i, t in enumerate(history.tickets)
              if t.resolution_minutes is not None and (NOW - t.created_at).days >= 40
              and t.created_at + timedelta(minutes=t.resolution_minutes) <= NOW]
    assume(len(solved) >= 2)
    a, b = data.draw(st.lists(st.sampled_from(solved), min_size=2, max_size=2, unique=True))
    older, newer = sorted((a, b), key=lambda i: history.tickets[i].created_at)
    assume(history.tickets[older].created_at < history.tickets[newer].created_at)
    bad = {"reopens": 3, "priority": "urgent", "first_reply_minutes": 50_000.0,
           "satisfaction": Satisfaction(scale=2, score=0, rated_at=NOW)}[which]
    plain = {"reopens": 0, "priority": "normal", "first_reply_minutes": 60.0,
             "satisfaction": None}[which]
    base = with_ticket(with_ticket(history, older, **{which: plain}), newer, **{which: plain})
    on_old = value(with_ticket(base, older, **{which: bad}), Settings())
    on_new = value(with_ticket(base, newer, **{which: bad}), Settings())
    assert on_new <= on_old + 0.1


@given(histories(), st.data(), ages, ages, st.booleans())
def test_older_ratings_weigh_less(history, data, age_a, age_b, good):
    index = pick(data.draw, history)
    newer, older = sorted((age_a, age_b))
    unrated = with_ticket(history, index, satisfaction=None)
    base = value(unrated, Settings())

    def effect(age):
        rating = Satisfaction(scale=2, score=int(good), rated_at=days_ago(age))
        return abs(value(with_ticket(unrated, index, satisfaction=rating), Settings()) - base)

    assert effect(older) <= effect(newer)


@given(histories(), st.floats(min_value=0, max_value=1e9, allow_nan=False),
       st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_more_spend_never_lowers_the_value(history, low, high):
    low, high = sorted((low, high))
    poorer = replace(history, profile=replace(history.profile, fields={"lifetime_spend": low}))
    richer = replace(history, profile=replace(history.profile, fields={"lifetime_spend": high}))
    assert value(richer, Settings()) >= value(poorer, Settings())


@given(histories())
def test_events_after_now_are_ignored(history):
    future = Ticket(id=10_000, created_at=NOW + timedelta(days=3), priority="urgent",
                    reopens=3, first_reply_minutes=9999.0)
    assert value(replace(history, tickets=history.tickets + (future,)), Settings()) == value(
        history, Settings())


@given(histories(), model_settings())
def test_value_stays_within_the_weights(history, settings):
    result = score(history, settings, NOW)
    benefits = sum(settings.weights[s.signal] for s in result.benefits)
    costs = sum(settings.weights[s.signal] for s in result.costs)
    assert -costs - 0.1 <= result.value <= benefits + 0.1
    for s in result.benefits + result.costs:
        assert 0 <= s.points <= s.max_points + 0.05


def test_default_weights_bound_the_value_to_a_hundred():
    assert sum(DEFAULT_WEIGHTS[s] for s in DEFAULT_WEIGHTS) == 200


READINGS = ("bad", "neutral", "good")


@given(histories(), model_settings(), st.data())
def test_a_rating_read_better_on_its_own_scale_never_lowers_the_value(history, settings, data):
    rated = [i for i, t in enumerate(history.tickets) if t.satisfaction is not None]
    assume(rated)
    index = data.draw(st.sampled_from(rated))
    rating = history.tickets[index].satisfaction
    lower, higher = sorted(data.draw(st.lists(st.sampled_from(READINGS), min_size=2,
                                              max_size=2, unique=True)), key=READINGS.index)
    worse = with_ticket(history, index, satisfaction=replace(rating, category=lower))
    better = with_ticket(history, index, satisfaction=replace(rating, category=higher))
    assert value(better, settings) >= value(worse, settings) - 1e-9
