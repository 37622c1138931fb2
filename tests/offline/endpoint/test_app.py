"""The container contract over real HTTP: ping, invocations in CSV and JSON, and every bad request."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import pytest

from offline.endpoint.settings import MAX_PAYLOAD_BYTES

from .conftest import ENDPOINT, Client, error_message


def test_ping_answers_healthy(client):
    status, headers, body = client.request("GET", "/ping")
    assert status == 200
    assert json.loads(body) == {"status": "Healthy"}
    assert headers["content-type"] == "application/json"
    assert "date" in headers


def test_one_csv_row_answers_probability_label_and_review_flag(client, rows):
    status, headers, body = client.post("/invocations", rows[0])
    assert status == 200, body
    assert headers["content-type"] == "text/csv"
    probability, label, review = body.decode().strip().split(",")
    assert 0.0 <= float(probability) <= 1.0
    assert int(label) == int(float(probability) >= 0.5)
    assert int(review) == int(0.1 < float(probability) < 0.9)


def test_many_csv_rows_answer_one_line_each_in_order(client, rows):
    status, _, body = client.post("/invocations", "\n".join(rows[:5]) + "\n")
    assert status == 200, body
    lines = body.decode().splitlines()
    assert len(lines) == 5
    singles = [client.post("/invocations", row)[2].decode().strip() for row in rows[:5]]
    assert lines == singles


def test_json_in_json_out(client, rows):
    instances = [[float(v) for v in row.split(",")] for row in rows[:3]]
    status, headers, body = client.post("/invocations", json.dumps({"instances": instances}), "application/json")
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    predictions = json.loads(body)["predictions"]
    assert len(predictions) == 3
    csv_scores = [float(client.post("/invocations", row)[2].split(b",")[0]) for row in rows[:3]]
    assert [p["score"] for p in predictions] == pytest.approx(csv_scores)
    assert all(set(p) == {"score", "predicted_label", "needs_review"} for p in predictions)


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "status", "words"),
    [
        ("", "text/csv", None, 400, "empty"),
        ("1,2,3", "text/csv", None, 400, "expected 30 features"),
        ("1,2\n3,4,5", "text/csv", None, 400, "row 2 has 3 values"),
        (",".join(["x"] * 30), "text/csv", None, 400, "is not a number"),
        ('{"instances": [[1, 2', "application/json", None, 400, "malformed JSON"),
        ('{"rows": []}', "application/json", None, 400, "instances"),
        (json.dumps([["a"] * 30]), "application/json", None, 400, "is not a number"),
        ("[" * 100_000 + "]" * 100_000, "application/json", None, 400, "nested too deeply"),  # not a RecursionError
        ("[" + "9" * 5000 + "]", "application/json", None, 400, "5000 digits"),  # not int()'s ValueError
        (",".join(["1_0"] * 30), "text/csv", None, 400, "'1_0' is not a number"),  # float() would read 10
        ("1,2,3", "text/plain", None, 415, "not supported"),
        ("1,2,3", None, None, 415, "not supported"),
        ("ROW", "text/csv", "image/png", 406, "accept type"),
        (b"\xff\xfe", "text/csv", None, 400, "not UTF-8"),
    ],
)
def test_bad_requests_get_their_status_and_a_json_message(client, rows, body, content_type, accept, status, words):
    if body == "ROW":
        body = rows[0]
    headers = {"Accept": accept} if accept else {}
    got, response_headers, answer = client.post("/invocations", body, content_type, **headers)
    assert got == status, answer
    assert response_headers["content-type"] == "application/json"
    assert words in error_message(answer)
    assert client.post("/invocations", rows[0])[0] == 200  # the same connection keeps serving


def test_unknown_route_and_wrong_methods(client):
    status, _, body = client.request("GET", "/nope")
    assert status == 404 and "no route" in error_message(body)
    status, _, body = client.request("GET", "/invocations")
    assert status == 405 and "POST" in error_message(body)
    status, _, body = client.request("POST", "/ping", b"")
    assert status == 405 and "GET" in error_message(body)


def test_declared_body_over_6_mib_gets_413_before_it_is_sent(host, rows):
    with _raw(host) as sock:
        head = (
            f"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
            f"Content-Length: {MAX_PAYLOAD_BYTES + 1}\r\n\r\n"
        )
        sock.sendall(head.encode() + b"1," * 4096)  # 8 KiB of a 6 MiB body, then wait for the answer
        answer = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in answer.lower()
    assert b"6 MiB" in answer
    assert Client(host.url).post("/invocations", rows[0])[0] == 200


def test_chunked_body_over_6_mib_gets_413_as_it_passes_the_limit(host):
    with _raw(host) as sock:
        sock.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"1," * (512 * 1024)  # 1 MiB
        try:
            for _ in range(7):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close before the client finished sending
        answer = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_runtime_path_body_over_6_mib_is_a_413_validation_error(host):
    with _raw(host) as sock:
        head = (
            f"POST /endpoints/{ENDPOINT}/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
            f"Content-Length: {MAX_PAYLOAD_BYTES + 10}\r\n\r\n"
        )
        sock.sendall(head.encode())
        answer = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"x-amzn-errortype: ValidationError" in answer


def test_body_of_exactly_6_mib_is_read_and_answered(client):
    cells = ["1." + "0" * 209_711] * 29  # long decimal spellings of 1.0: one row, 30 features, 6 MiB
    cells.append("1." + "0" * (MAX_PAYLOAD_BYTES - len(",".join(cells)) - 3))
    body = ",".join(cells)
    assert len(body) == MAX_PAYLOAD_BYTES
    status, _, answer = client.post("/invocations", body)
    assert status == 200, answer[:200]


def test_pipelined_requests_are_answered_in_order(host, rows):
    request = (
        f"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: {len(rows[0])}\r\n\r\n"
        f"{rows[0]}"
    ).encode()
    ping = b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"
    closing = b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with _raw(host) as sock:
        sock.sendall(request + ping + request + closing)
        answer = _read_until_closed(sock)
    assert answer.count(b"HTTP/1.1 200 OK") == 4
    assert answer.index(b"text/csv") < answer.index(b"Healthy")


def test_http_1_0_closes_after_the_answer(host):
    with _raw(host) as sock:
        sock.sendall(b"GET /ping HTTP/1.0\r\n\r\n")
        answer = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 200 ") and b"connection: close" in answer


def test_expect_100_continue_is_honoured(host, rows):
    with _raw(host) as sock:
        body = rows[0].encode()
        sock.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nExpect: 100-continue\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(body)
        assert _read_until_closed(sock).startswith(b"HTTP/1.1 200 ")


def test_malformed_http_and_huge_headers_are_refused(host, rows):
    with _raw(host) as sock:
        sock.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        assert _read_until_closed(sock).startswith(b"HTTP/1.1 400 ")
    with _raw(host) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (70 * 1024) + b"\r\n\r\n")
        assert _read_until_closed(sock).startswith(b"HTTP/1.1 431 ")
    assert Client(host.url).post("/invocations", rows[0])[0] == 200


def _upgrade_offer(row: str, protocol: bytes = b"h2c") -> tuple[bytes, bytes]:
    """A POST offering an upgrade, as `curl --http2` sends it over http://: (head, body)."""
    body = row.encode()
    head = (
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: %s\r\n"
        b"HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n"
        % (protocol, len(body))
    )
    return head, body


def _responses(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Split a byte stream of HTTP/1.1 responses (each with content-length) into (status, headers, body)."""
    found = []
    while raw:
        head, separator, rest = raw.partition(b"\r\n\r\n")
        assert separator, raw
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        length = int(headers["content-length"])
        found.append((int(status_line.split()[1]), headers, rest[:length]))
        raw = rest[length:]
    return found


@pytest.mark.parametrize("body_later", [False, True], ids=["body-with-head", "body-after-head"])
def test_an_upgrade_offer_is_ignored_and_the_request_answered_once(host, client, rows, body_later):
    expected = client.post("/invocations", rows[0])
    head, body = _upgrade_offer(rows[0])
    closing_ping = b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with _raw(host) as sock:
        if body_later:
            sock.sendall(head)
            time.sleep(0.2)  # let the head arrive alone: the body comes in a later read
            sock.sendall(body + closing_ping)
        else:
            sock.sendall(head + body + closing_ping)
        answers = _responses(_read_until_closed(sock))
    # One answer to the offer, the same as without it, over HTTP/1.1; then the ping's (nothing else).
    assert [status for status, _, _ in answers] == [200, 200]
    assert answers[0][2] == expected[2] and answers[0][1]["content-type"] == "text/csv"
    assert answers[1][2] == b'{"status":"Healthy"}'


def test_a_websocket_offer_is_answered_as_plain_http(host):
    with _raw(host) as sock:
        sock.sendall(
            b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        answers = _responses(_read_until_closed(sock))
    assert [(status, body) for status, _, body in answers] == [(200, b'{"status":"Healthy"}')] * 2


def test_connect_is_refused_and_the_connection_closed(host):
    with _raw(host) as sock:
        sock.sendall(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nGET /ping HTTP/1.1\r\n\r\n")
        answers = _responses(_read_until_closed(sock))
    assert len(answers) == 1
    status, headers, body = answers[0]
    assert status == 405 and headers["connection"] == "close" and "not a proxy" in error_message(body)


@pytest.fixture(scope="module")
def quick_host(model_tar, tmp_path_factory):
    """A host whose request heads must arrive within 0.5 s (20 s by default), to test the deadline quickly."""
    from offline.endpoint import start_endpoint

    home = tmp_path_factory.mktemp("quick-home")
    endpoint = start_endpoint(model_data=model_tar, endpoint_name="quick", workers=1, header_timeout=0.5, home=home)
    yield endpoint
    endpoint.stop()


def test_a_head_trickling_in_byte_by_byte_gets_408_at_the_deadline(quick_host, rows):
    request = (
        f"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: {len(rows[0])}\r\n\r\n"
        f"{rows[0]}"
    ).encode()
    answer, sent = b"", 0
    with _raw(quick_host) as sock:
        sock.settimeout(0.05)
        started = time.monotonic()
        while sent < len(request) and time.monotonic() - started < 10:
            try:
                sock.sendall(request[sent : sent + 1])  # one byte every ~0.05 s: each resets any idle timer
                sent += 1
                answer += sock.recv(65536)
                break  # the server answered (or closed): stop sending
            except TimeoutError:
                continue  # nothing yet
            except OSError:
                break  # the server closed the connection
        elapsed = time.monotonic() - started
        sock.settimeout(5)
        answer += _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"connection: close" in answer and b"within 0.5 s" in answer
    assert 0.5 <= elapsed < 3, elapsed  # the deadline counts from the first byte, not from the last
    assert sent < request.index(b"\r\n\r\n")  # cut off in its head


def test_the_head_deadline_spares_split_heads_and_idle_keep_alive_connections(quick_host, rows):
    request = (
        f"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: {len(rows[0])}\r\n\r\n"
        f"{rows[0]}"
    ).encode()
    with _raw(quick_host) as sock:
        sock.sendall(request[:20])
        time.sleep(0.2)  # a head in two reads, well within its 0.5 s
        sock.sendall(request[20:])
        first = _read_response(sock)
        time.sleep(0.8)  # idle between requests for longer than the head deadline: keep-alive allows it
        sock.sendall(request)
        second = _read_response(sock)
    assert first.startswith(b"HTTP/1.1 200 ") and second.startswith(b"HTTP/1.1 200 ")
    assert first.split(b"\r\n\r\n", 1)[1] == second.split(b"\r\n\r\n", 1)[1]


def _read_response(sock: socket.socket) -> bytes:
    """One complete response (the server keeps the connection open)."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        raw += sock.recv(65536)
    head, _, body = raw.partition(b"\r\n\r\n")
    length = int(
        next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")).split(b":")[1]
    )
    while len(body) < length:
        body += sock.recv(65536)
    return raw


def _raw(host) -> socket.socket:
    parts = urlsplit(host.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    return sock


def _read_until_closed(sock: socket.socket, limit: float = 10.0) -> bytes:
    chunks, deadline = [], time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)
