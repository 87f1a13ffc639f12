"""Verifying SMF 2.0 (SHA-1) and SMF 2.1 (bcrypt) password hashes the way PHP computed them."""

from __future__ import annotations

import hashlib

import bcrypt
import pytest

from forum.importers.smf_passwords import (
    smf_scheme,
    un_htmlspecialchars,
    verify_smf_password,
)

# PHP's password_hash("jo bloggs" . "Correct horse 7", PASSWORD_BCRYPT), made once with
# bcrypt.hashpw(b"jo bloggs" + b"Correct horse 7", gensalt(4)) and "$2b$" rewritten as "$2y$".
LITERAL_2Y = "$2y$04$oQUXz4gqV8op8CqyKQFE3emGde5v6g5CsZzZW73Pp.T5KCFqjZMki"

_ASCII_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


def php_strtolower(value: str, charset: str = "utf-8") -> bytes:
    """PHP 8's strtolower(): bytes in, only A-Z changed."""
    return value.encode(charset).translate(_ASCII_LOWER)


def sha1_hex(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()  # noqa: S324 - SMF 2.0's legacy scheme


def smf20_hash(member_name: str, password: str, charset: str = "utf-8") -> str:
    """sha1(strtolower($member_name) . $password) as SMF 2.0 stored it."""
    return sha1_hex(php_strtolower(member_name, charset) + password.encode(charset))


def smf21_hash(lowered_name: str, password: str) -> str:
    """password_hash($smcFunc['strtolower']($name) . $password, PASSWORD_BCRYPT)."""
    secret = (lowered_name + password).encode()[:72]
    return bcrypt.hashpw(secret, bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$", 1)


# -- recognising the scheme -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "scheme"),
    [
        (smf20_hash("Jo Bloggs", "pw"), "smf20-sha1"),
        (smf20_hash("Jo Bloggs", "pw").upper(), "smf20-sha1"),
        (LITERAL_2Y, "smf21-bcrypt"),
        (LITERAL_2Y.replace("$2y$", "$2a$"), "smf21-bcrypt"),
        (LITERAL_2Y.replace("$2y$", "$2b$"), "smf21-bcrypt"),
        (f"  {LITERAL_2Y}\n", "smf21-bcrypt"),
        (LITERAL_2Y.replace("$2y$", "$2x$"), None),  # the broken pre-2011 variant
        (LITERAL_2Y[:-1], None),
        ("$2y$99$" + LITERAL_2Y[7:], None),
        ("5f4dcc3b5aa765d61d8327deb882cf99", None),  # an MD5: not an SMF scheme
        ("z" * 40, None),
        ("", None),
        ("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", None),
    ],
)
def test_scheme_is_detected_from_the_stored_value(stored: str, scheme: str | None) -> None:
    assert smf_scheme(stored) == scheme


def test_non_string_stored_value_has_no_scheme() -> None:
    assert smf_scheme(None) is None  # type: ignore[arg-type]
    assert smf_scheme(b"$2y$04$abc") is None  # type: ignore[arg-type]


# -- SMF 2.0: sha1(strtolower(member_name) . password) -----------------------------------------


def test_smf20_sha1_hash_verifies() -> None:
    stored = smf20_hash("Jo Bloggs", "Correct horse 7")
    assert verify_smf_password(stored, "Jo Bloggs", "Correct horse 7")
    assert verify_smf_password(stored.upper(), "Jo Bloggs", "Correct horse 7")


def test_smf20_sha1_rejects_wrong_password_and_wrong_member() -> None:
    stored = smf20_hash("Jo Bloggs", "Correct horse 7")
    assert not verify_smf_password(stored, "Jo Bloggs", "correct horse 7")
    assert not verify_smf_password(stored, "Jo Bloggs", "Correct horse 7 ")
    assert not verify_smf_password(stored, "Jo Blogs", "Correct horse 7")
    assert not verify_smf_password(stored, "Jo Bloggs", "")


def test_member_name_case_does_not_matter_because_it_is_lowered() -> None:
    stored = smf20_hash("Jo Bloggs", "pw123")
    assert verify_smf_password(stored, "JO BLOGGS", "pw123")
    assert verify_smf_password(stored, "jo bloggs", "pw123")


def test_smf20_lowercases_ascii_only_like_php_strtolower() -> None:
    # PHP's strtolower leaves the UTF-8 bytes of "É" alone, so SMF hashed "Élodie" as "Élodie".
    stored = smf20_hash("Élodie", "s3cret")
    assert stored == sha1_hex("Élodie".encode() + b"s3cret")
    assert verify_smf_password(stored, "Élodie", "s3cret")
    # ...and a hash of the fully lower-cased name is not what SMF 2.0 would have written.
    unicode_lowered = sha1_hex("élodie".encode() + b"s3cret")
    assert not verify_smf_password(unicode_lowered, "Élodie", "s3cret")


def test_smf20_accepts_windows_1252_locale_folding_as_a_fallback() -> None:
    # A Latin-1 forum on a server whose C locale folded high bytes: "Zoë" -> b"zo\xeb".
    folded = sha1_hex(b"zo\xeb" + b"pw")
    assert verify_smf_password(folded, "ZOË", "pw", charset="iso-8859-1")


def test_non_utf8_forum_hashes_the_bytes_of_its_own_charset() -> None:
    stored = smf20_hash("Zoë", "crème brûlée", charset="iso-8859-1")
    assert verify_smf_password(stored, "Zoë", "crème brûlée", charset="iso-8859-1")
    assert not verify_smf_password(stored, "Zoë", "crème brûlée")  # as UTF-8: other bytes


def test_characters_outside_the_forum_charset_arrive_as_numeric_references() -> None:
    # Browsers submit "Ω" on an ISO-8859-1 page as "&#937;"; SMF hashed exactly that.
    stored = sha1_hex(b"ann" + b"pass&#937;")
    assert verify_smf_password(stored, "Ann", "passΩ", charset="iso-8859-1")


def test_typed_password_goes_through_un_htmlspecialchars_as_in_login2() -> None:
    stored = smf20_hash("Sam", "fish & chips <3")
    assert verify_smf_password(stored, "Sam", "fish & chips <3")
    assert verify_smf_password(stored, "Sam", "fish &amp; chips &lt;3")


@pytest.mark.parametrize(
    ("typed", "decoded"),
    [
        ("&amp;&quot;&#039;&#39;&lt;&gt;&nbsp;", "&\"''<> "),
        ("&amp;lt;", "&lt;"),  # one pass, like PHP's strtr()
        ("&#8364; &copy;", "&#8364; &copy;"),  # only SMF's short list is decoded
        ("plain", "plain"),
    ],
)
def test_un_htmlspecialchars(typed: str, decoded: str) -> None:
    assert un_htmlspecialchars(typed) == decoded


# -- SMF 2.1: password_hash($smcFunc['strtolower']($name) . $password, PASSWORD_BCRYPT) -------


def test_literal_php_2y_hash_verifies_with_python_bcrypt() -> None:
    assert smf_scheme(LITERAL_2Y) == "smf21-bcrypt"
    assert verify_smf_password(LITERAL_2Y, "Jo Bloggs", "Correct horse 7")
    assert verify_smf_password(LITERAL_2Y, "jo bloggs", "Correct horse 7")
    assert not verify_smf_password(LITERAL_2Y, "Jo Bloggs", "Correct horse 8")
    assert not verify_smf_password(LITERAL_2Y, "Jo Blogs", "Correct horse 7")


def test_2a_and_2b_prefixes_verify_too() -> None:
    for prefix in ("$2a$", "$2b$"):
        stored = prefix + LITERAL_2Y[4:]
        assert verify_smf_password(stored, "Jo Bloggs", "Correct horse 7")


def test_smf21_lowercases_with_mb_strtolower_on_utf8_forums() -> None:
    stored = smf21_hash("élodie", "Tinnitus!")
    assert verify_smf_password(stored, "Élodie", "Tinnitus!")
    assert not verify_smf_password(stored, "Élodie", "tinnitus!")


@pytest.mark.parametrize("lowered", ["οδυσσέας", "οδυσσέασ"])
def test_greek_final_sigma_either_way_php_lowered_it(lowered: str) -> None:
    # PHP >= 8.3 (and SMF's own utf8_strtolower) end the word with a final sigma, U+03C2;
    # older mb_strtolower kept the ordinary one, U+03C3.
    assert verify_smf_password(smf21_hash(lowered, "pw"), "ΟΔΥΣΣΈΑΣ", "pw")


def test_smf21_on_a_non_utf8_forum_used_byte_strtolower() -> None:
    secret = php_strtolower("ÉLODIE", "iso-8859-1") + b"pw"
    stored = bcrypt.hashpw(secret, bcrypt.gensalt(4)).decode().replace("$2b$", "$2y$")
    assert verify_smf_password(stored, "ÉLODIE", "pw", charset="iso-8859-1")


def test_smf21_password_goes_through_un_htmlspecialchars() -> None:
    stored = smf21_hash("kim", "a&b")
    assert verify_smf_password(stored, "Kim", "a&amp;b")


def test_bcrypt_reads_only_72_bytes_like_php() -> None:
    name = "a member with a rather long login name"
    password = "x" * 40 + "-tail that bcrypt never sees"
    stored = smf21_hash(name, password)  # PHP silently truncates at 72 bytes
    assert verify_smf_password(stored, name, password)
    assert verify_smf_password(stored, name, "x" * 40 + "-something else entirely")


def test_nul_byte_and_odd_input_do_not_raise() -> None:
    assert not verify_smf_password(LITERAL_2Y, "Jo Bloggs", "Correct\x00horse 7")
    assert not verify_smf_password(smf20_hash("Jo", "a"), "Jo", "a\x00")
    assert not verify_smf_password("", "Jo Bloggs", "Correct horse 7")
    assert not verify_smf_password("not a hash", "Jo Bloggs", "Correct horse 7")
    assert not verify_smf_password(None, "Jo", "pw")  # type: ignore[arg-type]
    assert not verify_smf_password(LITERAL_2Y, None, "pw")  # type: ignore[arg-type]
    assert not verify_smf_password(LITERAL_2Y, "Jo Bloggs", None)  # type: ignore[arg-type]
    assert not verify_smf_password(LITERAL_2Y, "Jo \ud800", "pw")  # lone surrogate
    # Right shape, impossible salt: bcrypt refuses it, we answer False.
    assert not verify_smf_password("$2y$04$" + "." * 53, "Jo", "pw")
