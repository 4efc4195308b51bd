"""Accounts for every unit, province and filed team member in one act (issue 20), with the
three administrators kept apart (等保 三员):

1. the system administrator opens the missing accounts, without a role and without a
   usable password (accounts_open);
2. the security administrator grants each the role its opening names (roles_grant);
3. the system administrator, who issues every one-time password today
   (services.account_create, services.account_password_reset), makes the credential
   letters: a background export that issues the passwords and prints them, a page per
   account, into one PDF downloaded once (letters_request, kaohe.documents.exporters.
   credentials). The passwords exist nowhere else: not in the database, the task queue
   or the log. The owner must change the password at the first sign-in;
4. the security administrator makes the code letters the same way (code_letters_request):
   each account's enrolment code, without which its one-time password sets no new
   password and enrols no authenticator (twofactor.password_needs_code).

The security administrator never learns a password and the system administrator never
learns a code nor grants a role: the holder needs both letters, so neither administrator
can alone sign in as an account that acts in the assessment (security.md 26).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q

from kaohe.accounts.capabilities import (
    ISSUE_ENROLMENT_CODE,
    MANAGE_ACCOUNTS,
    MANAGE_ROLES,
    has_capability,
)
from kaohe.accounts.models import AccountOpening, User
from kaohe.audit.services import log_action
from kaohe.directory.models import Province, Unit

LETTERS = "credential_letters"
CODE_LETTERS = "enrolment_code_letters"
# Who makes and takes each kind of letter.
LETTER_MAKERS = {LETTERS: MANAGE_ACCOUNTS, CODE_LETTERS: ISSUE_ENROLMENT_CODE}


def _require(actor, capability: str) -> None:
    if not has_capability(actor, capability):
        raise PermissionDenied


# -- Reads ---------------------------------------------------------------------------------

def units_without_account():
    """Units that carry a poverty task and have neither an account nor an opened one."""
    opened = AccountOpening.objects.filter(unit__isnull=False).values("unit_id")
    return (Unit.objects.filter(active=True, users__isnull=True).exclude(pk__in=opened)
            .select_related("category").order_by("category__order", "code"))


def provinces_without_account():
    opened = AccountOpening.objects.filter(province__isnull=False).values("province_id")
    return Province.objects.filter(users__isnull=True).exclude(pk__in=opened).order_by("code")


def team_members_without_credentials():
    """Filed team members whose account the filing made without a password and who have
    never signed in, not yet queued for a letter."""
    from kaohe.launch.models import TeamMember
    from kaohe.rounds.selectors import current_round, preparation_round

    rounds = {r.pk for r in (current_round(), preparation_round()) if r is not None}
    members = (TeamMember.objects.filter(filing__round_id__in=rounds, user__isnull=False,
                                         user__last_login__isnull=True,
                                         user__opening__isnull=True, user__is_active=True)
               .select_related("user", "filing__lead_department").order_by("filing", "order"))
    seen, found = set(), []
    for member in members:
        user = member.user
        if user is not None and member.user_id not in seen and not user.has_usable_password():
            seen.add(member.user_id)
            found.append(member)
    return found


def never_signed_in():
    """Active accounts of the assessment's roles (or none yet) that have never signed in."""
    from kaohe.accounts.admin_forms import SYSTEM_ADMIN_ACCOUNT_ROLES

    return (User.objects.filter(last_login__isnull=True, is_active=True,
                                role__in=SYSTEM_ADMIN_ACCOUNT_ROLES)
            .select_related("unit", "province", "lead_department").order_by("username"))


def openings_without_role():
    """Opened accounts that still wait for the security administrator's grant."""
    return (AccountOpening.objects.filter(user__role="", user__is_active=True)
            .select_related("user", "unit", "province", "lead_department").order_by("pk"))


def _failed_batches(identifier: str = LETTERS):
    from kaohe.documents.models import Export, ExportStatus

    return Export.objects.filter(identifier=identifier, status=ExportStatus.FAILED).values(
        "object_key")


def openings_without_letter():
    """Opened accounts whose one-time password has not gone into a letter yet (a letter
    export that failed gives its accounts back)."""
    return (AccountOpening.objects.filter(letter_issued_at__isnull=True, user__is_active=True,
                                          user__last_login__isnull=True)
            .filter(Q(letter_batch="") | Q(letter_batch__in=_failed_batches()))
            .select_related("user", "unit", "province", "lead_department").order_by("pk"))


def openings_without_code(*, actor=None):
    """Opened accounts with their role whose enrolment code has not gone into a code letter
    yet (a code letter export that failed gives its accounts back); never the security
    administrator's own."""
    found = (AccountOpening.objects.filter(code_issued_at__isnull=True, user__is_active=True,
                                           user__last_login__isnull=True)
             .exclude(user__role="")
             .filter(Q(code_batch="") | Q(code_batch__in=_failed_batches(CODE_LETTERS)))
             .select_related("user", "unit", "province", "lead_department").order_by("pk"))
    return found.exclude(user=actor) if actor is not None else found


def code_letter_batch(key: str):
    """The openings claimed by one code letter export and not yet issued."""
    return (AccountOpening.objects.filter(code_batch=key, code_issued_at__isnull=True)
            .select_related("user", "unit", "province", "lead_department").order_by("pk"))


def letter_batch(key: str):
    """The openings claimed by one letter export and not yet issued."""
    return (AccountOpening.objects.filter(letter_batch=key, letter_issued_at__isnull=True)
            .select_related("user", "unit", "province", "lead_department").order_by("pk"))


# -- The system administrator opens the accounts --------------------------------------------

@dataclass
class Opened:
    created: list[User] = field(default_factory=list)
    adopted: list[User] = field(default_factory=list)


def _free_username(base: str, taken: set[str]) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    return name


def _new_account(*, username, liaison_of) -> User:
    account = User(username=username, role="", must_change_password=True,
                   full_name=liaison_of.liaison_name, phone=liaison_of.liaison_phone,
                   email=liaison_of.liaison_email)
    account.set_unusable_password()  # the credential letter issues the password
    account.full_clean()
    account.save()
    return account


@transaction.atomic
def accounts_open(*, actor) -> Opened:
    """Open an account, without a role, for every unit and province that has none, and
    queue the filed team members without a password for a letter. Idempotent: what has
    an account (or an opened one) is left alone."""
    _require(actor, MANAGE_ACCOUNTS)
    opened = Opened()
    taken = set(User.objects.values_list("username", flat=True))
    for unit in units_without_account().select_for_update(of=("self",)):
        account = _new_account(username=_free_username(unit.code.lower(), taken),
                               liaison_of=unit)
        AccountOpening.objects.create(user=account, unit=unit, opened_by=actor)
        opened.created.append(account)
    for province in provinces_without_account():
        account = _new_account(username=_free_username(f"prov-{province.code}", taken),
                               liaison_of=province)
        AccountOpening.objects.create(user=account, province=province, opened_by=actor)
        opened.created.append(account)
    for member in team_members_without_credentials():
        AccountOpening.objects.create(user=member.user, created_account=False, opened_by=actor,
                                      lead_department=member.filing.lead_department)
        opened.adopted.append(member.user)
    if opened.created or opened.adopted:
        log_action("account.bulk_opened", actor=actor, data={
            "created": len(opened.created), "adopted": len(opened.adopted),
            "usernames": [u.username for u in opened.created + opened.adopted]})
    return opened


# -- The security administrator grants the roles ---------------------------------------------

@transaction.atomic
def roles_grant(*, actor) -> list[User]:
    """Grant every opened account without a role the role its opening names: a unit's
    account the unit role with that unit, a province's the province role. Idempotent."""
    _require(actor, MANAGE_ROLES)
    granted = []
    for opening in openings_without_role().select_for_update(of=("self",)):
        account = opening.user
        if account.pk == actor.pk:
            continue
        account.role = opening.role
        account.unit, account.province = opening.unit, opening.province
        account.lead_department = opening.lead_department
        account.full_clean()
        account.save(update_fields=["role", "unit", "province", "lead_department"])
        granted.append(account)
    if granted:
        log_action("account.roles_granted", actor=actor, data={
            "count": len(granted),
            "granted": [{"username": a.username, "role": a.role,
                         "scope": a.scope_label} for a in granted]})
    return granted


# -- The system administrator's credential letters --------------------------------------------

def letters_request(*, actor):
    """Queue the credential letters of every opened account without one: the accounts are
    claimed by this export (a second request leaves them to it), and a worker issues
    their passwords into one PDF. None when no account waits for a letter."""
    return _request_letters(actor, LETTERS, openings_without_letter(), "letter_batch")


def letters_issue(*, batch, actor, hashes: dict[int, str]) -> list[User]:
    """Set the one-time passwords (as hashes) the letters print; called by the letters'
    exporter once the PDF is rendered. Refuses if an account of the batch changed since
    it was read, so no letter is handed out with a password that does not work."""
    from django.utils import timezone

    _require(actor, MANAGE_ACCOUNTS)
    now = timezone.now()
    with transaction.atomic():
        openings = list(letter_batch(batch.key).select_for_update(of=("self",)))
        if sorted(o.pk for o in openings) != sorted(o.pk for o in batch.openings):
            raise RuntimeError("the batch changed while its letters were made")
        issued = []
        for opening in openings:
            account = User.objects.select_for_update().get(pk=opening.user_id)
            if account.last_login is not None or not account.is_active:
                raise RuntimeError(f"{account.username} changed while its letter was made")
            account.password = hashes[opening.pk]
            account.must_change_password = True
            # Not set_password(): the hash was made beforehand, outside the transaction;
            # the stamp set_password() would leave is set here.
            account.password_changed_at = now
            account.save(update_fields=["password", "must_change_password",
                                        "password_changed_at"])
            issued.append(account)
        AccountOpening.objects.filter(pk__in=[o.pk for o in openings]).update(
            letter_issued_at=now)
        log_action("account.credentials_issued", actor=actor, data={
            "count": len(issued), "batch": batch.key,
            "usernames": [a.username for a in issued]})
    return issued


# -- The security administrator's code letters ----------------------------------------------

def code_letters_request(*, actor):
    """Queue the code letters of every opened account with its role and without one: a
    worker issues their enrolment codes into one PDF, as letters_request does the
    passwords. None when no account waits for a code letter."""
    return _request_letters(actor, CODE_LETTERS, openings_without_code(actor=actor),
                            "code_batch")


def _request_letters(actor, identifier: str, waiting, batch_field: str):
    """Claim the `waiting` openings for a new batch (its key in `batch_field`) and queue
    the export of that kind that makes their letters; None when none waits."""
    from kaohe.documents import services as documents
    from kaohe.documents.base import get_exporter

    _require(actor, LETTER_MAKERS[identifier])
    exporter = get_exporter(identifier)
    with transaction.atomic():
        pending = list(waiting.select_for_update(of=("self",)))
        if not pending:
            return None
        key = secrets.token_hex(8)
        AccountOpening.objects.filter(pk__in=[o.pk for o in pending]).update(
            **{batch_field: key})
        batch = exporter.get_object(actor, None, key)
        return documents.request_export(actor, exporter, batch, "pdf")


def code_letters_issue(*, batch, actor, codes: dict[int, str]) -> list[User]:
    """Issue the enrolment codes the code letters print (each replaces the account's unused
    ones); called by the exporter once the PDF is rendered. Refuses, issuing none, if an
    account of the batch signed in, was disabled or lost its role since it was read."""
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from kaohe.accounts import services

    _require(actor, ISSUE_ENROLMENT_CODE)
    with transaction.atomic():
        openings = list(code_letter_batch(batch.key).select_for_update(of=("self",)))
        if sorted(o.pk for o in openings) != sorted(o.pk for o in batch.openings):
            raise RuntimeError("the batch changed while its letters were made")
        issued = []
        for opening in openings:
            account = User.objects.select_for_update().get(pk=opening.user_id)
            if account.last_login is not None or not account.is_active or not account.role:
                raise RuntimeError(f"{account.username} changed while its letter was made")
            try:
                services.enrolment_code_issue_in_letter(user=account, actor=actor,
                                                        code=codes[opening.pk])
            except ValidationError as refused:
                raise RuntimeError(f"{account.username}: {' '.join(refused.messages)}") from refused
            issued.append(account)
        AccountOpening.objects.filter(pk__in=[o.pk for o in openings]).update(
            code_issued_at=timezone.now())
        log_action("account.enrolment_codes_issued", actor=actor, data={
            "count": len(issued), "batch": batch.key,
            "usernames": [a.username for a in issued]})
    return issued


def letters_of(user, identifier: str = LETTERS):
    """The letter exports of a kind the user made: the only ones they may download."""
    from kaohe.documents.models import Export

    return Export.objects.filter(identifier=identifier, made_by=user)


@transaction.atomic
def letters_take(*, export_id: int, actor, identifier: str = LETTERS):
    """(export, the PDF as an open kaohe.lib.storage.StoredStream with its `size`), handed
    out once to the one who made it: the file holds passwords, so it is deleted once this
    is committed, while the stream opened before still reads it. None when there is
    nothing to hand out (another's export, not made yet, taken already or expired; an
    expired file is purged)."""
    from django.core.files.storage import default_storage

    from kaohe.documents import services as documents
    from kaohe.documents.models import ExportStatus
    from kaohe.lib import clock, storage

    _require(actor, LETTER_MAKERS[identifier])
    export = letters_of(actor, identifier).select_for_update().filter(pk=export_id).first()
    if export is None or export.status != ExportStatus.DONE or not export.storage_name:
        return None
    # As the documents page: expiry is on kaohe.lib.clock, where expires_at was set.
    if export.expires_at and export.expires_at <= clock.now():
        documents.purge_expired()
        return None
    name = export.storage_name
    # Opened before the file is deleted (on commit), and read as the response is sent.
    stream = storage.StoredStream(name, open_now=True)
    export.status, export.storage_name = ExportStatus.EXPIRED, ""
    export.save(update_fields=["status", "storage_name"])
    log_action("document.downloaded", actor=actor, target=export,
               data={"code": export.code, "sha256": export.sha256, "once": True})
    transaction.on_commit(lambda: default_storage.delete(name))
    return export, stream

