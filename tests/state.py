"""The whole state of the assessment, to show that a request changed nothing (or what).

Bookkeeping that any request may touch without doing anything is left out: sessions and
the session registry, sign-in times, the audit log (a refusal may be logged), lockouts,
authenticators, spent form tokens, the task queue."""

from django.apps import apps

BOOKKEEPING_APPS = {"sessions", "audit", "axes", "maintenance", "otp_totp", "otp_static",
                    "django_tasks_db", "contenttypes", "admin", "auth"}
BOOKKEEPING_MODELS = {"accounts.UserSession"}
BOOKKEEPING_FIELDS = {"last_login", "last_seen_at", "last_activity"}


def snapshot() -> dict:
    state = {}
    for model in apps.get_models():
        meta = model._meta
        if (meta.app_label in BOOKKEEPING_APPS or meta.label in BOOKKEEPING_MODELS
                or meta.proxy or not meta.managed):
            continue
        state[meta.label] = [
            {k: v for k, v in row.items() if k not in BOOKKEEPING_FIELDS}
            for row in model.objects.order_by("pk").values()
        ]
    return state


def changed(before: dict, after: dict) -> list:
    """The models whose rows differ."""
    return sorted(label for label in set(before) | set(after)
                  if before.get(label) != after.get(label))
