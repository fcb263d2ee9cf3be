"""The calculator over REST (HTTP/1.1, FastAPI on uvicorn): one service per process."""

from __future__ import annotations

from calculator_rest.app import create_app
from calculator_rest.server import RestService, start

__all__ = ["RestService", "create_app", "start"]
