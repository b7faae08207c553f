"""Schemathesis against the app's own OpenAPI schema: no 5xx, every response as documented."""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from search.engine import SearchEngine
from search.settings import Settings
from web.app import create_app

ADMIN = "fuzz-admin-key-5e1f"


@pytest.fixture(scope="module")
def fuzz_app(corpus_index, tmp_path_factory, embedder):
    index = tmp_path_factory.mktemp("fuzz") / "index"
    shutil.copytree(corpus_index, index, symlinks=True)
    s = Settings(
        index_dir=index,
        admin_keys=ADMIN,
        rate_limit_per_address=0,
        rate_limit_per_key=0,
        extraction_timeout_s=5,
    )
    return create_app(s, engine=SearchEngine(s, embedder=embedder))


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


def test_api_matches_its_schema(api_schema):
    """Every operation in the schema, a bounded number of generated requests each.

    (schemathesis' pytest loader does not run under pytest 9, so the operations
    are walked here with plain Hypothesis.)
    """
    from hypothesis import given

    failures = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 4
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case):
            # With the admin key, so uploads and deletes get past auth and are exercised;
            # the ignored_auth check also sends each secured request without it.
            # positive_data_acceptance is left out: whether an upload is usable depends on
            # the file's bytes, which no schema can describe (random bytes get a 422).
            case.call_and_validate(
                headers={"Authorization": f"Bearer {ADMIN}"},
                excluded_checks=[positive_data_acceptance],
            )

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report all
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


def test_schema_documents_the_write_routes_and_their_errors(fuzz_app):
    spec = TestClient(fuzz_app).get("/openapi.json").json()
    post = spec["paths"]["/api/documents"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert {"401", "403", "413", "422"} <= set(post["responses"])
    assert "429" in spec["paths"]["/api/search"]["get"]["responses"]
    schemes = spec["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
