"""The credential letters (账户开通通知书): one PDF, a page per opened account, with its
one-time password. Only the system administrator makes them (kaohe.accounts.bulk); the
passwords are issued while the letters are made and exist nowhere but in the PDF, which
its maker downloads once (kaohe.accounts.bulk_views).

The code letters (账户绑定码通知书) are the security administrator's half: each account's
enrolment code, made and handed out the same way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from kaohe.accounts import bulk, credentials
from kaohe.accounts.capabilities import ISSUE_ENROLMENT_CODE, MANAGE_ACCOUNTS, has_capability
from kaohe.accounts.models import Role
from kaohe.accounts.twofactor import TWO_FACTOR_ROLES
from kaohe.documents.base import CONTENT_TYPES, Exporter, RenderedFile, register
from kaohe.documents.pdf_render import _css_string


@dataclass
class LetterBatch:
    key: str
    actor: object
    openings: list


class _Letters(Exporter):
    """A PDF of secrets, a page per opened account of one batch (kaohe.accounts.bulk),
    queued from the accounts pages, never offered on the documents page."""

    formats = ("pdf",)
    bulk = True
    templatable = False

    @staticmethod
    def batch(key):
        raise NotImplementedError

    def objects_for(self, user, round_):
        return []

    def get_object(self, user, round_, key):
        if not has_capability(user, self.capability):
            raise Http404
        openings = list(self.batch(key))
        if not openings:
            raise Http404
        return LetterBatch(key=key, actor=user, openings=openings)

    def object_key(self, obj):
        return obj.key

    def describe(self, obj):
        return f"{len(obj.openings)}个账户"

    def file_stem(self, obj):
        return f"{self.name}-{timezone.localdate():%Y%m%d}"


@register
class CredentialLetters(_Letters):
    identifier = bulk.LETTERS
    name = "账户开通通知书"
    capability = MANAGE_ACCOUNTS

    @staticmethod
    def batch(key):
        return bulk.letter_batch(key)

    def render(self, fmt, obj, mark, template=None, progress=None) -> RenderedFile:
        if fmt not in self.formats:
            raise Http404
        from weasyprint import HTML

        total = len(obj.openings) + 1
        base = getattr(settings, "KAOHE_BASE_URL", "").rstrip("/")
        sign_in = f"{base}{reverse('login')}"
        letters, hashes = [], {}
        for done, opening in enumerate(obj.openings, start=1):
            account = opening.user
            password = credentials.one_time_password(account)
            hashes[opening.pk] = make_password(password)
            letters.append({
                "target": str(opening.target), "role": Role(opening.role).label,
                "name": account.full_name, "username": account.username,
                "password": password,
                "two_factor": opening.role in TWO_FACTOR_ROLES,
            })
            if progress:
                progress(done, total)
        html = render_to_string("accounts/credential_letters_pdf.html", {
            "letters": letters, "sign_in": sign_in, "mark": mark,
            # Escaped for a CSS string by _css_string, as the official documents' head.
            "running_head": mark_safe(_css_string(  # noqa: S308
                f"内部资料 注意保密 · {mark.text}")) if mark else "",
            "issued_on": timezone.localdate(),
        })
        data = HTML(string=html).write_pdf()
        # Only now, with the letters made, do the passwords replace the unusable ones.
        bulk.letters_issue(batch=obj, actor=obj.actor, hashes=hashes)
        if progress:
            progress(total, total)
        return RenderedFile(f"{self.file_stem(obj)}.pdf", CONTENT_TYPES["pdf"], data)


@register
class EnrolmentCodeLetters(_Letters):
    identifier = bulk.CODE_LETTERS
    name = "账户绑定码通知书"
    capability = ISSUE_ENROLMENT_CODE

    @staticmethod
    def batch(key):
        return bulk.code_letter_batch(key)

    def render(self, fmt, obj, mark, template=None, progress=None) -> RenderedFile:
        if fmt not in self.formats:
            raise Http404
        from weasyprint import HTML

        total = len(obj.openings) + 1
        base = getattr(settings, "KAOHE_BASE_URL", "").rstrip("/")
        # The codes are issued once the PDF is made, so they expire a little after this.
        expires = timezone.localtime() + timedelta(hours=settings.KAOHE_ENROLMENT_CODE_HOURS)
        letters, codes = [], {}
        for done, opening in enumerate(obj.openings, start=1):
            account = opening.user
            codes[opening.pk] = code = credentials.new_enrolment_code()
            letters.append({
                "target": str(opening.target), "role": Role(account.role).label,
                "name": account.full_name, "username": account.username, "code": code,
                "two_factor": account.role in TWO_FACTOR_ROLES, "expires": expires,
            })
            if progress:
                progress(done, total)
        html = render_to_string("accounts/enrolment_code_letters_pdf.html", {
            "letters": letters, "sign_in": f"{base}{reverse('login')}", "mark": mark,
            "running_head": mark_safe(_css_string(  # noqa: S308
                f"内部资料 注意保密 · {mark.text}")) if mark else "",
        })
        data = HTML(string=html).write_pdf()
        bulk.code_letters_issue(batch=obj, actor=obj.actor, codes=codes)
        if progress:
            progress(total, total)
        return RenderedFile(f"{self.file_stem(obj)}.pdf", CONTENT_TYPES["pdf"], data)
