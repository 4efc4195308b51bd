"""The secrets administrators hand out: one-time passwords and enrolment codes.

Both are random, shown once to the administrator who made them, and never stored in clear:
the password as Django's hash, the enrolment code as its SHA-256 (it is long and random,
so a fast hash is enough; its use is also limited by the sign-in lockout).
"""

import hashlib
import secrets
import string

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

# Letters and digits that cannot be mistaken for one another when read out or copied.
_ALPHABET = "".join(ch for ch in string.ascii_letters + string.digits if ch not in "0O1lI")
# Enrolment codes are read out or typed from paper: capitals and digits only, no 0/O, 1/I/L.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_GROUPS, CODE_GROUP_LENGTH = 3, 4  # XXXX-XXXX-XXXX, about 59 bits


def one_time_password(user, length: int = 16) -> str:
    """A random password that passes the configured validators, shown once to the admin."""
    for _attempt in range(20):
        candidate = "".join(secrets.choice(_ALPHABET) for _i in range(length))
        if not (any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate)):
            continue
        try:
            validate_password(candidate, user)
        except ValidationError:
            continue
        return candidate
    raise RuntimeError("no random password passed the password validators")


def new_enrolment_code() -> str:
    groups = ("".join(secrets.choice(_CODE_ALPHABET) for _i in range(CODE_GROUP_LENGTH))
              for _g in range(CODE_GROUPS))
    return "-".join(groups)


def normalise_enrolment_code(text: str) -> str:
    """As typed: any case, with or without the dashes or spaces between the groups."""
    return "".join(ch for ch in text.upper() if ch not in " -\t")


def is_well_formed_enrolment_code(text: str) -> bool:
    code = normalise_enrolment_code(text)
    return len(code) == CODE_GROUPS * CODE_GROUP_LENGTH and all(
        ch in _CODE_ALPHABET for ch in code)


def hash_enrolment_code(text: str) -> str:
    return hashlib.sha256(normalise_enrolment_code(text).encode("utf-8")).hexdigest()
