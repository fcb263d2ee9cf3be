"""The committed generated modules match what the proto generates today."""

from __future__ import annotations

from pathlib import Path

from calculator_grpc.codegen import GENERATED, PROTO, PROTOS_ROOT, generate


def test_committed_generated_code_is_fresh(tmp_path: Path) -> None:
    written = generate(tmp_path)
    assert sorted(p.name for p in written) == sorted(GENERATED)
    stale = [
        path.name
        for path in written
        if path.read_bytes() != (PROTOS_ROOT / PROTO.parent / path.name).read_bytes()
    ]
    assert not stale, f"stale generated code {stale}: run `python -m calculator_grpc.codegen`"


def test_generated_grpc_module_imports_relatively(tmp_path: Path) -> None:
    grpc_module = next(p for p in generate(tmp_path) if p.name == "calculator_pb2_grpc.py")
    text = grpc_module.read_text()
    assert "from . import calculator_pb2 as" in text
    assert "from calculator.v1 import" not in text
