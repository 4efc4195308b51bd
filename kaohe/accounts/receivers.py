"""Signals that end sessions and record sign-in events; each calls a service.

A User save is the one place every way of disabling an account or setting a password
passes through (the administrators' pages, a shell, a management command), so the
sessions end there rather than in each caller.
"""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from kaohe.accounts import services, sessions
from kaohe.accounts.models import User
from kaohe.audit.services import log_action


@receiver(user_logged_in)
def on_logged_in(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    sessions.start(request.session)
    services.session_register(user=user, session=request.session)


@receiver(user_logged_out)
def on_logged_out(sender, request, user, **kwargs):
    if user is not None:
        services.end_user_sessions(user=user, reason="logout")


@receiver(post_save, sender=User)
def on_user_saved(sender, instance, created, raw=False, **kwargs):
    if raw or created:
        return
    if not instance.is_active:
        services.end_user_sessions(user=instance, reason="account_disabled")
    elif instance._password is not None:
        # Set by set_password() until the save completes; a hash upgrade clears it first.
        services.end_user_sessions(user=instance, reason="password_changed")


@receiver(user_locked_out)
def on_locked_out(sender, request, username, ip_address, **kwargs):
    log_action(
        "auth.locked_out",
        target=User.objects.filter(username=username).first() if username else None,
        actor_repr=str(username or "")[:150],
        success=False,
        ip=ip_address,
        data={"failures": getattr(request, "axes_failures_since_start", None)},
    )
