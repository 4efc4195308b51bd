"""Log sign-ins, failed sign-ins and superuser accounts, which Django reports through signals."""

import getpass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest

from kaohe.audit.services import log_action
from kaohe.lib.clientip import client_address


def _ip(request: HttpRequest | None) -> str | None:
    return client_address(request) if request is not None else None


@receiver(user_logged_in)
def on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    log_action("auth.login", actor=user, target=user, ip=_ip(request))


@receiver(user_logged_out)
def on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        log_action("auth.logout", actor=user, target=user, ip=_ip(request))


@receiver(user_login_failed)
def on_login_failed(sender: Any, credentials: dict[str, Any],
                    request: HttpRequest | None = None, **kwargs: Any) -> None:
    log_action(
        "auth.login_failed",
        actor_repr=str(credentials.get("username", ""))[:150],
        success=False,
        ip=_ip(request),
    )


# Superusers: `kaohe createsuperuser` (or a shell) bypasses every view, so the model's
# signals are where such an account is noticed. is_superuser grants nothing in Kaohe's
# views (capabilities come from the role), and `check --deploy` warns while one exists.

def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for the process's uid (some containers)
        return ""


@receiver(pre_save, sender=get_user_model())
def note_superuser_grant(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw or not instance.is_superuser:
        return
    was = instance.pk is not None and sender.objects.filter(
        pk=instance.pk, is_superuser=True).exists()
    instance._kaohe_superuser_granted = not was


@receiver(post_save, sender=get_user_model())
def log_superuser_grant(sender: Any, instance: Any, created: bool, raw: bool = False,
                        **kwargs: Any) -> None:
    if raw or not getattr(instance, "_kaohe_superuser_granted", False):
        return
    instance._kaohe_superuser_granted = False
    log_action(
        "account.superuser_created" if created else "account.superuser_granted",
        target=instance, actor_repr="", success=True,
        data={"username": instance.get_username(), "os_user": _os_user()},
    )
