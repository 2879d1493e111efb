"""KeyInfo, lifecycle transitions (NIST SP 800-57 Pt 1 Rev 5 §7), jurisdictions, key ids."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.keys.keys_helpers import T0, info

from rsrp.errors import KeyStoreError
from rsrp.keys import InvalidTransitionError, KeyInfo, KeyNotUsableError, KeyState, Purpose
from rsrp.keys._model import check_jurisdiction, check_key_id

S = KeyState
# Written out from SP 800-57 Part 1 Rev. 5 figure 5, independently of TRANSITIONS.
ALLOWED = {
    (S.PRE_ACTIVATION, S.ACTIVE),
    (S.PRE_ACTIVATION, S.COMPROMISED),
    (S.PRE_ACTIVATION, S.DESTROYED),
    (S.ACTIVE, S.SUSPENDED),
    (S.ACTIVE, S.DEACTIVATED),
    (S.ACTIVE, S.COMPROMISED),
    (S.SUSPENDED, S.ACTIVE),
    (S.SUSPENDED, S.DEACTIVATED),
    (S.SUSPENDED, S.COMPROMISED),
    (S.DEACTIVATED, S.COMPROMISED),
    (S.DEACTIVATED, S.DESTROYED),
    (S.COMPROMISED, S.DESTROYED),
}


@pytest.mark.parametrize(
    ("old", "new"), list(itertools.product(KeyState, KeyState)), ids=lambda s: s.value
)
def test_transition_table(old: KeyState, new: KeyState) -> None:
    k = info(state=old)
    if (old, new) in ALLOWED:
        moved = k.transition(new, T0 + timedelta(seconds=1))
        assert moved.state is new and moved.state_changed_at == T0 + timedelta(seconds=1)
    else:
        with pytest.raises(InvalidTransitionError, match=f"{old.value} -> {new.value}"):
            k.transition(new, T0)


@pytest.mark.parametrize("state", [s for s in KeyState if s is not KeyState.ACTIVE])
def test_only_active_keys_are_usable(state: KeyState) -> None:
    with pytest.raises(KeyNotUsableError, match=state.value):
        info(state=state).check_usable(T0 + timedelta(days=1))


def test_validity_window_is_half_open() -> None:
    k = info()
    k.check_usable(T0)
    with pytest.raises(KeyNotUsableError, match="validity window"):
        k.check_usable(T0 - timedelta(microseconds=1))
    with pytest.raises(KeyNotUsableError, match="validity window"):
        k.check_usable(T0 + timedelta(days=30))


@pytest.mark.parametrize("code", ["FR", "DE", "SN", "eu-west", "ecowas"])
def test_jurisdiction_accepts_iso_and_regions(code: str) -> None:
    assert check_jurisdiction(code) == code


@pytest.mark.parametrize("code", ["", "fr", "XX", "UK", "FRA", "eu", "EU-WEST", "a b", "FR\n"])
def test_jurisdiction_rejects(code: str) -> None:
    with pytest.raises(KeyStoreError, match="invalid jurisdiction"):
        check_jurisdiction(code)


@pytest.mark.parametrize("kid", ["", ".hidden", "../etc", "a/b", "a\\b", "x" * 129, "a b", "é"])
def test_key_id_rejects_path_tricks(kid: str) -> None:
    with pytest.raises(KeyStoreError, match="invalid key id"):
        check_key_id(kid)


def test_purpose_must_fit_algorithm() -> None:
    with pytest.raises(KeyStoreError, match="does not fit"):
        info(algorithm="x-wing")
    with pytest.raises(KeyStoreError, match="does not fit"):
        info(purpose=Purpose.DATA_ENCRYPTION)
    assert info(algorithm="x-wing", purpose=Purpose.DATA_ENCRYPTION).is_kem


def test_empty_validity_window_refused() -> None:
    with pytest.raises(KeyStoreError, match="empty"):
        info(not_after=T0)


def test_json_round_trip() -> None:
    k = info(test=True, rotated_from="fr-old", not_after=None)
    assert KeyInfo.from_json(k.to_json()) == k


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("state"),
        lambda d: d.update(extra=1),
        lambda d: d.update(test="true"),
        lambda d: d.update(state="retired"),
        lambda d: d.update(not_before="2026-01-01 00:00:00"),
        lambda d: d.update(not_before="2026-01-01T00:00:00"),
        lambda d: d.update(jurisdiction="ZZ"),
        lambda d: d.update(key_id=5),
    ],
    ids=[
        "missing",
        "extra",
        "bool-as-str",
        "bad-state",
        "space-time",
        "naive-time",
        "bad-jur",
        "int-id",
    ],
)
def test_from_json_rejects(mutate: Any) -> None:
    d = info().to_json()
    mutate(d)
    with pytest.raises(KeyStoreError):
        KeyInfo.from_json(d)


@given(st.dictionaries(st.text(max_size=12), st.one_of(st.none(), st.text(), st.integers())))
def test_from_json_hostile_input_only_raises_keystore_errors(d: dict[str, object]) -> None:
    with contextlib.suppress(KeyStoreError):
        KeyInfo.from_json(d)


def test_keyinfo_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        info().state = KeyState.DESTROYED  # type: ignore[misc]
