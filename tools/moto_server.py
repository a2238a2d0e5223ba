"""moto server with the fix-ups that make it behave like AWS where the failover depends on it.

    python -m tools.moto_server -H 127.0.0.1 -p PORT      (tools.emulator starts it this way)

moto 5.2.5 keeps ReadReplicaSourceDBInstanceIdentifier after PromoteReadReplica; RDS removes it, and the failover
function waits for exactly that. `apply()` makes moto do what RDS does (the handler tests use it in-process), and
fails loudly once moto does it by itself, so the fix-up can be deleted then.
"""

from __future__ import annotations

import sys
from typing import Any

from moto.rds.models import RDSBackend
from moto.server import main as serve


def promotion_clears_the_source() -> None:
    original = RDSBackend.promote_read_replica
    if getattr(original, "clears_source", False):
        return

    def promote(self: Any, db_kwargs: dict[str, Any]) -> Any:
        database = original(self, db_kwargs)
        if database.source_db_instance_identifier is None:
            raise RuntimeError("moto now clears the source of a promoted replica itself: remove this fix-up")
        database.source_db_instance_identifier = None
        return database

    promote.clears_source = True  # type: ignore[attr-defined]
    RDSBackend.promote_read_replica = promote


def apply() -> None:
    """Every fix-up, in this process."""
    promotion_clears_the_source()


def main(argv: list[str]) -> None:
    apply()
    serve(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
