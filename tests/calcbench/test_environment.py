"""Environment metadata: one package list, null for a missing package, one timestamp format."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from calcbench.core import environment


def test_a_missing_package_is_null(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(environment, "PACKAGES", ("calcbench", "no-such-package-here"))
    found = environment.versions()
    assert list(found) == ["python", "calcbench", "no-such-package-here"]
    assert found["calcbench"] and found["no-such-package-here"] is None


def test_timestamps_are_utc_to_the_millisecond() -> None:
    stamp = environment.utc_now()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
    assert datetime.fromisoformat(stamp).utcoffset() is not None


def test_host_names_the_cpus() -> None:
    host = environment.host()
    assert host["cpu_count"] and {"affinity", "platform", "python", "hostname"} <= set(host)
