"""The policy layer: the reference platform's rules (loaded from examples/reference-policy.yaml, mirroring
docs/reference-client.md section 5), the safe defaults, and request-shape rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from execbroker.model.components import (
    Compute,
    ComputeKind,
    Data,
    DataKind,
    Executable,
    ExecutableKind,
    ExecutionRequest,
    Meta,
    Storage,
    StorageKind,
    VolumeKind,
    VolumeMount,
)
from execbroker.model.messages import (
    DUPLICATE_RESOURCE,
    EXECUTABLE_REQUIRED,
    INVALID_VALUE,
    MISSING_VALUE,
    POLICY_DENIED,
    RESOURCE_NOT_FOUND,
    UNKNOWN_KIND,
    Level,
    Message,
)
from execbroker.policy import Match, Policy, PolicyConfig

REPO = Path(__file__).resolve().parents[1]
REFERENCE_POLICY = REPO / "examples" / "reference-policy.yaml"


@pytest.fixture(scope="module")
def ref() -> Policy:
    document = yaml.safe_load(REFERENCE_POLICY.read_text())
    return Policy(PolicyConfig.model_validate(document["policy"]))


@pytest.fixture(scope="module")
def default() -> Policy:
    return Policy()


# --- request builders -------------------------------------------------------------------------------


def docker(name: str = "my-exe", **spec: Any) -> Executable:
    body: dict[str, Any] = {"image": {"locations": ["ghcr.io/ivoa/calycopis/java-builder:2024.08.30"]}}
    body["privileged"] = False
    body.update(spec)
    return Executable(meta=Meta(name=name), kind=ExecutableKind.DOCKER_CONTAINER, spec=body)


def port(internal: Any = 8080, protocol: Any = "HTTP", path: Any = "/myapp", **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"access": True, "internal": {"port": internal}, "protocol": protocol}
    if path is not None:
        entry["path"] = path
    entry.update(extra)
    return entry


def with_ports(*ports: dict[str, Any]) -> Executable:
    return docker(network={"ports": list(ports)})


def notebook(location: str | None) -> Executable:
    spec = {} if location is None else {"location": location}
    return Executable(meta=Meta(name="nb"), kind=ExecutableKind.JUPYTER_NOTEBOOK, spec=spec)


def data(kind: DataKind, name: str = "my-data", storage: str | None = None, **spec: Any) -> Data:
    return Data(meta=Meta(name=name), kind=kind, storage=storage, spec=spec)


def request(executable: Executable | None = None, **parts: Any) -> ExecutionRequest:
    return ExecutionRequest(executable=executable if executable is not None else docker(), **parts)


def with_data(*items: Data, **parts: Any) -> ExecutionRequest:
    return request(data=list(items), **parts)


def kinds(messages: list[Message]) -> list[str]:
    return [m.kind for m in messages]


def only(messages: list[Message], kind: str) -> Message:
    """The single message, which must be of the given kind; returns it for further checks."""
    assert len(messages) == 1, [m.rendered for m in messages]
    assert messages[0].kind == kind
    assert messages[0].level is Level.WARN
    assert all(isinstance(v, str) for v in messages[0].values.values())
    return messages[0]


# --- the reference platform: docker validation (8 tests in the reference suite) ---------------------


def test_ref_docker_good_port_is_accepted(ref: Policy) -> None:
    assert ref.check(request(with_ports(port()))) == []


@pytest.mark.parametrize(
    "path", ["/badpath", "/alsobadpath", "/badpath/", "/badpath/../badpath", "/badpath/x"]
)
def test_ref_docker_denied_paths(ref: Policy, path: str) -> None:
    message = only(ref.check(request(with_ports(port(path=path)))), POLICY_DENIED)
    assert path in message.rendered and "[my-exe]" in message.rendered


def test_ref_docker_similar_path_is_not_denied(ref: Policy) -> None:
    assert ref.check(request(with_ports(port(path="/badpathology")))) == []


@pytest.mark.parametrize("number", [1234, 5678])
def test_ref_docker_denied_internal_ports(ref: Policy, number: int) -> None:
    message = only(ref.check(request(with_ports(port(internal=number)))), POLICY_DENIED)
    assert message.rendered == f"Port {number} of executable [my-exe] is not allowed on this platform"
    assert message.values["port"] == str(number)


@pytest.mark.parametrize("number", [-1, 0, 65536])
def test_ref_docker_invalid_port_numbers(ref: Policy, number: int) -> None:
    message = only(ref.check(request(with_ports(port(internal=number)))), INVALID_VALUE)
    assert str(number) in message.rendered


def test_ref_docker_privileged_is_refused(ref: Policy) -> None:
    message = only(ref.check(request(docker(privileged=True))), POLICY_DENIED)
    assert "privileged" in message.rendered


def test_ref_docker_ftp_is_refused_and_known_protocols_pass(ref: Policy) -> None:
    only(ref.check(request(with_ports(port(protocol="FTP")))), POLICY_DENIED)
    for protocol in ("UDP", "TCP", "HTTP", "HTTPS", "https"):
        assert ref.check(request(with_ports(port(protocol=protocol)))) == [], protocol


def test_ref_docker_external_port_is_refused(ref: Policy) -> None:
    only(ref.check(request(with_ports(port(external={"port": 80})))), POLICY_DENIED)
    assert ref.check(request(with_ports(port(external={})))) == []


def test_one_message_per_violated_rule(ref: Policy) -> None:
    exe = docker(privileged=True, network={"ports": [port(internal=1234, protocol="FTP", path="/badpath")]})
    assert kinds(ref.check(request(exe))) == [POLICY_DENIED] * 4


# --- jupyter (3) ------------------------------------------------------------------------------------


def test_ref_jupyter_valid_location(ref: Policy) -> None:
    assert ref.check(request(notebook("http://example.com/valid-notebook.ipynb"))) == []


@pytest.mark.parametrize(
    "location",
    [
        "http://example.com/blacklisted.ipynb",
        "http://example.com/excluded-one.ipynb",
        "http://example.com/excluded-two.ipynb",
        "HTTP://Example.COM/./blacklisted.ipynb",
        "http://example.com/x/../blacklisted.ipynb",
    ],
)
def test_ref_jupyter_denied_locations(ref: Policy, location: str) -> None:
    message = only(ref.check(request(notebook(location))), POLICY_DENIED)
    assert "[nb]" in message.rendered


def test_ref_jupyter_missing_location(ref: Policy) -> None:
    message = only(ref.check(request(notebook(None))), MISSING_VALUE)
    assert message.values["field"] == "location"
    only(ref.check(request(notebook("  "))), MISSING_VALUE)


def test_ref_singularity_is_not_supported(ref: Policy, default: Policy) -> None:
    exe = Executable(
        meta=Meta(name="sif"), kind=ExecutableKind.SINGULARITY_CONTAINER, spec={"location": "docker://x"}
    )
    message = only(ref.check(request(exe)), UNKNOWN_KIND)
    assert "singularity-container" in message.rendered
    assert default.check(request(exe)) == []


# --- compute and storage kinds (sizes are scheduling's) ----------------------------------------------


def test_ref_compute_and_storage_kinds_pass(ref: Policy) -> None:
    req = request(
        compute=Compute(meta=Meta(name="c"), kind=ComputeKind.SIMPLE),
        storage=[Storage(meta=Meta(name="s"), kind=StorageKind.SIMPLE)],
        data=[data(DataKind.SIMPLE, storage="s", location="https://example.org/data/good-file.fits")],
    )
    assert ref.check(req) == []


# --- simple data (4) --------------------------------------------------------------------------------


def test_ref_simple_data_good(ref: Policy) -> None:
    assert (
        ref.check(with_data(data(DataKind.SIMPLE, location="https://example.org/data/good-file.fits"))) == []
    )


@pytest.mark.parametrize("location", ["http://example.com/excluded.dat", "http://example.com/excluded.vot"])
def test_ref_simple_data_excluded(ref: Policy, location: str) -> None:
    message = only(ref.check(with_data(data(DataKind.SIMPLE, location=location))), POLICY_DENIED)
    assert (
        message.rendered
        == f"The location {location} of data resource [my-data] is not allowed on this platform"
    )


def test_ref_simple_data_missing_location(ref: Policy) -> None:
    only(ref.check(with_data(data(DataKind.SIMPLE))), MISSING_VALUE)


def test_ref_simple_data_other_schemes_and_relative(ref: Policy) -> None:
    only(ref.check(with_data(data(DataKind.SIMPLE, location="ftp://example.org/a.fits"))), POLICY_DENIED)
    only(ref.check(with_data(data(DataKind.SIMPLE, location="file:///etc/passwd"))), POLICY_DENIED)
    only(ref.check(with_data(data(DataKind.SIMPLE, location="data/a.fits"))), INVALID_VALUE)


# --- S3 data (6) ------------------------------------------------------------------------------------


def s3(**overrides: Any) -> Data:
    spec: dict[str, Any] = {
        "endpoint": "https://s3.valid.example.com",
        "template": "{bucket}.{endpoint}/{object}",
        "bucket": "my-bucket",
        "object": "my-object",
    }
    spec.update(overrides)
    return data(DataKind.S3, **{k: v for k, v in spec.items() if v is not None})


def test_ref_s3_valid(ref: Policy) -> None:
    assert ref.check(with_data(s3())) == []
    assert ref.check(with_data(s3(object=None))) == []


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://s3.blacklisted.example.com",
        "https://s3.forbidden.example.com",
        "https://s3.forbidden.example.com/",
        "https://S3.Blacklisted.example.com/some/path",
    ],
)
def test_ref_s3_denied_endpoints(ref: Policy, endpoint: str) -> None:
    message = only(ref.check(with_data(s3(endpoint=endpoint))), POLICY_DENIED)
    assert "S3 endpoint" in message.rendered


@pytest.mark.parametrize("missing", ["endpoint", "template", "bucket"])
def test_ref_s3_missing_fields(ref: Policy, missing: str) -> None:
    message = only(ref.check(with_data(s3(**{missing: None}))), MISSING_VALUE)
    assert message.values["field"] == missing


# --- IVOA data (5) ----------------------------------------------------------------------------------


def test_ref_ivoa_valid(ref: Policy) -> None:
    assert ref.check(with_data(data(DataKind.IVOA, ivoa={"ivoid": "ivo://example.com/valid-resource"}))) == []


@pytest.mark.parametrize(
    "ivoid", ["ivo://example.com/excluded", "ivo://example.com/forbidden", "IVO://EXAMPLE.com/Excluded"]
)
def test_ref_ivoa_denied(ref: Policy, ivoid: str) -> None:
    only(ref.check(with_data(data(DataKind.IVOA, ivoa={"ivoid": ivoid}))), POLICY_DENIED)


def test_ref_ivoa_empty_or_missing_block(ref: Policy) -> None:
    specs: list[dict[str, Any]] = [{"ivoa": {}}, {}]
    for spec in specs:
        item = Data(meta=Meta(name="my-data"), kind=DataKind.IVOA, spec=spec)
        message = only(ref.check(with_data(item)), MISSING_VALUE)
        assert message.values["field"] == "ivoa.ivoid"


# --- SKAO data (2) ----------------------------------------------------------------------------------


def skao(namespace: str) -> Data:
    return data(
        DataKind.SKAO,
        ivoa={"ivoid": "ivo://example.com/skao-object"},
        skao={
            "namespace": namespace,
            "objectname": "object.fits",
            "objecttype": "FILE",
            "datasize": 1024,
            "replicas": [{"rsename": "RSE-1", "dataurl": "https://rse.example.com/object.fits"}],
        },
    )


def test_ref_skao_valid(ref: Policy) -> None:
    assert ref.check(with_data(skao("valid-namespace"))) == []


@pytest.mark.parametrize("namespace", ["excluded-namespace-one", "excluded-namespace-two"])
def test_ref_skao_denied(ref: Policy, namespace: str) -> None:
    message = only(ref.check(with_data(skao(namespace))), POLICY_DENIED)
    assert namespace in message.rendered


def test_ref_rucio_is_not_supported(ref: Policy) -> None:
    item = data(DataKind.RUCIO, rucio={"scope": "s", "object": "o"})
    only(ref.check(with_data(item)), UNKNOWN_KIND)


# --- the reference config file as a whole ------------------------------------------------------------


def test_reference_file_sections() -> None:
    document = yaml.safe_load(REFERENCE_POLICY.read_text())
    assert document["platform"] == {"kind": "simulated"}
    assert document["capacity"]["limits"] == {"max_cores": 16, "max_memory": 16, "max_storage": 1000}
    assert document["capacity"]["pools"] == [
        {"name": "reference", "cores": 32, "memory": 32, "storage": 1000}
    ]


# --- "any" group: executable and cross-references ---------------------------------------------------


def test_executable_required(default: Policy) -> None:
    message = only(default.check(ExecutionRequest()), EXECUTABLE_REQUIRED)
    assert message.rendered == "An executable is required"


def test_data_naming_a_listed_storage_by_name_or_uuid(ref: Policy) -> None:
    store = Storage(meta=Meta(name="named-store"), kind=StorageKind.SIMPLE)
    good = "https://example.org/data/good-file.fits"
    assert (
        ref.check(with_data(data(DataKind.SIMPLE, storage="named-store", location=good), storage=[store]))
        == []
    )
    message = only(
        ref.check(with_data(data(DataKind.SIMPLE, storage="not-there", location=good), storage=[store])),
        RESOURCE_NOT_FOUND,
    )
    assert "[not-there]" in message.rendered


def test_duplicate_names_within_a_family(default: Policy) -> None:
    good = "https://example.org/a.fits"
    twice = with_data(
        data(DataKind.SIMPLE, name="d", location=good), data(DataKind.SIMPLE, name="d", location=good)
    )
    message = only(default.check(twice), DUPLICATE_RESOURCE)
    assert message.values["name"] == "d"
    # The same name in two families is not a duplicate (unless a volume has to choose between them).
    mixed = with_data(
        data(DataKind.SIMPLE, name="x", location=good),
        storage=[Storage(meta=Meta(name="x"), kind=StorageKind.SIMPLE)],
    )
    assert default.check(mixed) == []


def test_storage_listing_undeclared_data(default: Policy) -> None:
    store = Storage(meta=Meta(name="s"), kind=StorageKind.SIMPLE, data=["ghost"])
    only(default.check(request(storage=[store])), RESOURCE_NOT_FOUND)


def volume(
    resource: str | None, mode: str | None = "READONLY", path: str = "/data", name: str = "v"
) -> VolumeMount:
    return VolumeMount(
        meta=Meta(name=name),
        kind=VolumeKind.SIMPLE,
        path=path,
        mode=mode,
        resources=[resource] if resource else [],
    )


def with_volumes(*volumes: VolumeMount, allow_rw_data: bool = True) -> tuple[Policy, ExecutionRequest]:
    policy = Policy.from_mapping({"volumes": {"allow_readwrite_data": allow_rw_data}})
    req = request(
        compute=Compute(meta=Meta(name="c"), kind=ComputeKind.SIMPLE, volumes=list(volumes)),
        data=[data(DataKind.SIMPLE, name="d", location="https://example.org/a.fits")],
        storage=[Storage(meta=Meta(name="s"), kind=StorageKind.SIMPLE)],
    )
    return policy, req


def test_volume_mounts() -> None:
    policy, req = with_volumes(volume("d"), volume("s", "READWRITE", path="/work", name="w"))
    assert policy.check(req) == []
    policy, req = with_volumes(volume("nothing"))
    only(policy.check(req), RESOURCE_NOT_FOUND)
    policy, req = with_volumes(volume(None))
    only(policy.check(req), MISSING_VALUE)
    policy, req = with_volumes(volume("d", mode="APPEND"))
    message = only(policy.check(req), INVALID_VALUE)
    assert message.values["field"] == "mode"
    policy, req = with_volumes(volume("d"), volume("s", name="w"))
    only(policy.check(req), DUPLICATE_RESOURCE)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("data", "an absolute path"),
        ("/", "a directory below /, not / itself"),
        ("//", "a directory below /, not / itself"),
        ("/..", "a path without . or .. segments"),
        ("/work/../../etc", "a path without . or .. segments"),
        ("/work/./x", "a path without . or .. segments"),
        ("/proc", "a path outside /proc, /sys, /dev"),
        ("/sys/fs", "a path outside /proc, /sys, /dev"),
        ("/dev/", "a path outside /proc, /sys, /dev"),
        ("/a\x00b", "a path without control characters"),
        ("/a\nb", "a path without control characters"),
        ("/" + "x" * 5000, "a path of at most 4096 characters"),
    ],
)
def test_volume_mount_paths_that_would_hide_or_escape_are_refused(path: str, expected: str) -> None:
    policy, req = with_volumes(volume("d", path=path))
    message = only(policy.check(req), INVALID_VALUE)
    assert message.values["field"] == "path"
    assert message.values["expected"] == expected
    assert len(message.values["value"]) < 100  # a long path is cut short in the message


@pytest.mark.parametrize("path", ["/data", "/work/in", "/procedures", "/devices/x", "/a..b/c..."])
def test_ordinary_mount_paths_pass(path: str) -> None:
    policy, req = with_volumes(volume("d", path=path))
    assert policy.check(req) == []


def test_volume_cardinality_is_one_of_the_known_and_instance_mounts_one_resource() -> None:
    def mount(cardinality: str, *resources: str) -> VolumeMount:
        item = volume(resources[0])
        item.cardinality = cardinality
        item.resources = list(resources)
        return item

    for fine in (mount("INSTANCE", "d"), mount("single", "d"), mount("CONTAINER", "d", "s")):
        policy, req = with_volumes(fine)
        assert policy.check(req) == [], fine
    policy, req = with_volumes(mount("MANY", "d"))
    assert only(policy.check(req), INVALID_VALUE).values["field"] == "cardinality"
    policy, req = with_volumes(mount("INSTANCE", "d", "s"))
    assert only(policy.check(req), INVALID_VALUE).values["field"] == "resources"


def test_volume_mount_counted_once_when_listed_twice() -> None:
    mount = volume("d")
    policy, req = with_volumes(mount)
    req.volumes.append(mount)
    assert policy.check(req) == []


def test_readwrite_data_mount_can_be_forbidden() -> None:
    policy, req = with_volumes(volume("d", "READWRITE"), allow_rw_data=False)
    only(policy.check(req), POLICY_DENIED)
    policy, req = with_volumes(volume("s", "READWRITE"), allow_rw_data=False)
    assert policy.check(req) == []
    policy, req = with_volumes(volume("d", "READWRITE"), allow_rw_data=True)
    assert policy.check(req) == []


def test_unknown_kind_reported_once(default: Policy) -> None:
    exe = Executable(meta=Meta(name="e"), kind=None, kind_uri="urn:nonsense")
    message = only(default.check(request(exe)), UNKNOWN_KIND)
    assert "urn:nonsense" in message.rendered
    already = request(exe)
    already.problems.append(Message.make(UNKNOWN_KIND, Level.WARN, "Unknown ${uri}", uri="urn:nonsense"))
    assert default.check(already) == []


# --- defaults: permissive but safe -------------------------------------------------------------------


def test_defaults_accept_a_plain_request(default: Policy) -> None:
    assert default.check(request(with_ports(port(internal=1234, path="/badpath")))) == []
    assert default.check(with_data(data(DataKind.SIMPLE, location="http://example.com/excluded.dat"))) == []


def test_default_refuses_privileged(default: Policy) -> None:
    only(default.check(request(docker(privileged=True))), POLICY_DENIED)
    allowing = Policy.from_mapping({"executables": {"docker": {"allow_privileged": True}}})
    assert allowing.check(request(docker(privileged=True))) == []


def test_default_refuses_file_locations(default: Policy) -> None:
    message = only(
        default.check(with_data(data(DataKind.SIMPLE, location="file:///data/a.fits"))), POLICY_DENIED
    )
    assert "/data/a.fits" in message.rendered
    only(default.check(request(notebook("file:///home/me/n.ipynb"))), POLICY_DENIED)


@pytest.fixture(scope="module")
def rooted() -> Policy:
    return Policy.from_mapping({"data": {"simple": {"file_roots_allowed": ["/allowed", "/shared/data/"]}}})


@pytest.mark.parametrize(
    "location",
    [
        "file:///allowed/a.fits",
        "file:///allowed/sub/./b.fits",
        "file://localhost/shared/data/c",
        "file:/allowed/d",
    ],
)
def test_file_inside_allowed_root_is_accepted(rooted: Policy, location: str) -> None:
    assert rooted.check(with_data(data(DataKind.SIMPLE, location=location))) == []


@pytest.mark.parametrize(
    "location",
    [
        "file:///allowed/../etc/passwd",
        "file:///allowed/%2e%2e/etc/passwd",
        "file:///allowed/sub/../../etc/passwd",
        "file:///allowedness/x",
        "file:////etc/passwd",
        "file://otherhost/allowed/a.fits",
        "file:///shared/other",
    ],
)
def test_file_outside_allowed_roots_is_refused(rooted: Policy, location: str) -> None:
    only(rooted.check(with_data(data(DataKind.SIMPLE, location=location))), POLICY_DENIED)


def test_file_scheme_in_schemes_allowed_is_a_config_error() -> None:
    with pytest.raises(ValidationError):
        Policy.from_mapping({"data": {"simple": {"schemes_allowed": ["http", "file"]}}})


def test_unknown_config_keys_are_errors() -> None:
    with pytest.raises(ValidationError):
        Policy.from_mapping({"executables": {"docker": {"alow_privileged": True}}})
    with pytest.raises(ValidationError):
        Policy.from_mapping({"executables": {"docker": {"ports": {"internal_ports_denied": [70000]}}}})


# --- configurable rules beyond the reference ---------------------------------------------------------


def test_image_lists_every_location_must_pass() -> None:
    policy = Policy.from_mapping(
        {
            "executables": {
                "docker": {"images_allowed": {"prefix": ["ghcr.io/ivoa/"]}, "images_denied": ["evil/x:1"]}
            }
        }
    )
    ok = docker(image={"locations": ["ghcr.io/ivoa/a:1"]})
    assert policy.check(request(ok)) == []
    mixed = docker(image={"locations": ["ghcr.io/ivoa/a:1", "docker.io/other/b:2"]})
    message = only(policy.check(request(mixed)), POLICY_DENIED)
    assert message.values["image"] == "docker.io/other/b:2"
    only(policy.check(request(docker(image={"locations": ["evil/x:1"]}))), POLICY_DENIED)


@pytest.mark.parametrize("location", ["busybox\x00:1", "busy box:1", "busybox:\n1", "busy\tbox"])
def test_image_references_with_spaces_or_control_characters_are_invalid(
    default: Policy, location: str
) -> None:
    message = only(default.check(request(docker(image={"locations": [location]}))), INVALID_VALUE)
    assert message.values["field"] == "image.locations"
    # Around the reference, space is trimmed (here and by the platforms alike).
    assert default.check(request(docker(image={"locations": [" busybox:1\n"]}))) == []


def test_image_digest_platform_and_missing_image(default: Policy) -> None:
    strict = Policy.from_mapping({"executables": {"docker": {"require_digest": True}}})
    only(strict.check(request(docker())), MISSING_VALUE)
    digest = "sha256:" + "ab" * 32
    assert strict.check(request(docker(image={"locations": ["x/y:1"], "digest": digest}))) == []
    only(default.check(request(docker(image={"locations": ["x/y:1"], "digest": "nope"}))), INVALID_VALUE)
    arm = docker(image={"locations": ["x/y:1"], "platform": {"architecture": "arm64", "os": "linux"}})
    only(default.check(request(arm)), POLICY_DENIED)
    only(default.check(request(docker(image={}))), MISSING_VALUE)


def test_port_allow_list_and_ranges() -> None:
    policy = Policy.from_mapping(
        {"executables": {"docker": {"ports": {"internal_ports_allowed": ["8000-8999"]}}}}
    )
    assert policy.check(request(with_ports(port(internal=8080)))) == []
    only(policy.check(request(with_ports(port(internal=9000)))), POLICY_DENIED)


def test_glob_patterns_and_allow_lists() -> None:
    policy = Policy.from_mapping(
        {
            "data": {
                "simple": {
                    "locations_allowed": {"prefix": ["https://archive.example.org/"]},
                    "locations_denied": {"glob": ["*/private/*"]},
                },
                "s3": {"endpoints_allowed": ["https://s3.example.org"]},
                "skao": {"namespaces_allowed": {"glob": ["ska-*"]}},
            }
        }
    )
    assert policy.check(with_data(data(DataKind.SIMPLE, location="https://archive.example.org/a.fits"))) == []
    # '..' is resolved before the allow list is consulted.
    escape = "https://archive.example.org/../../elsewhere"
    assert policy.check(with_data(data(DataKind.SIMPLE, location=escape))) == []  # same host, path /elsewhere
    only(policy.check(with_data(data(DataKind.SIMPLE, location="https://other.org/a.fits"))), POLICY_DENIED)
    only(
        policy.check(with_data(data(DataKind.SIMPLE, location="https://archive.example.org/private/a"))),
        POLICY_DENIED,
    )
    assert policy.check(with_data(s3(endpoint="https://s3.example.org"))) == []
    only(policy.check(with_data(s3(endpoint="https://s3.valid.example.com"))), POLICY_DENIED)
    ns = data(DataKind.SKAO, skao={"namespace": "other", "objectname": "o"})
    only(policy.check(with_data(ns)), POLICY_DENIED)


def test_match_scheme() -> None:
    match = Match.model_validate({"exact": ["a"], "prefix": ["b/"], "glob": ["c*d"]})
    assert [match.matches(v) for v in ("a", "ab", "b/x", "bx", "cxxd", "cxxe")] == [
        True, False, True, False, True, False,
    ]  # fmt: skip
    assert Match.model_validate(["ivo://x/p?1"]).matches("ivo://x/p?1")
    assert not Match.model_validate(["ivo://x/p?1"]).matches("ivo://x/pX1")  # '?' is literal in exact
    assert Match().is_empty()


# --- defensive reading of specs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"network": {"ports": "8080"}}, "network.ports"),
        ({"network": {"ports": [5]}}, "network.ports[0]"),
        ({"network": {"ports": [{"internal": {"port": "80"}}]}}, "network.ports[0].internal.port"),
        ({"network": {"ports": [{"internal": {"port": True}}]}}, "network.ports[0].internal.port"),
        ({"privileged": "yes"}, "privileged"),
        ({"environment": {"A": 1}}, "environment.A"),
        ({"network": []}, "network"),
    ],
)
def test_wrong_types_become_invalid_value_messages(default: Policy, spec: dict[str, Any], field: str) -> None:
    message = only(default.check(request(docker(**spec))), INVALID_VALUE)
    assert message.values["field"] == field


def test_wrong_types_in_data_specs(default: Policy) -> None:
    only(default.check(with_data(data(DataKind.SIMPLE, location=42))), INVALID_VALUE)
    only(default.check(with_data(data(DataKind.IVOA, ivoa="ivo://x/y"))), INVALID_VALUE)
    only(default.check(with_data(s3(bucket=["b"]))), INVALID_VALUE)
    bad_skao = data(
        DataKind.SKAO, skao={"namespace": "n", "objectname": "o", "datasize": -1, "objecttype": "X"}
    )
    assert kinds(default.check(with_data(bad_skao))) == [INVALID_VALUE, INVALID_VALUE]
    only(default.check(with_data(data(DataKind.RUCIO, rucio={"scope": "s"}))), MISSING_VALUE)
