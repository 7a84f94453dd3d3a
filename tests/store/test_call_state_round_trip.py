"""Every field of a call's state survives the store: a session, and the live call the web
shells keep around it, come back equal after JSON and after a real SQLite store.

The strategies are made from the dataclasses' own fields and type hints, so a field
added to ``Session`` (or to ``LiveCall``) is generated here without touching this file:
if its serialisation forgets it, these tests fail naming it.
"""
from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.model.actions import Speak
from ivr.model.phases import Phase
from ivr.model.plain import evolved, of_plain, to_plain
from ivr.model.session import Reason, Session, Turn
from ivr.store.sqlite import SQLiteStore
from ivr.web.live import _KNOWN, LiveCall

if TYPE_CHECKING:  # a name type checkers see and this module does not
    from decimal import Decimal

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
# Speak is rebuilt leniently from stored data (no audio file: None; no language: en-US),
# so the forms it never takes in a call are not generated
OVERRIDES: dict[type, st.SearchStrategy] = {
    Speak: st.builds(Speak, text, st.none() | text.filter(bool), text.filter(bool), text),
}


def of_hint(hint: Any) -> st.SearchStrategy:
    """A strategy for values of the type ``hint`` as the call's state holds them."""
    if hint in OVERRIDES:
        return OVERRIDES[hint]
    if hint is str:
        return text
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(-10**9, 10**9)
    if hint is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if hint is type(None):
        return st.none()
    if hint is Any:
        return json_values
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return of_dataclass(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(of_hint(a) for a in args))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return st.lists(of_hint(args[0]), max_size=3).map(tuple)
    if origin in (Mapping, dict):
        return st.dictionaries(of_hint(args[0]) if args else text, of_hint(args[1]) if args else json_values,
                               max_size=3)
    raise AssertionError(f"no strategy for the type {hint!r}: teach of_hint() how a call's state holds it")


def of_dataclass(cls: type, **fixed: st.SearchStrategy) -> st.SearchStrategy:
    hints = typing.get_type_hints(cls)
    return st.builds(cls, **{f.name: fixed[f.name] if f.name in fixed else of_hint(hints[f.name])
                             for f in dataclasses.fields(cls) if f.init})


sessions = of_dataclass(Session)
live_calls = of_dataclass(LiveCall, session=sessions,
                          other=st.dictionaries(text.filter(lambda k: k not in _KNOWN), json_values, max_size=3))


def through_json(data: dict) -> dict:
    return json.loads(json.dumps(data, ensure_ascii=False, allow_nan=False))


def reference_dict(session: Session) -> dict:
    """What the session's dict always was: ``dataclasses.asdict`` with the phase's word."""
    data = dataclasses.asdict(session)
    data["phase"] = session.phase.value
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions)
def test_every_session_field_round_trips_through_json(session):
    data = session.to_dict()
    assert set(data) == {f.name for f in dataclasses.fields(Session)}
    assert data == reference_dict(session)
    assert type(data["phase"]) is str
    again = Session.from_dict(through_json(data))
    assert again == session
    for name in ("turns", "reasons"):
        assert all(type(item) is {"turns": Turn, "reasons": Reason}[name] for item in getattr(again, name))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions)
def test_the_session_dict_is_a_copy(session):
    data = session.to_dict()
    for value in data.values():
        if isinstance(value, dict):
            value["added by a reader"] = 1
    assert session.to_dict() == reference_dict(session)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(live_calls)
def test_every_live_call_field_round_trips_through_json(live):
    again = LiveCall.from_stored(through_json(live.to_stored()))
    assert again == live


def test_a_session_from_a_newer_host_keeps_what_this_one_knows():
    session = Session(call_sid="CA1", flow="f", flow_version="1", started_at="2026-03-04T15:00:00+00:00",
                      turns=(Turn(1.0, "main", "keys", "1"),), path=("main",))
    data = session.to_dict()
    data["a_field_of_a_newer_version"] = {"x": 1}
    data["turns"][0]["a_newer_turn_field"] = 2
    assert Session.from_dict(through_json(data)) == session


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(live=live_calls)
def test_a_live_call_comes_back_equal_from_the_sqlite_store(tmp_path, live):
    with SQLiteStore(str(tmp_path / "calls.sqlite3")) as store:
        sid = f"CA{uuid.uuid4().hex}"
        store.save(sid, live.to_stored(), None)
        assert LiveCall.load(store, sid) == live


@st.composite
def changes(draw) -> tuple[Session, dict]:
    """A session and new values for some of its fields."""
    session = draw(sessions)
    hints = typing.get_type_hints(Session)
    names = draw(st.lists(st.sampled_from([f.name for f in dataclasses.fields(Session)]), max_size=6, unique=True))
    return session, {name: draw(of_hint(hints[name])) for name in names}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes())
def test_evolving_a_session_is_replacing_its_fields(change):
    session, values = change
    new = session.evolve(**values)
    assert new == dataclasses.replace(session, **values)
    assert hash(new) == hash(dataclasses.replace(session, **values)) if _hashable(new) else True
    assert session == Session.from_dict(session.to_dict())  # the original is untouched
    assert new.to_dict() == reference_dict(new)


def _hashable(session: Session) -> bool:
    try:
        hash(session)
    except TypeError:  # a mapping field
        return False
    return True


def test_evolving_a_session_checks_what_replace_checks():
    session = Session(call_sid="CA1", flow="f", flow_version="1", started_at="")
    assert session.evolve(phase="ended").phase is Phase.ENDED
    with pytest.raises(ValueError, match="ringing"):
        session.evolve(phase="ringing")
    with pytest.raises(TypeError, match="no_such_field"):
        session.evolve(no_such_field=1)
    assert evolved(session, {}) == session


@dataclasses.dataclass(frozen=True)
class WithUnresolvableTypes:
    name: str
    amount: Decimal | None = None
    items: tuple[Decimal, ...] = ()


def test_a_field_whose_type_cannot_be_resolved_still_round_trips():
    value = WithUnresolvableTypes("x", None, ({"k": 1}, "two"))
    data = to_plain(value)
    assert data == {"name": "x", "amount": None, "items": ({"k": 1}, "two")}
    assert of_plain(WithUnresolvableTypes, through_json(data)) == value  # the tuple default says: a tuple
