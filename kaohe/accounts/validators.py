"""Password rules beyond Django's: GB/T 22239 level 3 asks for complex passwords."""

import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def character_classes(password: str) -> int:
    """How many of upper case, lower case, digits and other characters the password uses."""
    classes = [
        any(c in string.ascii_uppercase for c in password),
        any(c in string.ascii_lowercase for c in password),
        any(c in string.digits for c in password),
        any(c not in string.ascii_letters + string.digits for c in password),
    ]
    return sum(classes)


class ComplexityValidator:
    """At least `min_classes` of: upper case letters, lower case letters, digits, symbols."""

    def __init__(self, min_classes: int = 3):
        if not 1 <= min_classes <= 4:
            raise ValueError("min_classes must be between 1 and 4")
        self.min_classes = min_classes

    def validate(self, password, user=None):
        if character_classes(password) < self.min_classes:
            raise ValidationError(self._message(), code="password_too_simple")

    def get_help_text(self):
        return self._message()

    def _message(self):
        return _("密码须至少包含大写字母、小写字母、数字、符号中的 %(count)d 类。") % {
            "count": self.min_classes}
