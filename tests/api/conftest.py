"""Fixtures of the API tests: a token for each organization of the shared world.

The world (tests/conftest.py) pairs unit_a with a county of 贵州 (province_a) and unit_b
and the army unit with a county of 云南 (province_b)."""

import json

import pytest

from kaohe.api import services

OPEN_DAY = "2017-12-15"  # self-reports and provincial reports open until 2017-12-31


@pytest.fixture
def tokens(personas):
    """persona -> raw token, authorized by the security administrator and activated by the
    persona."""
    issued = {}
    for persona in ("unit", "unit_b", "province", "province_b", "office"):
        record = services.token_authorize(user=personas[persona], name=f"{persona}系统",
                                          actor=personas["security_admin"])
        _record, raw = services.token_activate(token=record, actor=personas[persona])
        issued[persona] = raw
    return issued


class Api:
    """The Django test client speaking JSON with a bearer token."""

    def __init__(self, client, token):
        self.client, self.token = client, token

    def _headers(self):
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, headers=self._headers())

    def put(self, path, body, **params):
        return self._send("put", path, body, params)

    def post(self, path, body, **params):
        return self._send("post", path, body, params)

    def _send(self, method, path, body, params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        url = f"/api/v1{path}" + (f"?{query}" if query else "")
        return getattr(self.client, method)(url, json.dumps(body),
                                            content_type="application/json",
                                            headers=self._headers())


@pytest.fixture
def api_as(client, tokens):
    def _api(persona):
        return Api(client, tokens.get(persona, persona))

    return _api
