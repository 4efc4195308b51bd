"""Authorizing, activating, revoking and checking API tokens, and logging every call.

No administrator can act as a business user alone (security.md §26), so a token takes two
people: the security administrator authorizes one for an account (it grants the
organization's scope to another system, as granting a role does), and the account's holder,
signed in as themselves, activates it; only then is the token made, and it is shown once, to
the holder. The security administrator never sees it; the holder cannot have one that was
not authorized. Either may revoke it.

A token is long and random, so a fast hash (SHA-256) is enough to store it: only the hash
and a short prefix are kept. Each step is one transaction with its audit entry.
"""

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from kaohe.accounts.capabilities import CAPABILITIES, USE_API_TOKENS
from kaohe.api.models import ApiCall, ApiToken
from kaohe.audit.services import log_action
from kaohe.lib import clock
from kaohe.notifications.models import Kind, Notification

TOKEN_PREFIX = "kh_"  # noqa: S105 - the public marker every token starts with
PREFIX_SHOWN = 10  # "kh_" and 7 random characters
# The roles an organization's system acts as: a unit, a province, the office.
TOKEN_ROLES = tuple(sorted(CAPABILITIES[USE_API_TOKENS]))


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def token_refusal(user) -> str | None:
    """Why no token can act as this account, or None if one can."""
    if not user.is_active:
        return _("该账户已停用。")
    if user.role not in TOKEN_ROLES:
        return _("只能为中央单位、省级扶贫部门或国务院扶贫办的账户授权接口令牌。")
    return None


@transaction.atomic
def token_authorize(*, user, name: str, actor) -> ApiToken:
    """The security administrator's half: a token ``user`` may activate. No token exists
    yet (nothing can call the API with it); the holder is told on their notifications."""
    refusal = token_refusal(user)
    if refusal:
        raise ValidationError(refusal)
    if actor is not None and actor.pk == user.pk:
        raise ValidationError(_("不能为自己的账户授权接口令牌。"))
    name = name.strip()
    if not name:
        raise ValidationError(_("请填写令牌名称。"))
    token = ApiToken.objects.create(user=user, name=name, created_by=actor)
    log_action("api.token.authorized", actor=actor, target=token,
               data={"account": user.username, "name": name})
    Notification.objects.create(
        recipient=user, kind=Kind.API_TOKEN, key=f"api-token-{token.pk}",
        text=_("安全管理员已为本账户授权接口令牌“%(name)s”，请在“我的接口令牌”中生成。")
        % {"name": name}, link=reverse("api:my_tokens"))
    return token


@transaction.atomic
def token_activate(*, token: ApiToken, actor) -> tuple[ApiToken, str]:
    """The holder's half: make the authorized token, as the account it acts for. Returns
    the record and the token, to be shown once."""
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if actor is None or actor.pk != token.user_id:
        raise ValidationError(_("只有令牌所代表账户的本人才能生成令牌。"))
    if token.revoked_at is not None:
        raise ValidationError(_("该令牌已吊销。"))
    if token.activated_at is not None:
        raise ValidationError(_("该令牌已生成，不能再次显示；如已遗失，请吊销后"
                                "请安全管理员重新授权。"))
    refusal = token_refusal(token.user)
    if refusal:
        raise ValidationError(refusal)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token.prefix, token.token_hash = raw[:PREFIX_SHOWN], hash_token(raw)
    token.activated_at = clock.now()
    token.save(update_fields=["prefix", "token_hash", "activated_at"])
    log_action("api.token.activated", actor=actor, target=token,
               data={"account": token.user.username, "name": token.name,
                     "prefix": token.prefix})
    return token, raw


@transaction.atomic
def token_revoke(*, token: ApiToken, actor) -> ApiToken:
    """Revoke a token, by the security administrator or by its holder."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise ValidationError(_("该令牌已吊销。"))
    token.revoked_at, token.revoked_by = clock.now(), actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    log_action("api.token.revoked", actor=actor, target=token,
               data={"account": token.user.username, "prefix": token.prefix})
    return token


def tokens_revoke_of(*, user, actor, reason: str) -> int:
    """Revoke every token of an account (authorized or made) whose role, scope or standing
    changed: a token carries what was authorized for the account as it was, never what
    the account becomes (another role, an account enabled again). Returns how many."""
    now = clock.now()
    revoked = 0
    for token in ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True):
        token.revoked_at, token.revoked_by = now, actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        log_action("api.token.revoked", actor=actor, target=token,
                   data={"account": user.username, "prefix": token.prefix, "reason": reason})
        revoked += 1
    return revoked


def token_authenticate(raw: str) -> ApiToken | None:
    """The token's record if it is known, not revoked, and its account active."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (ApiToken.objects.select_related("user", "user__unit", "user__province")
             .filter(token_hash=hash_token(raw), revoked_at__isnull=True,
                     activated_at__isnull=False).first())
    if token is None or not token.user.is_active or token.user.role not in TOKEN_ROLES:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=clock.now())
    return token


def call_record(*, token: ApiToken | None, method: str, path: str, status: int,
                ip: str | None) -> ApiCall:
    return ApiCall.objects.create(token=token, method=method[:10], path=path[:300],
                                  status=status, ip=ip or None)
