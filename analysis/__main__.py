"""`python -m analysis report RUN_DIR` / `compare RUN_DIR... --out DIR`, without the main CLI."""

from __future__ import annotations

from analysis.cli import app

if __name__ == "__main__":
    app()()
