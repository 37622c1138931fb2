"""`python -m offline.endpoint.daemon HOST_ID`: a host started by the local SageMaker service.

CreateEndpoint and UpdateEndpoint write a `starting` row (hosts.py) holding a `LaunchSpec` and start this
module detached (`hosts.launch`); it reads the row from `$MLOPS_HOME/state.db`, extracts the model, and
runs the same `Host` as `mlops endpoint serve`. Whatever stops it from serving is written to the row
(`failed` with the reason), which is what DescribeEndpoint reports as the FailureReason.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from offline.endpoint.artifact import ArtifactError, extract_archive, locate_archive
from offline.endpoint.host import Host, HostError
from offline.endpoint.hosts import FAILED, STARTING, HostRegistry
from offline.endpoint.settings import EndpointSettings, LaunchSpec, SettingsError
from offline.home import mlops_home


def run(host_id: str, home: str | os.PathLike | None = None) -> int:
    """Serve the row's endpoint until told to stop; 0 after a clean stop, 1 if it could not serve."""
    home = str(mlops_home(home))
    registry = HostRegistry.for_home(home)
    record = registry.get(host_id)
    if record is None:
        print(f"no endpoint host {host_id} in {home}", file=sys.stderr)
        return 2
    registry.set_process(host_id, os.getpid())
    if record.state != STARTING:  # stopped (or deleted) before this process got going
        print(f"endpoint host {host_id} is {record.state}; not starting it", file=sys.stderr)
        return 1
    try:
        spec = LaunchSpec.from_json(record.spec)
        archive = locate_archive(spec.model_data, home)
        with tempfile.TemporaryDirectory(prefix="mlops-model-") as scratch:
            model_dir = extract_archive(archive, Path(scratch) / "model")
            settings = EndpointSettings(
                name=record.endpoint,
                model_dir=str(model_dir),
                environment=spec.environment,
                variant=spec.variant,
                workers=spec.workers,
                header_timeout=spec.header_timeout,
                capture=spec.capture,
                region=record.region,
                home=home,
                model_source=spec.model_source,
            )
            return Host(settings, host_id=host_id).run()
    except (ArtifactError, SettingsError, HostError, ValueError, TypeError, KeyError) as e:
        registry.finish(host_id, FAILED, str(e))
        print(f"endpoint {record.endpoint}: {e}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1:
        print("usage: python -m offline.endpoint.daemon HOST_ID  (MLOPS_HOME names the home)", file=sys.stderr)
        return 2
    with contextlib.suppress(OSError):  # already a group leader when started some other way
        os.setsid()  # its own process group, so a stuck host can be killed with its workers and nothing else
    return run(args[0])


if __name__ == "__main__":
    sys.exit(main())
