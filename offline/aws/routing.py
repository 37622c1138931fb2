"""Which local service answers a request, decided as AWS's front ends decide it.

On AWS every service has its own host; here one URL serves them all (`AWS_ENDPOINT_URL` alone is enough
for boto3), so the host rarely helps and a path alone never decides: an S3 bucket may be named
`sagemaker` or hold keys like `human-loops/x`. A request goes to, in this order:

1. the service the caller already knows: the in-process hook reads it from botocore's event name, which
   spells it as the hyphenated service id (`sfn` for stepfunctions);
2. for a SigV4-signed request, one of the registered services that sign with the credential scope's
   service name (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`, in the Authorization header or a
   presigned URL's X-Amz-Credential). Several services share a signing name (sagemaker,
   sagemaker-runtime and sagemaker-a2i-runtime all sign as `sagemaker`); among them the one whose
   endpoint the Host names (`a2i-runtime.sagemaker.us-east-1.amazonaws.com`) wins, else the one whose
   operations the request's shape matches most specifically: `X-Amz-Target: <targetPrefix>.<Operation>`
   (json), a form `Action` (query), or method and path against the operations' `requestUri` templates
   (rest-json, rest-xml; the template with the most literal characters wins, so S3's `/{Bucket}/{Key+}`
   loses to any literal path of a service that signs as `s3`; in S3's virtual-hosted style the host's first
   label stands in for the bucket). No match is a `NotImplemented` error;
3. for an unsigned request: an X-Amz-Target naming a registered json service, a form whose Action (and
   Version) belong to a registered query service, else the service registered as `anonymous` (S3, which
   answers anonymous requests) when one of its templates fits; otherwise `MissingAuthenticationToken`.

Everything but the registration comes from botocore's model of the service (`signingName`,
`endpointPrefix`, `protocol`, `targetPrefix`, `apiVersion`, each operation's `requestUri`), so a new
service is one line in `BUILT_IN`: `ServiceEntry("sagemaker-a2i-runtime", "offline.aws.a2i.service:A2IRuntimeService")`
(or `register_service(...)` at run time).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from botocore.utils import CLIENT_NAME_TO_HYPHENIZED_SERVICE_ID_OVERRIDES

from offline.aws.errors import NotImplementedByLocalRuntime, ServiceError
from offline.aws.shapes import is_service, service_model
from offline.aws.wire import Request


@dataclass(frozen=True)
class ServiceEntry:
    """One registered local service."""

    name: str  # botocore's service name, as in boto3.client(name)
    factory: str  # "module:Class"; Class(runtime) builds the service on first use
    anonymous: bool = False  # answers unsigned requests no other service claims (S3's anonymous access)

    @property
    def service_id(self) -> str:
        """The hyphenated service id botocore puts in event names (`sfn` for stepfunctions)."""
        return CLIENT_NAME_TO_HYPHENIZED_SERVICE_ID_OVERRIDES.get(self.name, self.name)

    @property
    def endpoint_env_var(self) -> str:
        """The variable botocore reads for this service's endpoint (`AWS_ENDPOINT_URL_SFN`)."""
        return "AWS_ENDPOINT_URL_" + self.service_id.replace("-", "_").upper()


# The services every process serves locally (the in-process hook, LocalAWSServer, `mlops local serve`).
# A new service is one entry here; its class is imported on first use only.
BUILT_IN = (
    ServiceEntry("sagemaker", "offline.aws.sagemaker.service:SageMakerService"),
    ServiceEntry("sagemaker-runtime", "offline.aws.sagemaker_runtime.service:SageMakerRuntimeService"),
    ServiceEntry("sts", "offline.aws.sts.service:STSService"),
    ServiceEntry("stepfunctions", "offline.aws.states.service:StatesService"),
    ServiceEntry("s3", "offline.aws.s3.service:S3Service", anonymous=True),
    ServiceEntry("sagemaker-a2i-runtime", "offline.aws.a2i.service:A2IRuntimeService"),
    ServiceEntry("scheduler", "offline.aws.scheduler.service:SchedulerService"),
)
SERVICES: dict[str, ServiceEntry] = {entry.name: entry for entry in BUILT_IN}


def register_service(name: str, factory: str, *, anonymous: bool = False) -> None:
    """Serve botocore's service `name` locally: `factory` is "module:Class", Class(runtime) builds it.

    Routing needs nothing more: it reads the signing name, endpoint prefix, protocol, target prefix and
    operation paths from botocore's model of `name`.
    """
    if not is_service(name):  # fail here, not on the first request
        raise ValueError(f"botocore knows no service named {name!r} (boto3.client's name, e.g. 'stepfunctions')")
    SERVICES[name] = ServiceEntry(name, factory, anonymous)


class MissingAuthenticationToken(ServiceError):
    code = "MissingAuthenticationToken"
    status = 403


# -- what botocore's model says about a registered service ------------------------------------------------

_TARGET_SCORE = 1_000_000  # an X-Amz-Target or a form Action names the operation outright
_AWS_HOST_TAIL = re.compile(r"^(?:[a-z]{2}(?:-[a-z]+)+-\d+\.)?amazonaws\.com(?:\.cn)?$")
_LABEL = re.compile(r"\{[^}]+\}")


@dataclass(frozen=True)
class _Template:
    method: str
    pattern: re.Pattern
    literal: int  # characters outside {labels}: how specific the template is


@dataclass(frozen=True)
class ServiceRoute:
    entry: ServiceEntry
    signing_name: str
    endpoint_prefix: str
    protocol: str
    target_prefix: str
    api_version: str
    operations: frozenset[str]
    templates: tuple[_Template, ...]

    @classmethod
    def of(cls, entry: ServiceEntry) -> ServiceRoute:
        model = service_model(entry.name)
        meta = model.metadata
        protocol = meta.get("protocol", "")
        templates = ()
        if protocol.startswith("rest-"):
            templates = tuple(  # distinct ones only: S3's ~100 operations share a handful of paths
                dict.fromkeys(
                    _template(op.http.get("method", "GET"), op.http.get("requestUri", "/"))
                    for op in (model.operation_model(name) for name in model.operation_names)
                )
            )
        return cls(
            entry=entry,
            signing_name=meta.get("signingName") or meta.get("endpointPrefix") or entry.name,
            endpoint_prefix=meta.get("endpointPrefix", entry.name),
            protocol=protocol,
            target_prefix=meta.get("targetPrefix", ""),
            api_version=meta.get("apiVersion", ""),
            operations=frozenset(model.operation_names),
            templates=templates,
        )

    def names_host(self, host: str) -> bool:
        """Whether `host` is this service's AWS endpoint (`<endpointPrefix>[.<region>].amazonaws.com`)."""
        name = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else host
        prefix = self.endpoint_prefix + "."
        return name.startswith(prefix) and _AWS_HOST_TAIL.match(name[len(prefix) :]) is not None

    def score(self, request: Request) -> int | None:
        """How specifically the request's shape matches one of this service's operations (None: not at all)."""
        if self.protocol == "json":
            prefix, _, name = request.headers.get("x-amz-target", "").rpartition(".")
            return _TARGET_SCORE if prefix == self.target_prefix and name else None
        if self.protocol in ("query", "ec2"):
            form = _form_if_any(request)
            if form.get("Action") in self.operations and form.get("Version", self.api_version) == self.api_version:
                return _TARGET_SCORE
            return None
        scores = self._path_scores(request.method, request.raw_path)
        if not scores and self.protocol == "rest-xml" and _is_dns_name(request.host):
            # S3's virtual-hosted style: the bucket is the host's first label, not the path's first segment
            bucket = request.host.split(".", 1)[0]
            scores = self._path_scores(request.method, f"/{bucket}{request.raw_path.rstrip('/')}")
        return max(scores, default=None)

    def _path_scores(self, method: str, path: str) -> list[int]:
        return [t.literal for t in self.templates if t.method == method and t.pattern.match(path)]


def _template(method: str, request_uri: str) -> _Template:
    path = request_uri.partition("?")[0]
    regex = ""
    for piece in re.split(r"(\{[^}]+\})", path):
        if _LABEL.fullmatch(piece):
            regex += ".+" if piece.endswith("+}") else "[^/]+"
        else:
            regex += re.escape(piece)
    literal = len(_LABEL.sub("", path))
    return _Template(method, re.compile(f"^{regex}/?$"), literal)


def _is_dns_name(host: str) -> bool:
    """A dotted host name (not an IP address), which may carry an S3 bucket as its first label."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return "." in name
    return False


def _form_if_any(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").lower()
    if request.method == "POST" and not content_type.startswith("application/x-www-form-urlencoded"):
        return {}
    return request.form()


# -- the decision -----------------------------------------------------------------------------------------


class Router:
    """The routing table of a set of registered services (built once; rebuilt when the set changes)."""

    def __init__(self, entries: Iterable[ServiceEntry]):
        self.routes = [ServiceRoute.of(entry) for entry in entries]
        self._by_known = {}
        for route in self.routes:
            self._by_known.setdefault(route.entry.name, route.entry.name)
            self._by_known.setdefault(route.entry.service_id, route.entry.name)
        self._by_signing: dict[str, list[ServiceRoute]] = {}
        for route in self.routes:
            self._by_signing.setdefault(route.signing_name, []).append(route)
        self._by_target = {r.target_prefix: r for r in self.routes if r.protocol == "json" and r.target_prefix}

    def known(self, service: str) -> str | None:
        """The registered name for a service name or botocore service id, if it is served locally."""
        return self._by_known.get(service)

    def route(self, request: Request, signing_service: str | None) -> str:
        """The name of the registered service for a request that arrived over HTTP; raises ServiceError."""
        if signing_service is not None:
            return self._signed(request, signing_service)
        return self._unsigned(request)

    def _signed(self, request: Request, signing_service: str) -> str:
        candidates = self._by_signing.get(signing_service, [])
        if not candidates:
            raise NotImplementedByLocalRuntime(signing_service, _operation_named(request))
        for route in candidates:
            if route.names_host(request.host):
                return route.entry.name
        best = _most_specific(candidates, request)
        if best is None:
            served = ", ".join(r.entry.name for r in candidates)
            raise ServiceError.of(
                "NotImplemented",
                f"{request.method} {request.raw_path}, signed for {signing_service}, matches no operation of the "
                f"local services that sign as {signing_service} ({served})",
                501,
            )
        return best.entry.name

    def _unsigned(self, request: Request) -> str:
        target = request.headers.get("x-amz-target")
        if target:
            route = self._by_target.get(target.rpartition(".")[0])
            if route is None:
                raise MissingAuthenticationToken(
                    f"X-Amz-Target {target.rpartition('.')[0]!r} names no local service, and the request is not "
                    "signed: sign it with SigV4 (any AWS SDK does) so its credential scope names the service"
                )
            return route.entry.name
        queries = [r for r in self.routes if r.protocol in ("query", "ec2")]
        best = _most_specific(queries, request) if queries and _form_if_any(request).get("Action") else None
        if best is not None:
            return best.entry.name
        anonymous = [r for r in self.routes if r.entry.anonymous]
        best = _most_specific(anonymous, request)
        if best is not None:
            return best.entry.name
        raise MissingAuthenticationToken(
            f"{request.method} {request.raw_path} is not signed, so the local server cannot tell which service it is "
            "for: sign it with SigV4 (any AWS SDK does; the credential scope names the service) or, for a json "
            "protocol, send X-Amz-Target"
        )


def _most_specific(routes: list[ServiceRoute], request: Request) -> ServiceRoute | None:
    best, best_score = None, -1
    for route in routes:
        score = route.score(request)
        if score is not None and score > best_score:  # ties: the first registered
            best, best_score = route, score
    return best


def _operation_named(request: Request) -> str | None:
    """The operation an X-Amz-Target or a query form names, for the error about a service not served."""
    return request.headers.get("x-amz-target", "").rpartition(".")[2] or _form_if_any(request).get("Action") or None


_ROUTER: tuple[tuple[ServiceEntry, ...], Router] | None = None


def router() -> Router:
    """The router for the services registered now (model metadata is read once per set of services)."""
    global _ROUTER
    entries = tuple(SERVICES.values())
    cached = _ROUTER
    if cached is None or cached[0] != entries:
        cached = _ROUTER = (entries, Router(entries))
    return cached[1]
