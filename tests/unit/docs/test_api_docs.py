"""docs/api/reels_api.md against the contract: envoy/reels_descriptor.pb (what Envoy transcodes).

Every `google.api.http` rule must have exactly one `### METHOD /path` section that states
the RPC's access policy, lists in an error table every gRPC code the RPC's proto comment
names (with the HTTP status Envoy's transcoder gives it) and shows a curl call of the same
method on a concrete path of the same template. A route added to a proto (and regenerated
with `make protos`) without its section fails here.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2
from reels.common.v1 import access_pb2

from reels_runtime.envoy_config import gateway_values

REPO = Path(__file__).resolve().parents[3]
DOC = REPO / "docs" / "api" / "reels_api.md"
DESCRIPTOR = REPO / "envoy" / "reels_descriptor.pb"
PROTOS = REPO / "protos" / "reels"

# The standard gRPC -> HTTP mapping (google.rpc.Code), as Envoy's transcoder applies it.
HTTP_STATUS = {
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}
_CODE_WORD = re.compile(r"\b(" + "|".join(HTTP_STATUS) + r")\b")
_HEADING = re.compile(r"^(#{1,6})\s+(GET|POST|PUT|PATCH|DELETE)\s+(\S+)\s*$", re.MULTILINE)
_SECTION_END = re.compile(r"^#{1,3}\s", re.MULTILINE)
_BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)
_TABLE_ROW = re.compile(r"^\|\s*`([A-Z_]+)`\s*\|\s*(\d{3})\s*\|", re.MULTILINE)
_GATEWAY = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    verb: str
    path: str
    access: str
    comment: str

    @property
    def key(self) -> tuple[str, str]:
        return self.verb, self.path

    @property
    def codes(self) -> set[str]:
        """Every gRPC code the RPC's proto comment names ("Returns X when ...")."""
        return set(_CODE_WORD.findall(self.comment))

    def matches(self, concrete_path: str) -> bool:
        pattern = "".join(
            "[^/{}]+" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^}]+\})", self.path)
        )
        return re.fullmatch(pattern, concrete_path) is not None


@cache
def routes() -> tuple[Route, ...]:
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR.read_bytes()).file
    found = []
    for file in files:
        comments = {tuple(loc.path): loc.leading_comments for loc in file.source_code_info.location}
        for s, service in enumerate(file.service):
            for m, method in enumerate(service.method):
                if not method.options.HasExtension(annotations_pb2.http):
                    continue
                rule = method.options.Extensions[annotations_pb2.http]
                verb = rule.WhichOneof("pattern")
                assert verb in ("get", "post", "put", "patch", "delete"), method.name
                access = access_pb2.Access.Name(method.options.Extensions[access_pb2.access])
                found.append(
                    Route(
                        service=service.name,
                        method=method.name,
                        verb=verb.upper(),
                        path=getattr(rule, verb),
                        access=access,
                        # path 6 = FileDescriptorProto.service, 2 = ServiceDescriptorProto.method
                        comment=comments.get((6, s, 2, m), ""),
                    )
                )
    return tuple(found)


@cache
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def headings() -> list[tuple[str, str, str]]:
    """(level, verb, path) of every heading that names an HTTP route."""
    return [(match[1], match[2], match[3]) for match in _HEADING.finditer(doc())]


def section(route: Route) -> str:
    text = doc()
    match = re.search(
        rf"^###\s+{route.verb}\s+{re.escape(route.path)}\s*$", text, flags=re.MULTILINE
    )
    assert match is not None, f"no section `### {route.verb} {route.path}` for {route.method}"
    end = _SECTION_END.search(text, match.end())
    return text[match.end() : end.start() if end else len(text)]


def _commands(block: str) -> list[str]:
    """The block's commands: lines joined across `\\` continuations and open quotes."""
    commands, pending = [], ""
    for line in block.splitlines():
        pending = f"{pending}\n{line}" if pending else line
        if pending.endswith("\\"):
            pending = pending[:-1]
            continue
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # a quote still open: the command goes on
            continue
        commands.append(pending.strip())
        pending = ""
    return commands


def curl_calls(text: str) -> list[tuple[str, str]]:
    """(method, path) of every curl call to the local gateway in the bash blocks."""
    calls = []
    for block in _BASH_BLOCK.findall(text):
        for command in _commands(block):
            if not command.startswith("curl ") and " curl " not in command:
                continue
            words = shlex.split(command[command.index("curl ") :], comments=True)
            method = None
            implied_post = False
            url = None
            for i, word in enumerate(words):
                if word in ("-X", "--request"):
                    method = words[i + 1].upper()
                elif word.startswith("-X") and len(word) > 2:
                    method = word[2:].upper()
                elif word in ("-d", "-F", "--json", "--form") or word.startswith("--data"):
                    implied_post = True
                elif word.startswith(_GATEWAY):
                    url = word
            if url is None:
                continue
            path = url[len(_GATEWAY) :].split("?", 1)[0].split("#", 1)[0]
            calls.append((method or ("POST" if implied_post else "GET"), path))
    return calls


def error_table(text: str) -> dict[str, int]:
    rows: dict[str, int] = {}
    for code, status in _TABLE_ROW.findall(text):
        assert code not in rows, f"{code} twice in one error table"
        rows[code] = int(status)
    return rows


def _ids(route: Route) -> str:
    return f"{route.service}.{route.method}"


def test_the_descriptor_has_the_routes_and_their_comments() -> None:
    assert routes(), "no google.api.http rule found in the descriptor set"
    # The descriptor set is built with --include_source_info; without it no comment, so
    # no error code, would ever be checked.
    missing = [_ids(r) for r in routes() if not r.comment.strip()]
    assert not missing, f"no leading comment in the descriptor for {missing}"
    # A rule added to a proto without `make protos` must not slip past this test either.
    rules = sum(p.read_text().count("(google.api.http)") for p in PROTOS.rglob("*.proto"))
    assert rules == len(routes()), "envoy/reels_descriptor.pb is stale: run `make protos`"


def test_every_route_has_exactly_one_heading_and_no_heading_is_invented() -> None:
    found = headings()
    known = {route.key for route in routes()}
    invented = [f"{verb} {path}" for _, verb, path in found if (verb, path) not in known]
    assert not invented, f"headings naming no route of the contract: {invented}"
    wrong_level = [f"{verb} {path}" for level, verb, path in found if level != "###"]
    assert not wrong_level, f"route headings must be level 3 (###): {wrong_level}"
    counts = {key: 0 for key in known}
    for _, verb, path in found:
        counts[(verb, path)] += 1
    undocumented = [f"{verb} {path}" for (verb, path), n in counts.items() if n == 0]
    assert not undocumented, f"routes without a section in {DOC.name}: {undocumented}"
    repeated = [f"{verb} {path}" for (verb, path), n in counts.items() if n > 1]
    assert not repeated, f"routes with more than one section: {repeated}"


@pytest.mark.parametrize("route", routes(), ids=_ids)
def test_section_states_the_access_level(route: Route) -> None:
    text = section(route)
    stated = re.findall(r"Access:\s*`(ACCESS_[A-Z]+)`", text)
    assert stated == [route.access], f"{_ids(route)} is {route.access}; the section says {stated}"


@pytest.mark.parametrize("route", routes(), ids=_ids)
def test_error_table_lists_every_code_of_the_proto_comment(route: Route) -> None:
    table = error_table(section(route))
    wrong = {code: status for code, status in table.items() if HTTP_STATUS.get(code) != status}
    assert not wrong, f"{_ids(route)}: wrong HTTP status (or unknown code) {wrong}"
    expected = set(route.codes)
    if route.access != "ACCESS_PUBLIC":
        expected.add("UNAUTHENTICATED")
    missing = sorted(expected - set(table))
    assert not missing, f"{_ids(route)}: the error table lacks {missing}"


@pytest.mark.parametrize("route", routes(), ids=_ids)
def test_section_has_a_curl_example_of_the_route(route: Route) -> None:
    calls = curl_calls(section(route))
    assert calls, f"{_ids(route)}: no curl call to {_GATEWAY} in a ```bash block"
    matching = [(m, p) for m, p in calls if m == route.verb and route.matches(p)]
    assert matching, f"{_ids(route)}: no curl call is `{route.verb} {route.path}`: {calls}"


def test_rate_limit_defaults_are_the_gateways() -> None:
    values = gateway_values({})
    text = doc()
    for variable, key in (
        ("GATEWAY_RATE_LIMIT_PER_SECOND", "RATE_LIMIT_PER_SECOND"),
        ("GATEWAY_RATE_LIMIT_BURST", "RATE_LIMIT_BURST"),
    ):
        row = rf"^\|\s*`{variable}`\s*\|[^\n]*?\|\s*`?(\d+)`?\s*\|"
        stated = re.search(row, text, flags=re.MULTILINE)
        assert stated, f"{DOC.name} does not state {variable} with its default in a table"
        assert stated[1] == values[key], f"{variable} defaults to {values[key]}, not {stated[1]}"


def test_the_curl_parser_reads_methods_and_paths() -> None:
    sample = (
        "```bash\n"
        'curl -s -X DELETE -H "Authorization: Bearer $TOKEN" \\\n'
        "  http://127.0.0.1:8080/api/v1/reels/abc\n"
        "curl -s -F file=@clip.mp4 http://127.0.0.1:8080/api/v1/reels/upload\n"
        "curl -s 'http://127.0.0.1:8080/api/v1/reels/search?q=cats'\n"
        'curl -s -d \'{"a": 1,\n  "b": 2}\' http://127.0.0.1:8080/api/v1/reels/x/events\n'
        "```\n"
    )
    assert curl_calls(sample) == [
        ("DELETE", "/api/v1/reels/abc"),
        ("POST", "/api/v1/reels/upload"),
        ("GET", "/api/v1/reels/search"),
        ("POST", "/api/v1/reels/x/events"),
    ]
    route = Route("S", "M", "POST", "/api/v1/reels/uploads/{upload_id}:complete", "", "")
    assert route.matches("/api/v1/reels/uploads/u-1:complete")
    assert not route.matches("/api/v1/reels/uploads/{upload_id}:complete")
    assert not route.matches("/api/v1/reels/uploads/a/b:complete")
