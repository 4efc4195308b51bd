"""Issuing, revoking and checking API tokens, and logging every call.

A token is long and random, so a fast hash (SHA-256) is enough to store it: only the hash
and a short prefix are kept, the token itself is returned once to the issuer. Issuing and
revoking are the security administrator's (they grant an organization's scope to another
system, as granting a role does), each in one transaction with its audit entry.
"""

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kaohe.accounts.models import Role
from kaohe.api.models import ApiCall, ApiToken
from kaohe.audit.services import log_action
from kaohe.lib import clock

TOKEN_PREFIX = "kh_"  # noqa: S105 - the public marker every token starts with
PREFIX_SHOWN = 10  # "kh_" and 7 random characters
# The roles an organization's system acts as: a unit, a province, the office.
TOKEN_ROLES = (Role.UNIT, Role.PROVINCE, Role.OFFICE)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def token_refusal(user) -> str | None:
    """Why no token can act as this account, or None if one can."""
    if not user.is_active:
        return _("该账户已停用。")
    if user.role not in TOKEN_ROLES:
        return _("只能为中央单位、省级扶贫部门或国务院扶贫办的账户签发接口令牌。")
    return None


@transaction.atomic
def token_issue(*, user, name: str, actor) -> tuple[ApiToken, str]:
    """A new token acting as ``user``: the record and the token, to be shown once."""
    refusal = token_refusal(user)
    if refusal:
        raise ValidationError(refusal)
    name = name.strip()
    if not name:
        raise ValidationError(_("请填写令牌名称。"))
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:PREFIX_SHOWN],
                                    token_hash=hash_token(raw), created_by=actor)
    log_action("api.token.issued", actor=actor, target=token,
               data={"account": user.username, "name": name, "prefix": token.prefix})
    return token, raw


@transaction.atomic
def token_revoke(*, token: ApiToken, actor) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise ValidationError(_("该令牌已吊销。"))
    token.revoked_at, token.revoked_by = clock.now(), actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    log_action("api.token.revoked", actor=actor, target=token,
               data={"account": token.user.username, "prefix": token.prefix})
    return token


def token_authenticate(raw: str) -> ApiToken | None:
    """The token's record if it is known, not revoked, and its account active."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (ApiToken.objects.select_related("user", "user__unit", "user__province")
             .filter(token_hash=hash_token(raw), revoked_at__isnull=True).first())
    if token is None or not token.user.is_active or token.user.role not in TOKEN_ROLES:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=clock.now())
    return token


def call_record(*, token: ApiToken | None, method: str, path: str, status: int,
                ip: str | None) -> ApiCall:
    return ApiCall.objects.create(token=token, method=method[:10], path=path[:300],
                                  status=status, ip=ip or None)
