"""Deployment checks for sign-in security (run by `kaohe check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

from kaohe.accounts import twofactor


@register(Tags.security, deploy=True)
def two_factor_required(app_configs, **kwargs):
    if settings.KAOHE_TWO_FACTOR == twofactor.REQUIRED:
        return []
    return [Warning(
        f"KAOHE_TWO_FACTOR is {settings.KAOHE_TWO_FACTOR!r}: the office, working group, "
        "lead departments, organization department, leading group and administrators "
        "may sign in with a password alone.",
        hint="Leave KAOHE_TWO_FACTOR unset (or 'required') outside a demo.",
        id="kaohe.accounts.W001",
    )]
