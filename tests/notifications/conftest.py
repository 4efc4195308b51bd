"""A real SMTP server for the notification tests: e-mail goes out through Django's SMTP
backend and is read back as it arrived."""

import contextlib
import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller

BASE_URL = "https://kaohe.example.org"
GRADE_WORDS = ("好", "较好", "一般", "较差", "排名", "名次")


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append({
            "to": sorted(envelope.rcpt_tos),
            "subject": str(message["subject"]),
            "body": message.get_body(preferencelist=("plain",)).get_content(),
        })
        return "250 OK"

    def to(self, address):
        return [m for m in self.messages if address in m["to"]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def receiving_smtp(settings):
    """An SMTP server on a free local port, and Django's SMTP backend pointed at it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.KAOHE_BASE_URL = BASE_URL
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp(settings):
    with receiving_smtp(settings) as inbox:
        yield inbox


@pytest.fixture
def mailboxes(personas):
    """Every scoped persona gets an e-mail address (username@example.org)."""
    for user in personas.values():
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    return personas


def assert_no_grade(text: str):
    for word in GRADE_WORDS:
        assert word not in text, (word, text)
