"""SageMaker models and endpoint configurations, stored in the state DB (no HTTP, no processes here).

A model is its containers: `PrimaryContainer` or `Containers` with {Image, ModelDataUrl, Environment} or
{ModelPackageName} (a registered package, whose InferenceSpecification.Containers[0] is the container).
An endpoint configuration names one production variant (model, instance type and count) and the data
capture. Both are immutable, as on SageMaker; `deployment()` turns a configuration into what a local host
serves (`Deployment`: model data, environment, worker processes, capture settings).

The local runtime serves what it can run and says so for the rest: one container holding a model.tar.gz
in the local object store, one production variant. Errors are SageMaker's where SageMaker has one
(`Could not find model "arn".`, `Cannot create already existing endpoint configuration "arn".`,
`Could not find model data at s3://….`), all ValidationException (HTTP 400).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from offline.aws.sagemaker.backend import ModelRegistry, Page, _created_in, _name_contains, page_of
from offline.aws.sagemaker.errors import ResourceLimitExceeded
from offline.aws.sagemaker.errors import ValidationException as Invalid
from offline.aws.shapes import to_plain_json
from offline.endpoint.settings import DEFAULT_ENVIRONMENT, CaptureSettings, SettingsError
from offline.state import StateDB, register_schema
from offline.store import ObjectStore, ObjectStoreError, parse_s3_uri, validate_key

COMPONENT = "sagemaker_hosting"
MAX_LOCAL_WORKERS = 8  # worker processes one local endpoint may run (each holds the model and a CPU)
WORKERS_ENV = "SAGEMAKER_MODEL_SERVER_WORKERS"  # the inference toolkit's workers per instance

register_schema(
    COMPONENT,
    [
        """
        CREATE TABLE sm_models (
            arn TEXT PRIMARY KEY,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            creation_time REAL NOT NULL,
            document TEXT NOT NULL
        );
        CREATE UNIQUE INDEX sm_models_name ON sm_models (region, name COLLATE NOCASE);
        CREATE TABLE sm_endpoint_configs (
            arn TEXT PRIMARY KEY,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            creation_time REAL NOT NULL,
            document TEXT NOT NULL
        );
        CREATE UNIQUE INDEX sm_endpoint_configs_name ON sm_endpoint_configs (region, name COLLATE NOCASE);
        CREATE TABLE sm_endpoints (
            arn TEXT PRIMARY KEY,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            creation_time REAL NOT NULL,
            last_modified REAL NOT NULL,
            status TEXT NOT NULL,
            failure_reason TEXT,
            config_name TEXT,
            deployment TEXT,
            current_host TEXT,
            pending_config TEXT,
            pending_deployment TEXT,
            pending_host TEXT,
            pending_start REAL,
            document TEXT NOT NULL
        );
        CREATE UNIQUE INDEX sm_endpoints_name ON sm_endpoints (region, name COLLATE NOCASE);
        """
    ],
)

_LOCAL_ONLY = (
    "the local runtime serves one container with a model.tar.gz from the local object store "
    "(s3://… under $MLOPS_HOME/s3)"
)


@dataclass(frozen=True)
class Deployment:
    """One endpoint configuration resolved into what its local host serves (stored with the endpoint)."""

    endpoint_config: str
    variant: str
    model_name: str
    model_data: str
    environment: dict[str, str]
    model_source: str  # the model package ARN, else the model data URI
    image: str | None
    instance_type: str | None
    instance_count: int
    weight: float
    serverless: dict | None
    workers: int
    data_capture: dict | None  # the DataCaptureConfig as configured
    capture: dict  # CaptureSettings fields

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | None) -> Deployment | None:
        return cls(**json.loads(text)) if text else None

    @property
    def capture_settings(self) -> CaptureSettings:
        return CaptureSettings.from_dict(self.capture)


class HostingResources:
    """Models and endpoint configurations of one home (per region, names unique ignoring case)."""

    def __init__(self, db: StateDB, registry: ModelRegistry, store: ObjectStore, account_id: str):
        self.db = db
        self.registry = registry
        self.store = store
        self.account_id = account_id
        db.ensure(COMPONENT)

    def arn(self, region: str, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{region}:{self.account_id}:{kind}/{name.lower()}"

    # -- models ----------------------------------------------------------------------------------------

    def create_model(self, region: str, params: dict) -> dict:
        name = params["ModelName"]
        arn = self.arn(region, "model", name)
        containers = _containers(params)
        for container in containers:
            self._container_source(region, container)  # the package and the model data must exist
        document = {
            **to_plain_json(params),
            "ModelArn": arn,
            "CreationTime": time.time(),
            "EnableNetworkIsolation": bool(params.get("EnableNetworkIsolation", False)),
        }
        self._insert("sm_models", region, name, arn, document, f'Cannot create already existing model "{arn}".')
        return {"ModelArn": arn}

    def describe_model(self, region: str, params: dict) -> dict:
        return self._document("sm_models", region, params["ModelName"], "model")

    def delete_model(self, region: str, params: dict) -> dict:
        self._delete("sm_models", region, params["ModelName"], "model")
        return {}

    def list_models(self, region: str, params: dict) -> dict:
        page = self._list("sm_models", region, params, ("ModelName", "ModelArn", "CreationTime"))
        return {"Models": page.items, "NextToken": page.next_token}

    # -- endpoint configurations -----------------------------------------------------------------------

    def create_endpoint_config(self, region: str, params: dict) -> dict:
        name = params["EndpointConfigName"]
        arn = self.arn(region, "endpoint-config", name)
        for member in ("ShadowProductionVariants", "AsyncInferenceConfig", "ExplainerConfig"):
            if params.get(member):
                raise Invalid(f"{member} is not supported by the local runtime: it serves real-time endpoints")
        variants = params["ProductionVariants"]
        if len(variants) != 1:
            raise Invalid(
                f"ProductionVariants holds {len(variants)} variants; the local runtime serves one production "
                "variant per endpoint"
            )
        for variant in variants:
            self._check_variant(region, variant)
        _capture_settings(params.get("DataCaptureConfig"))
        document = to_plain_json(params)
        for variant in document["ProductionVariants"]:
            variant.setdefault("InitialVariantWeight", 1.0)
        document.update(EndpointConfigArn=arn, CreationTime=time.time())
        message = f'Cannot create already existing endpoint configuration "{arn}".'
        self._insert("sm_endpoint_configs", region, name, arn, document, message)
        return {"EndpointConfigArn": arn}

    def describe_endpoint_config(self, region: str, params: dict) -> dict:
        return self._document("sm_endpoint_configs", region, params["EndpointConfigName"], "endpoint configuration")

    def delete_endpoint_config(self, region: str, params: dict) -> dict:
        self._delete("sm_endpoint_configs", region, params["EndpointConfigName"], "endpoint configuration")
        return {}

    def list_endpoint_configs(self, region: str, params: dict) -> dict:
        summary = ("EndpointConfigName", "EndpointConfigArn", "CreationTime")
        page = self._list("sm_endpoint_configs", region, params, summary)
        return {"EndpointConfigs": page.items, "NextToken": page.next_token}

    # -- what a configuration deploys ------------------------------------------------------------------

    def deployment(self, region: str, config_name: str) -> Deployment:
        """The configuration's variant resolved down to a model.tar.gz that exists now; raises Invalid."""
        config = self._document("sm_endpoint_configs", region, config_name, "endpoint configuration")
        variant = config["ProductionVariants"][0]
        model = self._document("sm_models", region, variant["ModelName"], "model")
        (container,) = _containers(model)
        model_data, environment, source, image = self._container_source(region, container)
        environment = {**DEFAULT_ENVIRONMENT, **environment}
        count = int(variant.get("InitialInstanceCount") or 1)  # serverless: one worker
        workers = count * _workers_per_instance(environment)
        if workers > MAX_LOCAL_WORKERS:
            raise ResourceLimitExceeded(
                f"Production variant {variant['VariantName']} asks for {workers} worker processes "
                f"({count} instances x {workers // count} from {WORKERS_ENV}); a local endpoint runs at most "
                f"{MAX_LOCAL_WORKERS}"
            )
        return Deployment(
            endpoint_config=config["EndpointConfigName"],
            variant=variant["VariantName"],
            model_name=model["ModelName"],
            model_data=model_data,
            environment=environment,
            model_source=source,
            image=image,
            instance_type=variant.get("InstanceType"),
            instance_count=count,
            weight=float(variant.get("InitialVariantWeight", 1.0)),
            serverless=variant.get("ServerlessConfig"),
            workers=workers,
            data_capture=config.get("DataCaptureConfig"),
            capture=asdict(_capture_settings(config.get("DataCaptureConfig"))),
        )

    # -- rules -----------------------------------------------------------------------------------------

    def _check_variant(self, region: str, variant: dict) -> None:
        name = variant["VariantName"]
        if not variant.get("ModelName"):
            raise Invalid(
                f"ModelName must be specified for production variant {name} (the local runtime has no "
                "inference components)"
            )
        self._document("sm_models", region, variant["ModelName"], "model")
        sized = variant.get("InstanceType") and variant.get("InitialInstanceCount")
        if not sized and not variant.get("ServerlessConfig"):
            raise Invalid(
                f"Production variant {name} needs InstanceType and InitialInstanceCount, or a ServerlessConfig"
            )

    def _container_source(self, region: str, container: dict) -> tuple[str, dict, str, str | None]:
        """(model data URI, environment, source, image) of a container, checked against the store."""
        environment = dict(container.get("Environment") or {})
        if container.get("Mode") == "MultiModel":
            raise Invalid(f"Multi-model containers are not supported locally: {_LOCAL_ONLY}")
        if container.get("ModelDataSource"):
            raise Invalid(f"ModelDataSource is not supported locally; give ModelDataUrl: {_LOCAL_ONLY}")
        package_name = container.get("ModelPackageName")
        if package_name:
            package = self.registry.describe_package(region, package_name)  # Invalid if it does not exist
            spec = (package.get("InferenceSpecification") or {}).get("Containers") or [{}]
            model_data = spec[0].get("ModelDataUrl")
            if not model_data:
                raise Invalid(f"Model package {package['ModelPackageArn']} has no ModelDataUrl to serve")
            environment = {**(spec[0].get("Environment") or {}), **environment}
            source, image = package["ModelPackageArn"], spec[0].get("Image")
        else:
            model_data, image = container.get("ModelDataUrl"), container.get("Image")
            if not image:
                raise Invalid("Image must be specified for a container that does not name a ModelPackageName")
            if not model_data:
                raise Invalid(f"ModelDataUrl must be specified: {_LOCAL_ONLY}")
            source = model_data
        if not model_data.startswith("s3://"):
            raise Invalid(f"Could not find model data at {model_data}: {_LOCAL_ONLY}")
        try:
            found = self.store.path(model_data).is_file()
        except ObjectStoreError:
            found = False
        if not found:
            raise Invalid(f"Could not find model data at {model_data}.")
        return model_data, environment, source, image

    # -- storage ---------------------------------------------------------------------------------------

    def _insert(self, table: str, region: str, name: str, arn: str, document: dict, exists: str) -> None:
        with self.db.transaction() as conn:
            if conn.execute(
                f"SELECT 1 FROM {table} WHERE region = ? AND name = ? COLLATE NOCASE", (region, name)
            ).fetchone():
                raise Invalid(exists)
            conn.execute(
                f"INSERT INTO {table} (arn, region, name, creation_time, document) VALUES (?, ?, ?, ?, ?)",
                (arn, region, name, document["CreationTime"], json.dumps(document)),
            )

    def _document(self, table: str, region: str, name: str, what: str) -> dict:
        row = self.db.query_one(
            f"SELECT document FROM {table} WHERE region = ? AND name = ? COLLATE NOCASE", (region, name)
        )
        if row is None:
            kind = "model" if table == "sm_models" else "endpoint-config"
            raise Invalid(f'Could not find {what} "{self.arn(region, kind, name)}".')
        return json.loads(row["document"])

    def _delete(self, table: str, region: str, name: str, what: str) -> None:
        with self.db.transaction():
            self._document(table, region, name, what)
            self.db.execute(f"DELETE FROM {table} WHERE region = ? AND name = ? COLLATE NOCASE", (region, name))

    def _list(self, table: str, region: str, params: dict, summary: tuple[str, ...]) -> Page:
        documents = [
            json.loads(r["document"])
            for r in self.db.query(f"SELECT document FROM {table} WHERE region = ?", (region,))
        ]
        documents = [d for d in documents if _created_in(d, params) and _name_contains(d[summary[0]], params)]
        by_name = params.get("SortBy") == "Name"
        documents.sort(key=lambda d: (d[summary[0]].lower() if by_name else d["CreationTime"], d["CreationTime"]))
        items = [{k: d[k] for k in summary} for d in documents]
        return page_of(items, {**params, "SortOrder": params.get("SortOrder") or "Descending"}, default_size=10)


def _containers(params: dict) -> list[dict]:
    primary, containers = params.get("PrimaryContainer"), params.get("Containers")
    if primary and containers:
        raise Invalid("PrimaryContainer and Containers cannot both be specified")
    if not primary and not containers:
        raise Invalid("Either PrimaryContainer or Containers must be specified")
    if containers and len(containers) > 1:
        raise Invalid(f"Containers holds {len(containers)} containers: {_LOCAL_ONLY}")
    return [primary] if primary else containers


def _workers_per_instance(environment: dict[str, str]) -> int:
    value = environment.get(WORKERS_ENV, "1")
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_LOCAL_WORKERS:
        raise Invalid(f"{WORKERS_ENV} must be a whole number from 1 to {MAX_LOCAL_WORKERS}, got {value!r}")
    return int(value)


def _capture_settings(config: dict | None) -> CaptureSettings:
    """DataCaptureConfig as the local host will apply it; a destination the store cannot hold is Invalid."""
    try:
        settings = CaptureSettings.from_data_capture_config(config)
        if settings.enabled:
            bucket, prefix = parse_s3_uri(settings.destination_uri)
            validate_key(f"{prefix.strip('/')}/x/y".lstrip("/"))
    except (SettingsError, ObjectStoreError, ValueError) as e:
        raise Invalid(f"DataCaptureConfig: {e}") from e
    return settings
