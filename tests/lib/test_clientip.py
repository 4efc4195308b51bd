"""The client address behind trusted proxies (security.md 31).

X-Forwarded-For is read right to left and only past the proxies the installation names in
KAOHE_TRUSTED_PROXIES: whatever a client writes into the header itself sits to the left of
what the first trusted proxy appended, so it is never reached.
"""

import ipaddress

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings
from hypothesis import given
from hypothesis import strategies as st

from kaohe.lib.clientip import client_address, parse_trusted_proxies

PROXIES = parse_trusted_proxies(["10.0.0.0/8", "192.0.2.1", "2001:db8::/32"],
                                name="KAOHE_TRUSTED_PROXIES")


def _request(remote: str | None, forwarded: str | None = None):
    request = RequestFactory().get("/")
    if remote is None:
        del request.META["REMOTE_ADDR"]
    else:
        request.META["REMOTE_ADDR"] = remote
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


@pytest.fixture(autouse=True)
def _proxies():
    # override_settings rather than pytest-django's settings fixture: hypothesis refuses
    # function-scoped fixtures in its tests.
    with override_settings(KAOHE_TRUSTED_PROXIES=PROXIES):
        yield


@override_settings(KAOHE_TRUSTED_PROXIES=())
def test_without_trusted_proxies_the_header_is_ignored():
    assert client_address(_request("10.0.0.5", "198.51.100.7")) == "10.0.0.5"


def test_a_direct_client_cannot_claim_another_address():
    assert client_address(_request("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


def test_behind_one_trusted_proxy_the_address_it_appended_is_the_client():
    assert client_address(_request("10.0.0.5", "203.0.113.1")) == "203.0.113.1"


def test_what_the_client_prepended_is_not_reached():
    forged = "1.2.3.4, 5.6.7.8, 203.0.113.1"
    assert client_address(_request("10.0.0.5", forged)) == "203.0.113.1"


def test_a_chain_of_trusted_proxies_is_skipped():
    chain = "203.0.113.1, 10.1.1.1, 192.0.2.1"
    assert client_address(_request("10.0.0.5", chain)) == "203.0.113.1"


def test_a_forged_trusted_address_on_the_left_does_not_make_the_client_a_proxy():
    # The client claims to be a proxy itself, and names someone else as the client.
    forged = "198.51.100.99, 10.9.9.9, 203.0.113.1"
    assert client_address(_request("10.0.0.5", forged)) == "203.0.113.1"


def test_a_trusted_proxy_without_the_header_is_the_client():
    assert client_address(_request("10.0.0.5")) == "10.0.0.5"
    assert client_address(_request("10.0.0.5", "")) == "10.0.0.5"


def test_when_every_hop_is_trusted_the_leftmost_hop_is_the_client():
    assert client_address(_request("10.0.0.5", "10.2.2.2, 10.1.1.1")) == "10.2.2.2"


@pytest.mark.parametrize("header", ["unknown", "203.0.113.1:4711", "_hidden", "999.1.1.1",
                                    "203.0.113.1, garbage, 10.1.1.1"])
def test_a_malformed_hop_stops_the_walk_at_the_last_trusted_hop(header):
    expected = "10.1.1.1" if header.endswith("10.1.1.1") else "10.0.0.5"
    assert client_address(_request("10.0.0.5", header)) == expected


def test_a_malformed_hop_left_of_the_client_is_never_read():
    assert client_address(_request("10.0.0.5", "garbage, 203.0.113.1")) == "203.0.113.1"


def test_ipv6_and_ipv4_mapped_addresses():
    assert client_address(_request("2001:db8::1", "2001:0DB8:0:0:0:0:0:2, 2a00::1")) == "2a00::1"
    # A dual-stack socket reports an IPv4 proxy as ::ffff:a.b.c.d.
    assert client_address(_request("::ffff:10.0.0.5", "203.0.113.1")) == "203.0.113.1"
    assert client_address(_request("10.0.0.5", "::ffff:203.0.113.1")) == "203.0.113.1"


def test_no_remote_address_is_none():
    assert client_address(_request(None, "203.0.113.1")) is None


@pytest.mark.parametrize("values, message", [
    (["10.0.0.0/33"], "10.0.0.0/33"),
    (["proxy.example"], "proxy.example"),
    (["10.0.0.1/8"], "10.0.0.1/8"),
])
def test_a_bad_trusted_proxy_stops_start_up_naming_the_value(values, message):
    with pytest.raises(ImproperlyConfigured) as error:
        parse_trusted_proxies(values, name="KAOHE_TRUSTED_PROXIES")
    assert "KAOHE_TRUSTED_PROXIES" in str(error.value) and message in str(error.value)


def test_addresses_and_networks_are_parsed():
    assert parse_trusted_proxies(["127.0.0.1", "::1", "172.16.0.0/12"], name="X") == (
        ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("172.16.0.0/12"))


# -- Properties ---------------------------------------------------------------------------

_untrusted_v4 = st.ip_addresses(v=4).filter(
    lambda a: not any(a in net for net in PROXIES if net.version == 4))
_trusted_v4 = st.one_of(
    st.integers(0, 2**24 - 1).map(lambda n: ipaddress.IPv4Address((10 << 24) + n)),
    st.just(ipaddress.IPv4Address("192.0.2.1")))
_anything = st.one_of(st.ip_addresses().map(str), st.text(max_size=40),
                      _trusted_v4.map(str))


@given(client=_untrusted_v4, prefix=st.lists(_anything, max_size=8),
       hops=st.lists(_trusted_v4, max_size=4), proxy=_trusted_v4)
def test_a_client_never_chooses_its_own_address(client, prefix, hops, proxy):
    """Whatever the client puts in front, the address the first trusted proxy saw wins."""
    parts = [*prefix, str(client), *map(str, hops)]
    header = ",".join(part.replace(",", " ") for part in parts)
    assert client_address(_request(str(proxy), header)) == str(client)


@given(remote=_untrusted_v4, header=st.text(max_size=200))
def test_a_direct_client_is_always_its_socket_address(remote, header):
    assert client_address(_request(str(remote), header)) == str(remote)
