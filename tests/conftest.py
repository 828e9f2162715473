from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

VECTORS = Path(__file__).parent / "vectors"

settings.register_profile(
    "default", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True)
settings.load_profile("default")


def load_json(relative: str) -> Any:
    return json.loads((VECTORS / relative).read_text())


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    return VECTORS
