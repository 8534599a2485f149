"""Schemathesis over the served OpenAPI document, on both backends: requests generated from
the schema never get a 5xx, and every answer is one the schema documents, in the shape it
documents. A project with a labeled document is seeded and put in every path, so that the
generated requests reach past the first 404."""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.conftest import KEY_HEADER

EXAMPLES = 25  # per operation: about 1,100 requests a backend


def seed(api, project: str) -> None:
    """The project with a labeled document, (re)made before each operation's run: a generated
    DELETE of the project or the document must not leave the next operations at a 404."""
    body = {"projectKind": "CustomEntityRecognition", "language": "en", "overlapPolicy": "reject"}
    assert api.patch(f"/{project}", json=body).status_code in (200, 201)
    assert api.put(f"/{project}/entities/Person").status_code in (200, 201)
    # 409: d is there, changed by a generated request (its dataset, say): as good for the next one
    assert api.put(f"/{project}/documents/d", json={"text": "Alice met Bob in Paris."}).status_code in (200, 201, 409)
    api.post(f"/{project}/documents/d/labels", json={"category": "Person", "offset": 0, "length": 5})


@pytest.fixture(scope="module")
def seeded(server):
    with server.api() as api:
        yield api, api.new_project(entities=("Person",))


def test_generated_requests_get_documented_answers_and_no_5xx(server, seeded):
    api, project = seeded
    api_schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 40

    for operation in operations:  # one Hypothesis run per operation (schemathesis's pytest plugin needs pytest < 9)
        seed(api, project)

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            if "projectName" in (case.path_parameters or {}):
                case.path_parameters["projectName"] = project
            if "documentName" in (case.path_parameters or {}):
                case.path_parameters["documentName"] = "d"
            headers = {**(case.headers or {}), KEY_HEADER: api.key}
            response = case.call(base_url=server.base_url, headers=headers)
            case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                                     response_schema_conformance])

        check()


SCENARIOS = 40  # chains of up to STEPS requests a backend
STEPS = 6


def test_chained_requests_through_the_inferred_links_get_documented_answers_and_no_5xx(server, seeded):
    """Stateful: schemathesis infers which answers feed which requests (a project's name from
    the list, a document's from its PUT, a label id from a POST) and chains them."""
    api, project = seeded
    workflow = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json").as_state_machine()
    assert len([name for name in dir(workflow) if "__" in name and not name.startswith("_")]) > 50  # links found

    answered: list[tuple[str, int]] = []

    class Chained(workflow):
        def setup(self):
            seed(api, project)

        def after_call(self, response, case):
            answered.append((f"{case.method} {case.path}", response.status_code))

        def before_call(self, case):  # in the seeded project and document, as above
            case.headers = {**(case.headers or {}), KEY_HEADER: api.key}
            for name, value in (("projectName", project), ("documentName", "d")):
                if name in (case.path_parameters or {}):
                    case.path_parameters[name] = value

        def get_call_kwargs(self, case):
            return {"base_url": server.base_url}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                                     response_schema_conformance])

    Chained.run(settings=settings(max_examples=SCENARIOS, stateful_step_count=STEPS, deadline=None,
                                  derandomize=True, database=None, phases=[Phase.generate],
                                  suppress_health_check=list(HealthCheck)))
    assert len(answered) >= 2 * SCENARIOS
    reached = {operation for operation, status in answered if status < 300}
    assert len(reached) >= 5, sorted(reached)  # the chains get past refusals, not only to them (8 seen)
