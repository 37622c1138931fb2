"""Routing on one URL, as AWS's front ends do it: by the SigV4 scope's service, X-Amz-Target, the form's
Action, the host and the request's shape; never by path alone. Services that share a signing name (the
A2I runtime signs as `sagemaker`) are registered here as stubs, as the next milestones will register
theirs, and reached by real boto3 clients over HTTP and in-process."""

from __future__ import annotations

import http.client
import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from offline.aws import local_session
from offline.aws.constants import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY
from offline.aws.routing import SERVICES, Router, ServiceEntry, register_service
from offline.aws.server import LocalAWSServer
from offline.aws.wire import Headers, Request, Response

FLOW = "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/review"


class StubA2IRuntime:
    """Stands in for the A2I runtime service a later milestone adds (rest-json, signs as `sagemaker`)."""

    def __init__(self, runtime):
        self.closed = False

    def handle(self, request: Request, ctx) -> Response:
        path = request.path
        body = {"HumanLoopSummaries": [{"HumanLoopName": f"stub {request.method} {path}"}]}
        if path.startswith("/human-loops/") and request.method == "GET":
            body = {"HumanLoopName": path.rsplit("/", 1)[1], "HumanLoopStatus": "InProgress"}
        return _json(body)

    def close(self) -> None:
        self.closed = True


class StubStepFunctions:
    """Stands in for Step Functions (json 1.0, X-Amz-Target AWSStepFunctions.*, signs as `states`)."""

    def __init__(self, runtime):
        pass

    def handle(self, request: Request, ctx) -> Response:
        target = request.headers["x-amz-target"]
        return _json({"stateMachines": [{"name": target, "stateMachineArn": "arn", "type": "STANDARD"}]})


def _json(body: dict) -> Response:
    data = json.dumps(body).encode()
    return Response(200, Headers({"Content-Type": "application/json", "Content-Length": str(len(data))}), data)


@pytest.fixture
def stubs(monkeypatch):
    monkeypatch.setitem(
        SERVICES, "sagemaker-a2i-runtime", ServiceEntry("sagemaker-a2i-runtime", f"{__name__}:StubA2IRuntime")
    )
    monkeypatch.setitem(SERVICES, "stepfunctions", ServiceEntry("stepfunctions", f"{__name__}:StubStepFunctions"))


@pytest.fixture
def server(tmp_path):
    with LocalAWSServer(tmp_path / "home") as srv:
        yield srv


def _client(name: str, endpoint_url: str, config: Config | None = None):
    session = boto3.Session(
        aws_access_key_id=DUMMY_ACCESS_KEY_ID, aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY, region_name="us-east-1"
    )
    return session.client(name, endpoint_url=endpoint_url, config=config or Config(retries={"max_attempts": 1}))


@pytest.fixture
def clients(server):
    return lambda name: _client(name, server.endpoint_url)


# -- the table ------------------------------------------------------------------------------------------


def test_routes_come_from_botocore_models(stubs):
    routes = {r.entry.name: r for r in Router(SERVICES.values()).routes}
    assert (routes["sagemaker-a2i-runtime"].signing_name, routes["sagemaker-a2i-runtime"].protocol) == (
        "sagemaker",
        "rest-json",
    )
    assert routes["sagemaker-a2i-runtime"].endpoint_prefix == "a2i-runtime.sagemaker"
    assert (routes["stepfunctions"].signing_name, routes["stepfunctions"].target_prefix) == (
        "states",
        "AWSStepFunctions",
    )
    assert SERVICES["stepfunctions"].service_id == "sfn"
    assert SERVICES["stepfunctions"].endpoint_env_var == "AWS_ENDPOINT_URL_SFN"
    assert SERVICES["sagemaker-a2i-runtime"].endpoint_env_var == "AWS_ENDPOINT_URL_SAGEMAKER_A2I_RUNTIME"


def test_the_built_in_table_names_botocore_services():
    from offline.aws.routing import BUILT_IN
    from offline.aws.shapes import is_service

    assert [entry.name for entry in BUILT_IN if not is_service(entry.name)] == []
    assert {r.entry.name for r in Router(BUILT_IN).routes} == {
        "s3",
        "sagemaker",
        "sagemaker-a2i-runtime",
        "sagemaker-runtime",
        "scheduler",
        "stepfunctions",
        "sts",
    }


def test_register_service_refuses_a_name_botocore_does_not_know(monkeypatch):
    monkeypatch.setattr("offline.aws.routing.SERVICES", dict(SERVICES))
    with pytest.raises(ValueError, match="botocore knows no service named 'states'"):
        register_service("states", "x:Y")  # Step Functions' signing name, not its service name
    register_service("sagemaker-runtime", "x:Y")
    from offline.aws import routing

    assert routing.SERVICES["sagemaker-runtime"].factory == "x:Y"


def _signed(method: str, path: str, service: str, headers: dict | None = None, host: str = "127.0.0.1:1") -> Request:
    auth = f"AWS4-HMAC-SHA256 Credential=k/20250101/eu-west-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
    return Request(method, f"http://{host}{path}", Headers({"Host": host, "Authorization": auth, **(headers or {})}))


def test_shared_signing_name_is_told_apart_by_target_path_and_host(stubs):
    router = Router(SERVICES.values())
    target = {"X-Amz-Target": "SageMaker.ListModelPackageGroups"}
    assert router.route(_signed("POST", "/", "sagemaker", target), "sagemaker") == "sagemaker"
    assert router.route(_signed("GET", "/human-loops", "sagemaker"), "sagemaker") == "sagemaker-a2i-runtime"
    assert router.route(_signed("GET", "/human-loops/l-1", "sagemaker"), "sagemaker") == "sagemaker-a2i-runtime"
    a2i_host = "a2i-runtime.sagemaker.us-east-1.amazonaws.com"
    assert router.route(_signed("POST", "/", "sagemaker", host=a2i_host), "sagemaker") == "sagemaker-a2i-runtime"
    api_host = "api.sagemaker.eu-west-1.amazonaws.com"
    assert router.route(_signed("GET", "/human-loops", "sagemaker", host=api_host), "sagemaker") == "sagemaker"
    states = {"X-Amz-Target": "AWSStepFunctions.ListStateMachines"}
    assert router.route(_signed("POST", "/", "states", states), "states") == "stepfunctions"


def test_s3_paths_that_look_like_other_services_stay_s3(stubs):
    router = Router(SERVICES.values())
    for path in ("/sagemaker", "/human-loops/l-1", "/sagemaker/human-loops", "/endpoints/e/invocations", "/"):
        assert router.route(_signed("GET", path, "s3"), "s3") == "s3", path
    # S3's virtual-hosted style (the bucket in the host), a bucket named like another service's endpoint prefix
    for host in ("api.sagemaker.s3.us-east-1.amazonaws.com", "bkt.localhost:4599"):
        for method in ("GET", "PUT", "DELETE", "HEAD"):
            assert router.route(_signed(method, "/", "s3", host=host), "s3") == "s3", (method, host)
        assert router.route(_signed("PUT", "/key/x", "s3", host=host), "s3") == "s3"


def test_a_request_no_local_service_matches_is_a_clear_error(stubs):
    router = Router(SERVICES.values())
    with pytest.raises(Exception) as e:
        router.route(_signed("POST", "/models/e/invocations", "sagemaker"), "sagemaker")
    assert e.value.code == "NotImplemented" and e.value.status == 501
    assert "POST /models/e/invocations, signed for sagemaker, matches no operation" in e.value.message
    with pytest.raises(Exception) as e:
        router.route(_signed("POST", "/", "dynamodb", {"X-Amz-Target": "DynamoDB_20120810.ListTables"}), "dynamodb")
    assert e.value.message == "ListTables (dynamodb) is not implemented by the local runtime"


def test_unsigned_requests_route_by_target_or_form_else_to_anonymous_s3(stubs):
    router = Router(SERVICES.values())

    def unsigned(method, path, headers=None, body=b""):
        import io

        return Request(method, f"http://127.0.0.1:1{path}", Headers(headers or {}), io.BytesIO(body), len(body))

    assert router.route(unsigned("POST", "/", {"X-Amz-Target": "SageMaker.ListModelPackages"}), None) == "sagemaker"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert router.route(unsigned("POST", "/", form, b"Action=GetCallerIdentity&Version=2011-06-15"), None) == "sts"
    assert router.route(unsigned("GET", "/bucket/human-loops/x"), None) == "s3"
    for request in (
        unsigned("POST", "/", {"Content-Type": "application/json"}, b"{}"),
        unsigned("POST", "/", {"X-Amz-Target": "DynamoDB_20120810.ListTables"}),
        unsigned("POST", "/", form, b"Action=ListUsers&Version=2010-05-08"),
    ):
        with pytest.raises(Exception) as e:
            router.route(request, None)
        assert (e.value.code, e.value.status) == ("MissingAuthenticationToken", 403)
        assert "not signed" in e.value.message


# -- real clients on one URL ----------------------------------------------------------------------------


def test_boto3_clients_on_one_url_reach_their_services(stubs, clients):
    s3 = clients("s3")
    s3.create_bucket(Bucket="sagemaker")  # named like a service
    s3.put_object(Bucket="sagemaker", Key="human-loops/l-1", Body=b"s3 data")
    s3.create_bucket(Bucket="human-loops")
    s3.put_object(Bucket="human-loops", Key="stop", Body=b"more")
    assert s3.get_object(Bucket="sagemaker", Key="human-loops/l-1")["Body"].read() == b"s3 data"
    assert s3.get_object(Bucket="human-loops", Key="stop")["Body"].read() == b"more"
    assert clients("sagemaker").list_model_package_groups()["ModelPackageGroupSummaryList"] == []
    a2i = clients("sagemaker-a2i-runtime")
    assert a2i.describe_human_loop(HumanLoopName="l-1")["HumanLoopName"] == "l-1"
    summaries = a2i.list_human_loops(FlowDefinitionArn=FLOW)["HumanLoopSummaries"]
    assert summaries == [{"HumanLoopName": "stub GET /human-loops"}]
    machines = clients("stepfunctions").list_state_machines()["stateMachines"]
    assert machines[0]["name"] == "AWSStepFunctions.ListStateMachines"


def test_in_process_hook_reaches_services_by_their_event_name_id(stubs, tmp_path):
    session = local_session(tmp_path / "home")
    assert (
        session.client("stepfunctions").list_state_machines()["stateMachines"][0]["name"].endswith(".ListStateMachines")
    )
    assert session.client("sagemaker-a2i-runtime").describe_human_loop(HumanLoopName="x")["HumanLoopName"] == "x"


def test_client_env_names_every_registered_service(stubs, server):
    env = server.client_env()
    for name in ("S3", "SAGEMAKER", "STS", "SAGEMAKER_A2I_RUNTIME", "SFN"):
        assert env[f"AWS_ENDPOINT_URL_{name}"] == server.endpoint_url
    assert "AWS_ENDPOINT_URL" not in env  # a job's calls to other services are not sent here


def test_unregistered_services_get_not_implemented_in_their_own_format(clients):
    with pytest.raises(ClientError) as e:
        clients("events").list_rules()
    assert e.value.response["Error"] == {
        "Code": "NotImplemented",
        "Message": "ListRules (events) is not implemented by the local runtime",
    }
    with pytest.raises(ClientError) as e:  # signs as sagemaker, like two services that are served
        clients("sagemaker-featurestore-runtime").get_record(FeatureGroupName="g", RecordIdentifierValueAsString="r")
    assert e.value.response["Error"]["Code"] == "NotImplemented"
    message = e.value.response["Error"]["Message"]
    assert "GET /FeatureGroup/g, signed for sagemaker, matches no operation" in message
    with pytest.raises(ClientError) as e:
        clients("iam").list_users()
    assert e.value.response["Error"]["Message"] == "ListUsers (iam) is not implemented by the local runtime"


def test_the_host_picks_among_services_that_share_a_signing_name(stubs, server):
    host, port = server.httpd.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    auth = "AWS4-HMAC-SHA256 Credential=k/20250101/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=0"
    conn.request(
        "GET",
        "/human-loops/from-host",
        headers={"Host": "a2i-runtime.sagemaker.us-east-1.amazonaws.com", "Authorization": auth},
    )
    response = conn.getresponse()
    assert json.loads(response.read())["HumanLoopName"] == "from-host"


def test_runtime_close_closes_the_services_it_built(stubs, tmp_path):
    from offline.aws.runtime import LocalAWS

    runtime = LocalAWS(tmp_path / "home")
    a2i = runtime.service("sagemaker-a2i-runtime")
    runtime.close()
    assert a2i.closed


def test_presigned_urls_reach_s3(clients, server):
    """SigV4 presigned URLs carry their scope in X-Amz-Credential; SigV2 ones (botocore's default for
    us-east-1) carry none and reach S3 as its anonymous requests do."""
    import urllib.request

    clients("s3").create_bucket(Bucket="sagemaker")
    clients("s3").put_object(Bucket="sagemaker", Key="human-loops/x", Body=b"presigned")
    v4 = _client("s3", server.endpoint_url, config=Config(signature_version="s3v4"))
    for s3, marker in ((v4, "X-Amz-Credential="), (clients("s3"), "AWSAccessKeyId=")):
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "sagemaker", "Key": "human-loops/x"})
        assert marker in url
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.read() == b"presigned"


def test_serves_on_ipv6_loopback(tmp_path):
    try:
        server = LocalAWSServer(tmp_path / "home", host="::1")
    except OSError as e:
        pytest.skip(f"no IPv6 loopback here: {e}")
    with server:
        assert server.endpoint_url.startswith("http://[::1]:")
        assert _client("sts", server.endpoint_url).get_caller_identity()["Account"] == "123456789012"
