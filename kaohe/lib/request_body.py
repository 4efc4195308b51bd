"""A request's body read into the caller's buffer, at the speed of the socket.

Gunicorn hands a WSGI application the body through buffers of its own: every byte is
copied five or six times between the socket and the application (each receive into a
BytesIO, out of it, sliced, into the Body's BytesIO, out again). For a 1 GiB upload that
cost 2 CPU seconds of the 3 the upload took (profiled with py-spy, bench_upload.py). So when
the body is gunicorn's, of a known length, on a plain socket and not yet read, its bytes
are taken the way gunicorn itself would give them: first what gunicorn has already received
(its Body's and its unreader's buffers), then straight from the socket with recv_into,
counting down the reader's length so that gunicorn finds the body consumed and the
connection where the next request starts. Anything else (Django's test client, the
development server, a chunked body, a body partly read) is read through the request as
usual, one copy more.

    source = body_source(request)
    n = source.readinto(view)    # 0: the body ended, or the client went away before it did
"""

from __future__ import annotations

import io
from typing import Any, Protocol

from gunicorn.http.body import Body, LengthReader
from gunicorn.http.unreader import SocketUnreader


class BodySource(Protocol):
    def readinto(self, view: memoryview) -> int: ...


class _ReadThrough:
    """Any stream with read(size): the request as Django gives it, a BytesIO in a test."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def readinto(self, view: memoryview) -> int:
        data = self.stream.read(len(view))
        view[:len(data)] = data
        return len(data)


class _GunicornSocket:
    """A gunicorn Body of known length over a socket, read without gunicorn's copies."""

    def __init__(self, body: Body, reader: LengthReader, unreader: SocketUnreader) -> None:
        self.body = body
        self.reader = reader
        self.unreader = unreader

    def readinto(self, view: memoryview) -> int:
        wanted = len(view)
        if not wanted:
            return 0
        # 1. What the Body holds: bytes its reader already counted off.
        held = self.body.buf.getvalue()
        if held:
            self.body.buf = io.BytesIO()
            self.body.buf.write(held[wanted:])
            taken = held[:wanted]
            view[:len(taken)] = taken
            return len(taken)
        size = min(wanted, self.reader.length)
        if size <= 0:
            return 0
        # 2. What the unreader received beyond the headers (or a previous read); it may run
        # past this body into a pipelined request, which stays for gunicorn.
        held = self.unreader.take_buffered()
        if held:
            self.unreader.unread(held[size:])
            taken = held[:size]
        else:
            # 3. The socket itself. OSError (the client went away, a timeout) propagates,
            # and the Body is marked so that gunicorn does not reuse the connection.
            try:
                count: int = self.unreader.sock.recv_into(view, size)
            except BaseException:
                self.body.failed = True
                raise
            self.reader.length -= count
            return count
        view[:len(taken)] = taken
        self.reader.length -= len(taken)
        return len(taken)


def body_source(body: Any) -> BodySource:
    """How to read `body` (a Django request, or any stream with read()) into a buffer."""
    environ = getattr(body, "META", None)
    if environ is not None and not getattr(body, "_read_started", True):
        stream = environ.get("wsgi.input")
        reader = getattr(stream, "reader", None)
        unreader = getattr(reader, "unreader", None)
        if (type(stream) is Body and type(reader) is LengthReader
                # isinstance for the type checker; `type is`: no subclass of it either
                and isinstance(unreader, SocketUnreader) and type(unreader) is SocketUnreader
                and hasattr(unreader, "take_buffered") and hasattr(unreader.sock, "recv_into")):
            # Django's own reads of this request would now start mid-body: refuse them
            # (request.body raises RawPostDataException) as Django does after a read().
            body._read_started = True
            return _GunicornSocket(stream, reader, unreader)
    return _ReadThrough(body)
