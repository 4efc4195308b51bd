"""Two factors (TOTP, django-otp) for the roles that handle confidential results.

等保 level 3 asks for two factors, one of them cryptographic, for the office, the working
group, the lead departments, the organization department, the leading group and the three
administrators. Units, provinces and the military inspectors sign in with a password only.
The set is deliberately a constant in code, not a setting: an installation can only relax
the whole requirement (KAOHE_TWO_FACTOR=optional, for a demo), and `check --deploy` warns
when it does.

Enrolling an authenticator needs an enrolment code from the security administrator (or
the console operator), given once in the session that enrols: an account without a device
is not trusted on first use, so a password alone (known to the system administrator after
a reset) never enrols one. For the same reason the code is needed to replace a one-time
password of an account without an authenticator (password_needs_code): the roles that
sign in with a password only would otherwise be the system administrator's to take.
"""

import base64
import re

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from kaohe.accounts.models import Role

TWO_FACTOR_ROLES = frozenset({
    Role.OFFICE, Role.WORKING_GROUP, Role.LEAD_REVIEWER, Role.ORG_DEPARTMENT,
    Role.LEADING_GROUP, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR,
})

REQUIRED = "required"
OPTIONAL = "optional"
MODES = (REQUIRED, OPTIONAL)

DEVICE_NAME = "authenticator"
# The session that gave a valid enrolment code: {"user": pk, "code": EnrolmentCode pk}.
ENROLMENT_SESSION_KEY = "kaohe_enrolment_code"


def mode() -> str:
    return settings.KAOHE_TWO_FACTOR


def role_needs_two_factor(user) -> bool:
    return bool(user.is_authenticated and user.role in TWO_FACTOR_ROLES)


def is_verified(user) -> bool:
    """True once this session's user has given a code (django-otp's OTPMiddleware)."""
    checker = getattr(user, "is_verified", None)
    return bool(checker is not None and checker())


def must_verify(user) -> bool:
    """Whether this user is held on the two-factor pages until a code is given."""
    return mode() == REQUIRED and role_needs_two_factor(user) and not is_verified(user)


def should_offer(user) -> bool:
    """Whether the two-factor page comes after the password (forced or, in a demo, offered)."""
    return role_needs_two_factor(user) and not is_verified(user)


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def pending_device(user) -> TOTPDevice:
    """The unconfirmed device being enrolled; the same one on reload, so a scanned code
    stays valid until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it by hand: base32 in groups of four."""
    raw = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def qr_svg(device: TOTPDevice) -> SafeString:
    """The enrolment URI as an inline SVG QR code, drawn here (no outside service)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathFillImage,
                        border=2)
    svg = image.to_string(encoding="unicode")
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    # A fixed on-screen size, whatever the QR version; the viewBox keeps it sharp.
    svg = re.sub(r'width="[^"]*" height="[^"]*"',
                 'width="220" height="220" role="img" class="kh-qr"', svg, count=1)
    # The SVG is generated from the device's own URI by the qrcode package, not user input.
    return mark_safe(svg)  # noqa: S308


def mark_verified(request, device: TOTPDevice) -> None:
    otp_login(request, device)


def forget_verification(session) -> None:
    session.pop(DEVICE_ID_SESSION_KEY, None)


def password_needs_code(user) -> bool:
    """Whether replacing this account's one-time password needs the security
    administrator's code first (security.md 26).

    The system administrator who issued the one-time password knows it. A session that
    gave a code of the holder's authenticator has a second party already (the holder's
    phone); any other (a unit, a province, a military inspector, an account before it
    enrols, even one that kept an authenticator from an earlier role, which its sign-in
    never asks for) would otherwise be theirs to sign in as, set a password only they know
    and use. Whether the session proved the device counts, not whether one exists."""
    return bool(user.is_authenticated and user.must_change_password
                and not is_verified(user))


def enrolment_unlocked(request) -> bool:
    """Whether this session gave a valid enrolment code for its user."""
    value = request.session.get(ENROLMENT_SESSION_KEY)
    return bool(isinstance(value, dict) and request.user.is_authenticated
                and value.get("user") == request.user.pk)


def unlock_enrolment(session, code) -> None:
    session[ENROLMENT_SESSION_KEY] = {"user": code.user_id, "code": code.pk}


def forget_enrolment(session) -> None:
    session.pop(ENROLMENT_SESSION_KEY, None)
