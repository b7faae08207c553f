"""Schemathesis against the app's own OpenAPI schema: no 5xx, every response as documented."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from policy_search.settings import Settings
from search.engine import SearchEngine
from web.app import create_app

ADMIN = "fuzz-admin-key-5e1f"


def _fuzz_app(corpus_index, folder, embedder):  # type: ignore[no-untyped-def]
    """The app over a private copy of the corpus index, with an admin key and no rate limit."""
    index = folder / "index"
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
def fuzz_app(corpus_index, tmp_path_factory, embedder):
    return _fuzz_app(corpus_index, tmp_path_factory.mktemp("fuzz"), embedder)


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


# The upload operation: whether a file is usable depends on its bytes, which no schema can
# describe, so a well-formed upload may also be answered "no file could be used" (413/422,
# each file with its reason). Every other operation: schemathesis' defaults.
_CONFIG = """
[[operations]]
include-path = "/api/documents"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "409", "413", "422"]
# More files than maxItems is 413 too_many_files, as README promises (not in the defaults).
checks.negative_data_rejection.expected-statuses = [
    "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"
]
"""


@pytest.mark.slow
def test_whole_schema_every_check_every_phase_against_a_live_server(
    corpus_index, tmp_path, embedder, live_server
):
    """`schemathesis run` with all checks and all phases (examples, coverage, fuzzing,
    stateful) against the app served by uvicorn as `serve` configures it: 0 failures."""
    import os
    import subprocess
    import sys

    url = live_server(_fuzz_app(corpus_index, tmp_path, embedder))
    config = tmp_path / "schemathesis.toml"
    config.write_text(_CONFIG)
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "fuzz_hooks"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(config),
            "run",
            f"{url}/openapi.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            "100",
            "--seed",
            "14",
            "--header",
            f"Authorization: Bearer {ADMIN}",
            "--request-timeout",
            "120",
            "--workers",
            "1",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,  # its cache folder (.schemathesis) goes there
        timeout=3000,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-12000:]
    assert "Failures:" not in output, output[-12000:]
