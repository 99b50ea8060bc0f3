"""The OpenAPI 3.1 document is valid and describes every declared endpoint."""

from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from app.http.api import ENDPOINTS


def test_openapi_document_is_valid_openapi_31(client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_every_declared_endpoint_is_documented_with_its_access_rule(client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    operations = {
        op["operationId"]: op for ops in document["paths"].values() for op in ops.values()
    }
    for endpoint in ENDPOINTS:
        for method in endpoint.methods:
            op = operations[f"{endpoint.blueprint}_{endpoint.name}_{method.lower()}"]
            assert op["x-brandtrace-access"] == endpoint.access.describe()


def test_request_schemas_forbid_unknown_fields(client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    token_create = document["components"]["schemas"]["TokenCreate"]
    assert token_create["additionalProperties"] is False


def test_docs_page_lists_endpoints_for_people(client) -> None:
    response = client.get("/api/v1/docs", headers={"Accept": "text/html"})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "/api/v1/tokens" in text and "openapi.json" in text
