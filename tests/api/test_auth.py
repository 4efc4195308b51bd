"""Bearer tokens: who gets in, what is stored, what is logged."""

import hashlib

import pytest
from django.test import Client
from django.urls import reverse

from kaohe.accounts.models import Role
from kaohe.api import services
from kaohe.api.models import ApiCall, ApiToken
from kaohe.audit.models import AuditEntry
from tests.api.conftest import Api
from tests.conftest import make_user


def test_it_answers_401_without_a_token_or_with_an_unknown_one(client, tokens):
    for token in (None, "kh_unknown", "not-even-a-kaohe-token", tokens["unit"] + "x"):
        response = Api(client, token).get("/me")
        assert response.status_code == 401, token
        assert response.json()["code"] == "unauthorized"
    response = client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert response.status_code == 401


def test_a_token_acts_as_its_account(api_as, personas):
    body = api_as("province").get("/me").json()
    assert body["username"] == "prov_a"
    assert body["organization"] == {"kind": "province", "code": personas["province"].province.code,
                                    "name": "贵州省"}
    assert body["token"] == ApiToken.objects.get(user=personas["province"]).prefix


def test_a_revoked_token_answers_401(api_as, tokens, personas):
    assert api_as("unit").get("/me").status_code == 200
    token = ApiToken.objects.get(user=personas["unit"])
    services.token_revoke(token=token, actor=personas["security_admin"])
    assert api_as("unit").get("/me").status_code == 401
    assert api_as("unit_b").get("/me").status_code == 200  # the others still work


def test_a_disabled_account_answers_401(api_as, personas):
    user = personas["province"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert api_as("province").get("/me").status_code == 401


def test_a_signed_in_session_opens_nothing_in_the_api(client, personas):
    client.force_login(personas["office"])
    assert client.get("/api/v1/office/progress").status_code == 401


def test_a_write_with_a_token_needs_no_csrf_token(tokens, settings):
    settings.KAOHE_TODAY = "2017-12-15"
    client = Client(enforce_csrf_checks=True)
    response = Api(client, tokens["unit"]).put("/unit/report", {"revision": 0, "summary": "总结"})
    assert response.status_code == 200, response.content


def _authorize(client, personas, persona="province", name="贵州省扶贫系统"):
    client.force_login(personas["security_admin"])
    response = client.post(reverse("api:token_authorize"),
                           {"user": personas[persona].username, "name": name})
    assert response.status_code == 302, response.content.decode()
    return ApiToken.objects.get(user=personas[persona], name=name)


def test_tokens_are_stored_hashed_and_shown_once_to_their_holder(client, personas):
    token = _authorize(client, personas)
    # Authorized, not made: nothing the security administrator saw can call the API.
    assert token.token_hash is None and token.prefix == "" and token.is_pending
    listing = client.get(reverse("api:tokens")).content.decode()
    assert "待本人生成" in listing and "kh_" not in listing
    entry = AuditEntry.objects.get(action="api.token.authorized")
    assert entry.actor == personas["security_admin"] and entry.data["account"] == "prov_a"
    assert personas["province"].notifications.filter(kind="api_token").exists()

    client.force_login(personas["province"])
    mine = client.get(reverse("api:my_tokens")).content.decode()
    assert "贵州省扶贫系统" in mine and "生成令牌" in mine
    response = client.post(reverse("api:token_activate", kwargs={"pk": token.pk}))
    assert response.status_code == 200
    token.refresh_from_db()
    page = response.content.decode()
    raw = page.split('<code class="kh-api-token">')[1].split("</code>")[0]
    assert raw.startswith(token.prefix) and len(raw) > 40
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {token.name, token.prefix, token.token_hash}
    assert response["Cache-Control"].startswith("max-age=0")
    entry = AuditEntry.objects.get(action="api.token.activated")
    assert entry.actor == personas["province"]
    assert raw not in str(entry.data) and entry.data["prefix"] == token.prefix
    # Never again: not on either list, and a second activation is refused.
    assert raw not in client.get(reverse("api:my_tokens")).content.decode()
    again = client.post(reverse("api:token_activate", kwargs={"pk": token.pk}), follow=True)
    assert raw not in again.content.decode() and "该令牌已生成" in again.content.decode()
    client.force_login(personas["security_admin"])
    assert raw not in client.get(reverse("api:tokens")).content.decode()
    assert Api(Client(), raw).get("/me").status_code == 200


def test_the_security_administrator_alone_cannot_act_as_an_account(client, personas):
    """security.md §26: authorizing gives the administrator no token, and the administrator
    cannot activate it (404: not their token), nor by the service."""
    from django.core.exceptions import ValidationError

    token = _authorize(client, personas, persona="unit")
    response = client.post(reverse("api:token_activate", kwargs={"pk": token.pk}))
    assert response.status_code == 404
    with pytest.raises(ValidationError):
        services.token_activate(token=token, actor=personas["security_admin"])
    token.refresh_from_db()
    assert token.token_hash is None and token.activated_at is None
    assert not AuditEntry.objects.filter(action="api.token.activated").exists()


def test_a_holder_cannot_activate_anothers_token_or_a_revoked_one(client, personas):
    token = _authorize(client, personas, persona="unit")
    client.force_login(personas["unit_b"])
    assert client.post(reverse("api:token_activate",
                               kwargs={"pk": token.pk})).status_code == 404
    assert client.post(reverse("api:my_token_revoke",
                               kwargs={"pk": token.pk})).status_code == 404
    assert "待生成" not in client.get(reverse("api:my_tokens")).content.decode()
    client.force_login(personas["unit"])
    assert client.post(reverse("api:my_token_revoke",
                               kwargs={"pk": token.pk})).status_code == 302
    response = client.post(reverse("api:token_activate", kwargs={"pk": token.pk}), follow=True)
    assert "该令牌已吊销" in response.content.decode()
    token.refresh_from_db()
    assert token.token_hash is None and token.revoked_by == personas["unit"]


def test_a_pending_token_authenticates_nothing(personas):
    token = services.token_authorize(user=personas["unit"], name="x",
                                     actor=personas["security_admin"])
    assert services.token_authenticate(services.TOKEN_PREFIX) is None
    assert not ApiToken.objects.filter(pk=token.pk, activated_at__isnull=False).exists()


def test_the_security_administrator_cannot_authorize_a_token_for_themself(personas):
    from django.core.exceptions import ValidationError

    office = personas["office"]
    with pytest.raises(ValidationError):
        services.token_authorize(user=office, name="x", actor=office)
    assert not ApiToken.objects.exists()


def test_the_security_administrator_revokes_a_token_from_the_page(client, personas, tokens):
    token = ApiToken.objects.get(user=personas["unit"])
    client.force_login(personas["security_admin"])
    response = client.post(reverse("api:token_revoke", kwargs={"pk": token.pk}))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == personas["security_admin"]
    assert AuditEntry.objects.filter(action="api.token.revoked",
                                     target_id=str(token.pk)).exists()
    assert Api(Client(), tokens["unit"]).get("/me").status_code == 401


@pytest.mark.parametrize("role", [Role.LEAD_REVIEWER, Role.SECURITY_ADMIN, Role.AUDITOR,
                                  Role.WORKING_GROUP])
def test_tokens_act_only_as_a_unit_a_province_or_the_office(personas, world, role):
    from django.core.exceptions import ValidationError

    scope = {"lead_department": world["lead_a"]} if role == Role.LEAD_REVIEWER else {}
    user = make_user(f"x-{role}", role, **scope)
    with pytest.raises(ValidationError):
        services.token_authorize(user=user, name="x", actor=personas["security_admin"])
    assert not ApiToken.objects.filter(user=user).exists()


def test_every_call_is_logged_with_token_method_path_and_status(client, api_as, personas):
    api_as("unit").get("/me")
    api_as("unit").get("/province/units")
    Api(client, "kh_wrong").get("/me")
    calls = list(ApiCall.objects.order_by("pk").values_list(
        "token__user__username", "method", "path", "status"))
    assert calls == [("unit_a", "GET", "/api/v1/me", 200),
                     ("unit_a", "GET", "/api/v1/province/units", 404),
                     (None, "GET", "/api/v1/me", 401)]
    assert ApiToken.objects.get(user=personas["unit"]).last_used_at is not None


def test_the_schema_and_its_page_are_served_without_anything_from_elsewhere(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    body = schema.json()
    assert body["info"]["version"] == "1"
    assert "/api/v1/province/units/{unit_code}/report" in body["paths"]
    assert "tus" in body["info"]["description"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/api/v1/openapi.json" in html and "/api/v1/unit/report" in html
    assert "cdn" not in html.lower() and "<script src=\"http" not in html
    assert "Content-Security-Policy" in page.headers


def test_a_token_is_authorized_only_for_an_active_account_of_its_roles_named(client, personas):
    """The account is named by its username (no list of every account on the page): an
    unknown name, another role's account or a disabled one is refused, nothing issued."""
    client.force_login(personas["security_admin"])
    page = client.get(reverse("api:tokens")).content.decode()
    assert personas["province"].username not in page  # no option per account
    disabled = personas["unit"]
    disabled.is_active = False
    disabled.save(update_fields=["is_active"])
    for name in ("nobody", personas["lead_reviewer"].username, disabled.username, ""):
        response = client.post(reverse("api:token_authorize"), {"user": name, "name": "x"})
        assert response.status_code == 400, name
        assert "没有这个用户名的中央单位、省级扶贫部门" in response.content.decode() or not name
    assert not ApiToken.objects.exists()


def test_a_role_change_or_disabling_revokes_the_accounts_tokens(personas, tokens, world):
    """A token acts for what was authorized: the account made the office's, or disabled and
    enabled again, has none left."""
    from kaohe.accounts import services as accounts

    security, system = personas["security_admin"], personas["system_admin"]
    accounts.account_role_change(account=personas["unit"], actor=security, role=Role.OFFICE)
    assert Api(Client(), tokens["unit"]).get("/me").status_code == 401
    pending = services.token_authorize(user=personas["province"], name="待生成",
                                       actor=security)
    accounts.account_set_active(account=personas["province"], actor=system, active=False)
    accounts.account_set_active(account=personas["province"], actor=system, active=True)
    assert Api(Client(), tokens["province"]).get("/me").status_code == 401
    assert not ApiToken.objects.filter(user__in=[personas["unit"], personas["province"]],
                                       revoked_at__isnull=True).exists()
    pending.refresh_from_db()
    assert pending.revoked_by == system
    assert AuditEntry.objects.filter(action="api.token.revoked",
                                     data__reason="account.role_changed").count() == 1
    # The others' tokens are untouched.
    assert Api(Client(), tokens["unit_b"]).get("/me").status_code == 200
