"""Verify passwords against the hashes an SMF forum stored in ``smf_members.passwd``.

Schemes, as read in SMF's own sources:

* **SMF 1.1 / 2.0** — ``Sources/LogInOut.php``, ``Login2()`` (SMF 2.0.x)::

      $sha_passwd = sha1(strtolower($user_settings['member_name'])
                         . un_htmlspecialchars($_POST['passwrd']));

  40 lowercase hex digits.  SMF 2.1 keeps accepting this form for upgraded accounts
  (the "SMF 1.1 to 2.0 style of hashing" branch of ``Login2()``), still with PHP's plain
  ``strtolower``.
* **SMF 2.1** — ``Sources/Subs-Auth.php``, ``hash_password()`` /
  ``hash_verify_password()``::

      password_hash($smcFunc['strtolower']($username) . $password, PASSWORD_BCRYPT, ...)
      password_verify($smcFunc['strtolower']($username) . $password, $hash)

  called from ``Login2()`` as ``hash_verify_password($user_settings['member_name'],
  un_htmlspecialchars($_POST['passwrd']), $user_settings['passwd'])``.  PHP writes
  ``$2y$`` bcrypt hashes.

What that means here:

* ``member_name`` is the **login name** column ``member_name`` exactly as stored — not
  the display name ``real_name`` and not the e-mail address, even when the member
  logged in with one of those.
* PHP ``strtolower`` works on bytes and, in the C/UTF-8 locales SMF normally runs under
  (and always since PHP 8.2), only changes ASCII ``A`` to ``Z``; the UTF-8 bytes of
  ``É`` are left alone.  So the SHA-1 scheme lower-cases ASCII only; as a fallback we
  also try the Windows-1252 byte folding some servers' locales applied (SMF 2.1's
  ``Load.php`` probes for it as ``iso_case_folding``).
* ``$smcFunc['strtolower']`` (``Sources/Load.php``, ``reloadSettings()``) is
  ``mb_strtolower($string, 'UTF-8')`` on UTF-8 forums (2.1.3+: ``utf8_strtolower()`` in
  ``Sources/Subs-Charset.php``, "equivalent to mb_strtolower") and plain ``strtolower``
  otherwise.  For bcrypt we therefore try full Unicode lower-casing, then (only if it
  differs) ASCII-only, and the pre-PHP-8.3 form without the final-sigma rule.
* The typed password goes through SMF's ``un_htmlspecialchars()`` first (``&amp;``,
  ``&quot;``, ``&#039;``, ``&lt;``, ``&gt;``, ``&nbsp;`` decoded in one pass).
* bcrypt only reads the first 72 bytes and stops at a NUL byte (crypt_blowfish reads a
  C string), so the secret is cut the same way before Python's ``bcrypt`` sees it.

Not covered: SMF's ``sha1_smf()`` fallback for a broken PHP sha1, and hashes from other
forum software that SMF's converters left behind (``enable_password_conversion``).
Accounts on a forum that was not UTF-8 need ``charset`` set to its character set.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Literal

import bcrypt

Scheme = Literal["smf20-sha1", "smf21-bcrypt"]

_SHA1_RE = re.compile(r"[0-9a-fA-F]{40}")
_BCRYPT_RE = re.compile(r"\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}")
# SMF's un_htmlspecialchars(): the ENT_QUOTES table flipped, plus &#039;, &#39; (2.1), &nbsp;.
_UN_HTMLSPECIALCHARS = {
    "&amp;": "&", "&quot;": '"', "&#039;": "'", "&#39;": "'", "&lt;": "<", "&gt;": ">",
    "&nbsp;": " ",
}  # fmt: skip
_UN_HTMLSPECIALCHARS_RE = re.compile("|".join(map(re.escape, _UN_HTMLSPECIALCHARS)))
_BCRYPT_MAX_BYTES = 72
# strtolower() under a Windows-1252/Latin-1 C locale: ASCII plus Š Œ Ž Ÿ and À-Þ (not 0xD7).
_CP1252_UPPER = bytes([*range(0x41, 0x5B), 0x8A, 0x8C, 0x8E, 0x9F, *range(0xC0, 0xD7)])
_CP1252_UPPER += bytes(range(0xD8, 0xDF))
_CP1252_LOWER = bytes.maketrans(
    _CP1252_UPPER,
    bytes([*range(0x61, 0x7B), 0x9A, 0x9C, 0x9E, 0xFF, *range(0xE0, 0xF7)])
    + bytes(range(0xF8, 0xFF)),
)


def smf_scheme(stored: str) -> Scheme | None:
    """Which SMF scheme produced ``stored`` (judged by its shape), or None."""
    stored = stored.strip() if isinstance(stored, str) else ""
    if _SHA1_RE.fullmatch(stored):
        return "smf20-sha1"
    if _BCRYPT_RE.fullmatch(stored):
        return "smf21-bcrypt"
    return None


def verify_smf_password(
    stored: str, member_name: str, password: str, *, charset: str = "utf-8"
) -> bool:
    """Check ``password`` (as typed) for the member whose login name is ``member_name``.

    ``stored`` is the ``passwd`` column.  Returns False for anything that is not a
    recognised SMF hash, and never raises for odd input.
    """
    scheme = smf_scheme(stored)
    if scheme is None or not isinstance(member_name, str) or not isinstance(password, str):
        return False
    secret = _encode(un_htmlspecialchars(password), charset)
    stored = stored.strip()
    matched = False
    if scheme == "smf20-sha1":
        raw = _encode(member_name, charset)
        for name in dict.fromkeys([raw.lower(), raw.translate(_CP1252_LOWER)]):
            # SHA-1 is what SMF 2.0 stored; we only verify it (the caller then re-hashes).
            digest = hashlib.sha1(name + secret).hexdigest()  # noqa: S324
            matched |= hmac.compare_digest(digest, stored.lower())  # no early exit
        return matched
    # PHP's $2y$ is the fixed algorithm Python's bcrypt calls $2b$.
    hashed = (stored.replace("$2y$", "$2b$", 1) if stored.startswith("$2y$") else stored).encode()
    for name in _lowercase_candidates(member_name, charset):
        matched |= _bcrypt_check(name + secret, hashed)  # no early exit
    return matched


def un_htmlspecialchars(text: str) -> str:
    """SMF's ``un_htmlspecialchars()`` (Sources/Subs.php): decode the basic entities once."""
    return _UN_HTMLSPECIALCHARS_RE.sub(lambda m: _UN_HTMLSPECIALCHARS[m.group()], text)


def _lowercase_candidates(name: str, charset: str) -> list[bytes]:
    """``$smcFunc['strtolower']($name)`` as the SMF 2.1 forum may have computed it."""
    candidates = [
        _encode(name.lower(), charset),  # mb_strtolower / utf8_strtolower, final sigma
        _encode("".join(ch.lower() for ch in name), charset),  # mb_strtolower, PHP < 8.3
        _encode(name, charset).lower(),  # plain strtolower on a forum that is not UTF-8
        _encode(name, charset).translate(_CP1252_LOWER),  # ... under a folding locale
    ]
    return list(dict.fromkeys(candidates))


def _encode(text: str, charset: str) -> bytes:
    """Bytes as the forum saw them; browsers send unencodable characters as ``&#N;``."""
    return text.encode(charset, "xmlcharrefreplace")


def _bcrypt_check(secret: bytes, hashed: bytes) -> bool:
    secret = secret.split(b"\0", 1)[0][:_BCRYPT_MAX_BYTES]
    try:
        return bcrypt.checkpw(secret, hashed)
    except ValueError:  # a hash that only looks valid
        return False
