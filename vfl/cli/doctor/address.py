"""host:port as config files write it (IPv6 in brackets)."""

from __future__ import annotations

from dataclasses import dataclass

from vfl.errors import ConfigError


@dataclass(frozen=True)
class Address:
    """A host and a port; `source` names the file and field it came from, for messages."""

    host: str
    port: int
    source: str

    @classmethod
    def parse(cls, text: str, source: str) -> Address:
        host, sep, port = text.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ConfigError(
                f"{source}: {text!r} is not host:port; write e.g. coord.example:50051"
            )
        return cls(host.strip("[]"), int(port), source)

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
