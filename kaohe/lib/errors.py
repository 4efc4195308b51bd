"""The refusal every service raises (HackSoft's ApplicationError): each app's own error
(SubmissionError, ReviewError, OutcomeError, …) is one, so that a page shows any of them
the same way (kaohe.lib.http.run_service)."""


class ServiceError(Exception):
    """A service refused what it was asked; the message (Simplified Chinese) is for the user,
    and nothing was changed."""


def refuse_longer(value: str, limit: int, *, field: str,
                  error: type[ServiceError] = ServiceError) -> None:
    """Refuse (``error``) a text longer than ``limit`` characters, naming its field: a
    service never cuts what the user wrote."""
    if len(value) > limit:
        from django.utils.translation import gettext as _

        raise error(_("%(field)s不能超过%(limit)s个字（现为%(length)s个字）。")
                    % {"field": field, "limit": limit, "length": len(value)})
