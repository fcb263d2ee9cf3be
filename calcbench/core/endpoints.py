"""The endpoints file: where each service and each of its replicas listens.

`calcbench serve` writes it, `calcbench load` and `calcbench run` read it, the Kubernetes
manifests render the same shape. Format::

    {"protocol": "rest",
     "services": {"addition": {"address": "127.0.0.1:8001",
                               "replicas": [{"id": "addition-0", "address": "127.0.0.1:8101",
                                             "metrics": "127.0.0.1:8151", "pid": 123}]}},
     "tls": {"ca": "/tmp/calcbench-tls-x/ca.pem", "mtls": true}}

`tls` is absent (or null) for a plaintext stack. It says where the CA is, never a key: a client
that must present a certificate (mTLS) is given its own.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from calcbench.core.vocabulary import PROTOCOLS


def parse_address(text: str) -> tuple[str, int]:
    """Split `host:port` (IPv6 as `[::1]:80`); raise ValueError with a one-line message."""
    host, sep, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise ValueError(f"bad address {text!r}: expected host:port")
    return host, int(port)


def parse_address_list(text: str) -> list[str]:
    """Validate a comma-separated list of `host:port`, returning the addresses."""
    addresses = [part.strip() for part in text.split(",") if part.strip()]
    if not addresses:
        raise ValueError(f"bad address list {text!r}: expected host:port[,host:port...]")
    for address in addresses:
        parse_address(address)
    return addresses


@dataclass(frozen=True)
class Replica:
    id: str
    address: str
    metrics: str
    pid: int | None = None


@dataclass(frozen=True)
class ServiceEndpoint:
    address: str
    replicas: tuple[Replica, ...] = ()


@dataclass(frozen=True)
class EndpointsTls:
    """The stack serves TLS: verify it against `ca`; `mtls`: it requires client certificates."""

    ca: str
    mtls: bool = False


@dataclass(frozen=True)
class Endpoints:
    protocol: str
    services: dict[str, ServiceEndpoint]
    tls: EndpointsTls | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.tls is None:
            del data["tls"]  # a plaintext stack's file is what it always was
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Endpoints:
        try:
            protocol = data["protocol"]
            if protocol not in PROTOCOLS:
                raise ValueError(f"unknown protocol {protocol!r}")
            services = {
                name: ServiceEndpoint(
                    address=entry["address"],
                    replicas=tuple(Replica(**replica) for replica in entry.get("replicas", [])),
                )
                for name, entry in data["services"].items()
            }
            tls = None if data.get("tls") is None else EndpointsTls(**data["tls"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not an endpoints file: missing or bad field {exc}") from exc
        return cls(protocol=protocol, services=services, tls=tls)

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Endpoints:
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read endpoints file {path}: {exc}") from exc


def format_address(host: str, port: int) -> str:
    """`host:port`, with IPv6 hosts in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
