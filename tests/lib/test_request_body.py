"""A request's body read past gunicorn's buffers (kaohe.lib.request_body): the same bytes as
gunicorn would give, gunicorn's own state left as if it had given them, anything else read
through the request."""

import hashlib
import io
import socket
import threading

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.http.request import RawPostDataException
from django.test import RequestFactory
from gunicorn.http.body import Body, ChunkedReader, LengthReader
from gunicorn.http.unreader import SocketUnreader

from kaohe.evidence import receiving
from kaohe.lib.request_body import _GunicornSocket, _ReadThrough, body_source

BODY = bytes(range(256)) * 4096  # 1 MiB
NEXT_REQUEST = b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.fixture
def sockets():
    server, client = socket.socketpair()
    yield server, client
    server.close()
    client.close()


def _send(client, data, *, close=False):
    """Send from a thread: a socket pair holds less than the body until it is read."""
    def send():
        client.sendall(data)
        if close:
            client.shutdown(socket.SHUT_WR)
    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def _request(body_stream, length):
    """The WSGIRequest Django makes of gunicorn's environ with this body."""
    template = RequestFactory().generic("PATCH", "/evidence/uploads/x/", data=b"",
                                        content_type="application/offset+octet-stream")
    return WSGIRequest({**template.META, "wsgi.input": body_stream,
                        "CONTENT_LENGTH": str(length)})


def _gunicorn_body(server, *, received=b"", held=b""):
    """gunicorn's Body of BODY over `server`, having received `received` with the headers
    (in its unreader) and handed `held` to its Body's buffer already."""
    unreader = SocketUnreader(server)
    if received:
        unreader.unread(received)
    reader = LengthReader(unreader, len(BODY) - len(held))
    body = Body(reader)
    body.buf.write(held)
    return body, reader, unreader


def _read_all(source, size=64 * 1024):
    parts = []
    view = memoryview(bytearray(size))
    while count := source.readinto(view):
        parts.append(bytes(view[:count]))
    return b"".join(parts)


def test_the_body_comes_from_the_buffers_then_the_socket_and_the_next_request_stays(sockets):
    server, client = sockets
    held, received = BODY[:1000], BODY[1000:5000]
    _send(client, BODY[5000:] + NEXT_REQUEST)
    body, reader, unreader = _gunicorn_body(server, received=received, held=held)
    request = _request(body, len(BODY))

    source = body_source(request)
    assert isinstance(source, _GunicornSocket)
    assert _read_all(source) == BODY
    # gunicorn finds the body consumed and the next request where it starts.
    assert reader.length == 0 and body.read() == b""
    assert unreader.read(len(NEXT_REQUEST)) == NEXT_REQUEST
    # Django refuses to read the body a second time, as after request.read().
    with pytest.raises(RawPostDataException):
        request.body  # noqa: B018


def test_a_pipelined_request_received_with_the_body_is_left_for_gunicorn(sockets):
    server, _client = sockets
    body, reader, unreader = _gunicorn_body(server, received=BODY + NEXT_REQUEST)
    assert _read_all(body_source(_request(body, len(BODY)))) == BODY
    assert reader.length == 0
    assert unreader.take_buffered() == NEXT_REQUEST


def test_a_client_gone_midway_ends_the_body_with_what_arrived(sockets):
    server, client = sockets
    _send(client, BODY[:300_000], close=True)
    body, reader, _unreader = _gunicorn_body(server)
    assert _read_all(body_source(_request(body, len(BODY)))) == BODY[:300_000]
    assert reader.length == len(BODY) - 300_000


def test_a_socket_error_marks_the_connection_unusable(sockets):
    server, _client = sockets
    server.settimeout(0.01)
    body, _reader, _unreader = _gunicorn_body(server)
    source = body_source(_request(body, len(BODY)))
    with pytest.raises(TimeoutError):
        source.readinto(memoryview(bytearray(10)))
    assert body.failed


def test_an_upload_receives_the_same_bytes_and_hash_through_either_path(sockets, monkeypatch,
                                                                        tmp_path):
    monkeypatch.setattr(receiving, "CHUNK_BYTES", 100_000)  # several buffers, reused in turn
    server, client = sockets
    _send(client, BODY[4000:])
    body, _reader, _unreader = _gunicorn_body(server, received=BODY[100:4000],
                                              held=BODY[:100])
    for request in (_request(body, len(BODY)), io.BytesIO(BODY)):
        path = tmp_path / "partial"
        with open(path, "wb") as partial:
            copying = receiving.Receiving(hashlib.sha256(), start=0)
            copying.copy(request, len(BODY), partial)
        assert path.read_bytes() == BODY and copying.written == len(BODY)
        assert copying.digest.hexdigest() == hashlib.sha256(BODY).hexdigest()


@pytest.mark.parametrize("case", ["read started", "chunked", "test client"])
def test_anything_else_is_read_through_the_request(sockets, case):
    server, _client = sockets
    if case == "chunked":
        stream = Body(ChunkedReader(None, SocketUnreader(server)))
        request = _request(stream, len(BODY))
    elif case == "read started":
        stream, _reader, _unreader = _gunicorn_body(server, received=BODY)
        request = _request(stream, len(BODY))
        assert request.read(10) == BODY[:10]
    else:
        request = RequestFactory().generic("PATCH", "/x/", data=BODY,
                                           content_type="application/offset+octet-stream")
    source = body_source(request)
    assert isinstance(source, _ReadThrough)
    if case != "chunked":
        assert _read_all(source).endswith(BODY[10:])
