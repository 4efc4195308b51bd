"""Every file Kaohe hands out is an attachment that is never sniffed or cached
(security.md 19): evidence, launch files, offline workbooks, templates, the audit export."""

import pytest

from tests.test_permissions import ROUTES, _url

# route -> a persona allowed to download it (the matrix says which).
DOWNLOADS = {
    "evidence:download": "office",
    "launch:plan_download": "office",
    "launch:material_download": "office",
    "submissions:self_report_excel": "unit",
    "submissions:provincial_excel": "province",
    "directory:import_template": "office",
    "audit:export": "auditor",
}


def test_the_download_list_names_routes_of_the_matrix():
    assert set(DOWNLOADS) <= set(ROUTES)


@pytest.mark.parametrize("route", sorted(DOWNLOADS))
def test_a_download_is_an_attachment_never_sniffed_or_cached(client, world, personas, route):
    persona = DOWNLOADS[route]
    method, _kwargs, _data, expected = ROUTES[route]
    assert method == "get" and expected(persona) == 200
    client.force_login(personas[persona])
    response = client.get(_url(route, world, persona))
    assert response.status_code == 200, route
    assert response["Content-Disposition"].startswith("attachment;"), route
    assert response["X-Content-Type-Options"] == "nosniff", route
    cache = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache, route
    if response.streaming:
        b"".join(response.streaming_content)
