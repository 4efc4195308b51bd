"""Log sign-ins and failed sign-ins, which Django reports through signals."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from kaohe.audit.services import log_action


def _ip(request):
    return request.META.get("REMOTE_ADDR") if request is not None else None


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    log_action("auth.login", actor=user, target=user, ip=_ip(request))


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        log_action("auth.logout", actor=user, target=user, ip=_ip(request))


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    log_action(
        "auth.login_failed",
        actor_repr=str(credentials.get("username", ""))[:150],
        success=False,
        ip=_ip(request),
    )
