"""The one way calcbench talks to a cluster: the `kubectl` on PATH, with one error type.

Every failure (no kubectl, no cluster access, a command that failed or hung) becomes a
`KubectlError` whose message is one line naming what is missing, for the CLI's `error:` line.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any, Final

INSTALL_HINT: Final = "install it: https://kubernetes.io/docs/tasks/tools/"


class KubectlError(RuntimeError):
    """kubectl is missing, cannot reach the cluster, or a command failed (one-line message)."""


class NotFound(KubectlError):
    """The object asked for does not exist."""


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1].removeprefix("error: ") if lines else "no output"


@dataclass(frozen=True)
class Kubectl:
    """Runs `kubectl [--context C] ARGS`. `timeout` bounds any one command (seconds)."""

    binary: str = "kubectl"
    context: str | None = None
    timeout: float = 120.0

    def path(self) -> str:
        found = shutil.which(self.binary)
        if found is None:
            raise KubectlError(f"{self.binary} is not on PATH; {INSTALL_HINT}")
        return found

    def run(self, *args: str, stdin: str | None = None, timeout: float | None = None) -> str:
        """kubectl's standard output; raises KubectlError (NotFound for a missing object)."""
        argv = [self.path(), *(["--context", self.context] if self.context else []), *args]
        shown = " ".join(args[:3])
        limit = self.timeout if timeout is None else timeout
        try:
            proc = subprocess.run(
                argv, input=stdin, capture_output=True, text=True, timeout=limit, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise KubectlError(f"kubectl {shown} did not finish within {limit:g} s") from exc
        except OSError as exc:
            raise KubectlError(f"cannot run {argv[0]}: {exc.strerror}") from exc
        if proc.returncode != 0:
            why = _last_line(proc.stderr)
            error = NotFound if "(NotFound)" in proc.stderr else KubectlError
            raise error(f"kubectl {shown} failed: {why}")
        return proc.stdout

    def json(self, *args: str) -> Any:
        """`kubectl ARGS -o json`, parsed."""
        text = self.run(*args, "-o", "json")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise KubectlError(f"kubectl {' '.join(args[:3])} did not print JSON") from exc

    def server_version(self) -> str:
        """The API server's version (`v1.30.2`); KubectlError "no cluster access" otherwise."""
        self.path()  # a missing kubectl is not a missing cluster
        try:
            version = json.loads(self.run("get", "--raw", "/version", timeout=30))
        except (KubectlError, json.JSONDecodeError) as exc:
            raise KubectlError(f"no cluster access: {exc}") from exc
        return str(version.get("gitVersion", "unknown"))

    def apply(self, manifests_yaml: str) -> str:
        return self.run("apply", "-f", "-", stdin=manifests_yaml)

    def raw(self, path: str) -> str:
        """A GET through the API server (`kubectl get --raw PATH`), e.g. a pod's proxy."""
        return self.run("get", "--raw", path, timeout=30)
