"""The refusal every service raises (HackSoft's ApplicationError): each app's own error
(SubmissionError, ReviewError, OutcomeError, …) is one, so that a page shows any of them
the same way (kaohe.lib.http.run_service)."""


class ServiceError(Exception):
    """A service refused what it was asked; the message (Simplified Chinese) is for the user,
    and nothing was changed."""
