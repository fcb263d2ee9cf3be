"""Property-based fuzzing of one real replica per server model, bounded to stay fast.

Schemathesis generates requests from the replica's own `/openapi.json`, schema-valid and not,
and checks each answer against that document; hypothesis then throws bodies at it with an
oracle, `calcbench.core.arithmetic.compute`. Afterwards the replica still answers, and its metrics
counted every request exactly once.

Schemathesis is used through its Python API (`APIOperation.as_strategy` under `@given`): its
pytest decorators rename test nodes through an attribute pytest 9.2 no longer has.
"""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from calcbench.core.arithmetic import InvalidArgument, compute
from calcbench.core.vocabulary import SERVER_OUTCOMES, RestServerModel
from calculator_rest.server import RestService
from tests.calculator_rest.conftest import StartService, scrape, url

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),  # bounded runs, judged by their asserts
)

#: Schema-valid bodies may still be an invalid argument (a zero divisor, an overflow): 400.
#: Schema-invalid ones are a malformed body (422) or a content type the route does not take.
SCHEMATHESIS_CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["200", "400"]},
            "negative_data_rejection": {"expected-statuses": ["413", "415", "422"]},
        }
    }
)


@pytest.fixture(params=list(RestServerModel))
def model(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_schemathesis_cases_conform_to_the_openapi_document(
    serve: StartService, model: str
) -> None:
    replica = serve("division", server_model=model)
    schema = schemathesis.openapi.from_url(
        url(replica, "/openapi.json"), config=SCHEMATHESIS_CONFIG
    )
    operation = schema["/division"]["POST"]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    sent = 0

    @FUZZ
    @given(case=cases)
    def run(case: Any) -> None:
        nonlocal sent
        response = case.call(session=session)
        sent += 1
        case.validate_response(response)

    with requests.Session() as session:
        run()
    assert_counted_and_answering(replica, sent)


def test_hypothesis_bodies_get_the_arithmetic_or_a_documented_error(
    serve: StartService, model: str
) -> None:
    replica = serve("division", server_model=model)
    sent = 0

    @FUZZ
    @given(body=BODIES)
    def run(body: bytes) -> None:
        nonlocal sent
        reply = http.post(url(replica, "/division"), content=body)
        sent += 1
        check_answer(body, reply)

    with httpx.Client(timeout=10) as http:
        run()
    assert_counted_and_answering(replica, sent)


NUMBERS = st.one_of(
    st.floats(),  # NaN and infinities included: sent as Python's json writes them
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([0, -0.0, 1e308, -1e308, 5e-324]),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | NUMBERS | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)
OPERANDS = st.fixed_dictionaries({"op1": NUMBERS, "op2": NUMBERS})
BODIES = st.one_of(
    st.builds(json.dumps, OPERANDS).map(str.encode),
    st.builds(json.dumps, st.one_of(JSON_VALUES, st.fixed_dictionaries({"op1": JSON_VALUES}))).map(
        str.encode
    ),
    st.binary(max_size=64),
)


def check_answer(body: bytes, reply: httpx.Response) -> None:
    """The answer `compute` gives for numeric operands; otherwise a documented error."""
    assert reply.headers["content-type"] == "application/json"
    operands = _numeric_operands(body)
    if operands is None:
        assert reply.status_code in (400, 422), reply.text
        assert isinstance(reply.json()["detail"], str)
        return
    try:
        expected = compute("division", *operands)
    except InvalidArgument as exc:
        assert (reply.status_code, reply.json()) == (400, {"detail": str(exc)})
    else:
        assert (reply.status_code, reply.json()) == (200, {"result": expected})


def _numeric_operands(body: bytes) -> tuple[float, float] | None:
    """`(op1, op2)` as the service must read them, or None if the body has no such pair."""
    try:
        data = json.loads(body.decode())
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    op1, op2 = data.get("op1"), data.get("op2")
    if not (type(op1) in (int, float) and type(op2) in (int, float)):
        return None
    return _as_float(op1), _as_float(op2)


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer past a double's range
        return math.inf if value > 0 else -math.inf


def assert_counted_and_answering(replica: RestService, sent: int) -> None:
    """Every fuzzed request counted once; then a valid request still answered and counted."""
    assert _counted(replica) == sent
    reply = httpx.post(url(replica, "/division"), json={"op1": 6, "op2": 3}, timeout=10)
    assert (reply.status_code, reply.json()) == (200, {"result": 2.0})
    assert _counted(replica) == sent + 1


def _counted(replica: RestService) -> float:
    samples = scrape(replica.metrics_port)["calc_requests_total"]
    assert {labels["outcome"] for labels, _ in samples} == set(SERVER_OUTCOMES)
    return sum(value for _, value in samples)
