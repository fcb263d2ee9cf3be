"""Regenerate the committed protobuf and gRPC modules from `calculator.proto`.

Run `python -m calculator_grpc.codegen` after editing the proto (a test fails while the committed
modules are stale). `--out DIR` writes elsewhere, which is how that test compares.

protoc writes `from calculator.v1 import calculator_pb2`, an absolute import that only works with
the protos folder on `sys.path`; we rewrite it to a relative one so the modules import as
`calcbench.core.protos.calculator.v1.calculator_pb2`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from calcbench.core import protos

#: The wire contract lives in the base, since the load generator's client reads it too.
PROTOS_ROOT = Path(protos.__file__).resolve().parent
PROTO = Path("calculator/v1/calculator.proto")
GENERATED = ("calculator_pb2.py", "calculator_pb2_grpc.py", "calculator_pb2.pyi")

_ABSOLUTE_IMPORT = "from calculator.v1 import calculator_pb2 as"
_RELATIVE_IMPORT = "from . import calculator_pb2 as"


def generate(out: Path = PROTOS_ROOT) -> list[Path]:
    """Run protoc on the proto into `out` (mirroring `calculator/v1/`); return the files written."""
    from grpc_tools import protoc  # a test-time dependency (grpcio-tools), not a runtime one

    well_known = resources.files("grpc_tools") / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTOS_ROOT}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--pyi_out={out}",
        str(PROTOS_ROOT / PROTO),
    ]
    out.mkdir(parents=True, exist_ok=True)
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed on {PROTO}")
    target = out / PROTO.parent
    _make_relative(target / "calculator_pb2_grpc.py")
    return [target / name for name in GENERATED]


def _make_relative(path: Path) -> None:
    text = path.read_text()
    if _ABSOLUTE_IMPORT not in text:
        raise RuntimeError(f"{path}: protoc's import line changed; update codegen")
    path.write_text(text.replace(_ABSOLUTE_IMPORT, _RELATIVE_IMPORT))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calculator_grpc.codegen", description=__doc__)
    parser.add_argument("--out", type=Path, default=PROTOS_ROOT, help="output root folder")
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
