"""What the host gives a call: configuration, secrets, the (possibly frozen) wall clock,
and `send`, a blocking HTTP client over `wasi:http/outgoing-handler` (the host's egress
granter decides which hosts answer)."""

from componentize_py_types import Err, Ok
from wit_world.imports import config, outgoing_handler, wall_clock
from wit_world.imports import wasi_http_types as http
from wit_world.imports.streams import StreamError_Closed

from .api import Response
from .errors import Fail, PERMANENT, TRANSIENT, UNAUTHORIZED

MAX_BODY = 16 * 1024 * 1024

METHODS = {
    "GET": http.Method_Get(),
    "POST": http.Method_Post(),
    "PUT": http.Method_Put(),
    "DELETE": http.Method_Delete(),
    "PATCH": http.Method_Patch(),
    "HEAD": http.Method_Head(),
}


def get(key):
    return config.get(key)


def require_secret(key):
    v = config.secret(key)
    if v is None:
        raise Fail(UNAUTHORIZED, f"secret `{key}` is not set")
    return v


def now_ms():
    t = wall_clock.now()
    return t.seconds * 1000 + t.nanoseconds // 1_000_000


def _transport_error(authority, code):
    if isinstance(code, http.ErrorCode_HttpRequestDenied):
        return Fail(PERMANENT, f"egress to {authority} was refused by the sandbox (not granted)")
    return Fail(TRANSIENT, f"{authority}: {type(code).__name__.removeprefix('ErrorCode_')}")


def _unwrap(e):
    return e.value if isinstance(e, Err) else e


def send(method, url, headers, body):
    """One HTTP exchange, the whole response read (bounded)."""
    if url.startswith("https://"):
        scheme, rest = http.Scheme_Https(), url[len("https://"):]
    elif url.startswith("http://"):
        scheme, rest = http.Scheme_Http(), url[len("http://"):]
    else:
        raise Fail(PERMANENT, f"not an http(s) URL: {url!r}")
    cut = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0], default=len(rest))
    authority, path = rest[:cut], rest[cut:] or "/"
    if path.startswith("?"):
        path = "/" + path
    fields = http.Fields.from_list([(k, v.encode()) for k, v in headers])
    req = http.OutgoingRequest(fields)
    req.set_method(METHODS.get(method) or http.Method_Other(method))
    req.set_scheme(scheme)
    req.set_authority(authority)
    req.set_path_with_query(path)
    out_body = req.body()
    if body:
        stream = out_body.write()
        for i in range(0, len(body), 4096):
            stream.blocking_write_and_flush(body[i:i + 4096])
        stream.__exit__(None, None, None)
    try:
        future = outgoing_handler.handle(req, None)
    except Err as e:
        raise _transport_error(authority, _unwrap(e)) from None
    http.OutgoingBody.finish(out_body, None)
    while True:
        got = future.get()
        if got is not None:
            break
        future.subscribe().block()
    if isinstance(got, Err) or not isinstance(got, Ok):
        raise Fail(TRANSIENT, "response already taken")
    result = got.value
    if isinstance(result, Err):
        raise _transport_error(authority, result.value)
    resp = result.value if isinstance(result, Ok) else result
    status = resp.status()
    resp_headers = [(k, v.decode("utf-8", "replace")) for k, v in resp.headers().entries()]
    incoming = resp.consume()
    stream = incoming.stream()
    chunks, size = [], 0
    while True:
        try:
            chunk = stream.blocking_read(64 * 1024)
        except Err as e:
            if isinstance(e.value, StreamError_Closed):
                break
            raise Fail(TRANSIENT, f"reading response: {e.value}") from None
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY:
            raise Fail(PERMANENT, f"response body over {MAX_BODY} bytes")
    stream.__exit__(None, None, None)
    return Response(status, resp_headers, b"".join(chunks))
