"""One CA per test session (per xdist worker), and a second one whose certificates the first
does not trust: the "wrong" certificates."""

from __future__ import annotations

import pytest

from calcbench.core.tls import Pki, make_pki


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki") / "tls")


@pytest.fixture(scope="session")
def wrong_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("wrong-pki") / "tls")
