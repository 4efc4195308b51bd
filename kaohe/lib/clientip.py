"""The address of the client behind the installation's trusted proxies (security.md 31).

Lockout (django-axes) and the audit log key on this address. REMOTE_ADDR is the peer of
the socket; a proxy in front of Kaohe (nginx ending TLS) makes that the proxy, so each
proxy appends the address of its own peer to X-Forwarded-For. Only the proxies named in
KAOHE_TRUSTED_PROXIES are believed: the header is read right to left, past trusted hops,
and the first untrusted address is the client. Everything left of it was written by the
client or by proxies nobody vouches for, and is never read, so a client cannot choose the
address it is locked out or audited under.
"""

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_trusted_proxies(values: Iterable[str], *, name: str) -> tuple[Network, ...]:
    """Addresses and networks (CIDR); a value that is neither stops start-up, naming it.

    A network with host bits set (10.0.0.1/8) is refused too: it is more likely a typo
    for an address than a deliberate network.
    """
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value, strict=True))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{name}: {value!r} is not an IP address or network "
                f"(e.g. 127.0.0.1, 10.0.0.0/8, ::1): {exc}") from None
    return tuple(networks)


def _address(value: str | None) -> Address | None:
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_address(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind trusted proxies the last hop they saw.

    A malformed or empty hop reached before any untrusted one (a trusted proxy that
    writes "unknown" or a port) ends the walk at the last trusted hop: the client is then keyed
    under that proxy's address, which can lock out more people than it should but can
    never be an address the client chose.
    """
    remote = _address(request.META.get("REMOTE_ADDR"))
    if remote is None:
        return None
    networks = settings.KAOHE_TRUSTED_PROXIES
    if not _trusted(remote, networks):
        return str(remote)
    hop = remote
    for entry in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _address(entry)
        if address is None:
            break
        hop = address
        if not _trusted(hop, networks):
            break
    return str(hop)
