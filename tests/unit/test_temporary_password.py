"""The reset's temporary password: nothing to misread in the mail, and Entra's complexity rule always met."""
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.directory import password_complexity_ok
from portal.workflows.actions import CONFUSABLE, DIGITS, LOWER, SYMBOLS, UPPER, temporary_password


def test_the_alphabet_has_no_confusable_character():
    alphabet = UPPER + LOWER + DIGITS + SYMBOLS
    assert not set(CONFUSABLE) & set(alphabet) and {"0", "O", "o", "1", "l", "I"} <= set(CONFUSABLE)
    assert len(UPPER) == 24 and len(LOWER) == 24 and DIGITS == "23456789"


@settings(max_examples=300, deadline=None)
@given(length=st.integers(min_value=8, max_value=64))
def test_every_password_is_unambiguous_and_complex(length):
    """Any length from Entra's minimum up: the length asked for, four classes, no confusable character."""
    password = temporary_password(length)
    assert len(password) == length and password_complexity_ok(password)
    assert not set(password) & set(CONFUSABLE)
    assert all(any(c in group for c in password) for group in (UPPER, LOWER, DIGITS, SYMBOLS))


def test_the_default_length_stays_16_and_passwords_differ():
    passwords = {temporary_password() for _ in range(2000)}
    assert len(passwords) == 2000 and all(len(p) == 16 and password_complexity_ok(p) for p in passwords)
    assert not set("".join(passwords)) & set(CONFUSABLE)
