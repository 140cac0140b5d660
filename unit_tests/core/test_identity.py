"""One identity per text: the normaliser every matching key goes through, and what counts as a change."""

from __future__ import annotations

import unicodedata

import pytest

from holded_core.identity import identity, nfc, same_value

COMPOSED = "José Pérez"  # é as U+00E9
DECOMPOSED = unicodedata.normalize("NFD", COMPOSED)  # e followed by U+0301


def test_given_case_and_spaces_when_normalised_then_one_key():
    assert identity("  Ana.Prueba@Example.COM ") == identity("ana.prueba@example.com") == "ana.prueba@example.com"
    assert identity("ERP-0042") == identity(" erp-0042\t") == "erp-0042"


def test_given_composed_and_decomposed_accents_when_normalised_then_one_key():
    assert DECOMPOSED != COMPOSED
    assert identity(DECOMPOSED) == identity(COMPOSED) == "josé pérez"
    assert unicodedata.is_normalized("NFC", identity(DECOMPOSED))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("STRASSE", "straße"),  # case folding, not lower(): ß folds to ss
        ("\u212bngstr\u00f6m", "\u00c5ngstr\u00f6m"),  # ANGSTROM SIGN and A WITH RING: one letter
        ("ÑANDÚ", "n\u0303andu\u0301"),  # upper-case precomposed vs lower-case decomposed
    ],
)
def test_given_canonically_caseless_equal_texts_then_one_key(one, other):
    assert identity(one) == identity(other)


def test_given_no_text_then_no_key():
    assert identity(None) is None and identity("") is None and identity("   ") is None
    assert identity(42) == "42"  # a numeric key is matched as its text


def test_given_a_body_when_made_nfc_then_every_text_is_composed():
    body = {"name": DECOMPOSED, "items": [{"name": DECOMPOSED, "units": 2}], DECOMPOSED: True, "n": 1.5}
    assert nfc(body) == {"name": COMPOSED, "items": [{"name": COMPOSED, "units": 2}], COMPOSED: True, "n": 1.5}


def test_given_only_a_unicode_form_difference_then_no_change_but_a_case_difference_is_one():
    assert same_value(COMPOSED, DECOMPOSED)
    assert same_value({"Sector": DECOMPOSED}, {"Sector": COMPOSED})
    assert not same_value("José pérez", COMPOSED)  # a name's case is the user's to change
    assert not same_value("Ana.Prueba@Example.COM", "ana.prueba@example.com")  # so is an e-mail's
    assert same_value(None, None) and not same_value("x", None)
