"""The OpenAPI document tells the truth about every answer: requests generated from it (valid ones and
broken ones) get a status code it lists for that operation, with the content type and body shape it
gives, and never a 500. A client generated from /schema/openapi.json can rely on it."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.images import jpeg

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SKIPPED = {
    ("POST", "/api/v1/auth/logout"),  # would sign the test's own token out
    ("POST", "/api/v1/auth/logout-everywhere"),  # likewise
}
EXAMPLES = 12  # a case, per operation and mode; ~30 operations x 2 modes in ~20 s


def send(api: Any, case: Any) -> Any:
    """The case as schemathesis would send it (prepared by requests, multipart included), sent through
    Litestar's in-process test client."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver.local", headers=api.headers)
    prepared = requests.Request(**kwargs).prepare()
    return api.client.request(
        prepared.method or "GET", prepared.url or "/", headers=dict(prepared.headers), content=prepared.body
    )


@pytest.fixture
def operations(api) -> list[Any]:
    schema = schemathesis.openapi.from_dict(api.client.get("/schema/openapi.json").json())
    found = [result.ok() for result in schema.get_all_operations()]
    return [op for op in found if (op.method.upper(), op.path) not in SKIPPED]


@pytest.mark.timeout(240)
def test_every_answer_is_documented(api, operations):
    # Real rows, so that some ids in generated paths are found and their 200 answers are checked too.
    uploaded = api.upload(("one.jpg", jpeg(seed=1)), ("two.jpg", jpeg(seed=2)))
    photo_ids = [p["id"] for p in uploaded.json()["photos"]]
    job_id = api.client.post("/api/v1/blur/analyze-batch", json={}, headers=api.headers).json()["job_id"]
    known = {"photo_id": photo_ids, "job_id": [job_id]}
    sent: dict[int, int] = {}

    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=op.as_strategy(generation_mode=mode), real=st.booleans(), pick=st.integers(0, 1))
            def check(case: Any, real: bool, pick: int) -> None:
                for name in case.path_parameters or {}:
                    if real and name in known:
                        case.path_parameters[name] = known[name][pick % len(known[name])]
                response = send(api, case)
                sent[response.status_code] = sent.get(response.status_code, 0) + 1
                case.validate_response(response, checks=CHECKS)

            try:
                check()
            except Unsatisfiable:  # nothing in this operation that a broken request could break
                if mode is GenerationMode.POSITIVE:
                    raise

    assert len(operations) >= 28
    assert sum(sent.values()) >= len(operations) * 10
    assert {200, 201, 202, 401, 404, 422} <= set(sent), sent  # the answers above were really exercised


def test_the_document_names_the_ranges_and_values_the_api_takes(api):
    schemas = api.client.get("/schema/openapi.json").json()["components"]["schemas"]
    threshold = schemas["SettingsPatch"]["properties"]["blur_threshold"]
    assert (threshold["minimum"], threshold["maximum"]) == (0.0, 1.0)
    assert schemas["ImportBody"]["properties"]["source"]["enum"] == ["google_drive", "dropbox", "folder"]
    photo = schemas["PhotoOut"]["properties"]
    assert "dropbox" in photo["source"]["enum"] and "not_blurred" in photo["category"]["enum"]
    # documented, not enforced by the decoder: a value out of range still gets the API's own 422 that names it
    refused = api.client.patch("/api/v1/settings", json={"blur_threshold": 1.5}, headers=api.headers)
    assert refused.status_code == 422 and "between 0 and 1" in refused.json()["detail"]
    refused = api.client.post("/api/v1/imports", json={"source": "ftp"}, headers=api.headers)
    assert refused.status_code == 422 and "source must be" in refused.json()["detail"]
    # the query parameters too: the tab, the order, the page's size, what an export names and keeps
    paths = api.client.get("/schema/openapi.json").json()["paths"]
    listed = {p["name"]: p["schema"] for p in paths["/api/v1/photos"]["get"]["parameters"]}
    assert listed["filter"]["enum"] == ["all", "blurred", "not_blurred", "unprocessed"]
    assert listed["sort"]["enum"] == ["newest", "blurriest", "sharpest"]
    assert (listed["limit"]["minimum"], listed["limit"]["maximum"], listed["limit"]["default"]) == (1, 200, 50)
    exported = {p["name"]: p["schema"] for p in paths["/api/v1/export"]["get"]["parameters"]}
    assert exported["names"]["enum"] == ["original", "ai"] and exported["similar"]["enum"] == ["all", "sharpest"]
    groups = {p["name"]: p["schema"] for p in paths["/api/v1/similar"]["get"]["parameters"]}["limit"]
    assert groups["maximum"] == 100
    for query, words in (("limit=201", "limit must be between 1 and 200"), ("sort=oldest", "sort must be one of")):
        refused = api.get(f"/api/v1/photos?{query}")
        assert refused.status_code == 422 and words in refused.json()["detail"], query


def test_every_operation_says_what_it_does_in_words(api):
    """The docs page lists each operation by its summary: a sentence, not a handler's name (ApiStartPicking)."""
    paths = api.client.get("/schema/openapi.json").json()["paths"]
    unsaid = [
        f"{method.upper()} {path}: {op.get('summary')!r}"
        for path, operations in paths.items()
        for method, op in operations.items()
        if isinstance(op, dict) and " " not in (op.get("summary") or "")
    ]
    assert unsaid == []


def test_the_document_shows_no_made_up_examples(api):
    """Litestar's generated examples are random ("status_code": 3674, "detail": "YmbpFdWetXVhYOwZjsYx"): none."""
    document = api.client.get("/schema/openapi.json").json()
    answers = [answer for operations in document["paths"].values() for op in operations.values() if isinstance(op, dict)
               for answer in op.get("responses", {}).values()]  # fmt: skip
    assert answers and not [a for a in answers for m in a.get("content", {}).values() if "examples" in m]
    refused = document["components"]["schemas"]["UploadRefused"]
    assert refused["required"] == ["detail", "status_code"]  # a request refused whole lists no files
