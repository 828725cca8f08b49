"""Health, metrics and the OpenAPI document answer without signing in."""


def test_liveness_readiness_services(client):
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["checks"]["database"]["status"] == "ok"
    services = client.get("/health/services").json()["services"]
    assert services["database"]["status"] == "ok" and services["database"]["latency_ms"] >= 0
    assert services["google"]["status"] == "not_configured"


def test_metrics_and_openapi(client):
    client.get("/health")
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert "requests_total" in metrics.text and 'app_name="classify"' in metrics.text
    assert metrics.headers["content-type"].startswith("text/plain; version=")  # what Prometheus scrapes
    schema = client.get("/schema/openapi.json").json()
    documented = schema["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(documented) == [metrics.headers["content-type"].split("; charset")[0]]
    for path in ("/api/v1/auth/login", "/api/v1/photos", "/api/v1/blur/analyze-batch", "/api/v1/export"):
        assert path in schema["paths"]
    assert client.get("/schema").status_code == 200


def test_openapi_says_which_calls_need_a_bearer_token_and_how_to_upload(client):
    schema = client.get("/schema/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["bearer"]["description"],
    }
    paths = schema["paths"]
    assert "security" not in paths["/api/v1/auth/login"]["post"]
    for path, method in (("/api/v1/photos", "get"), ("/api/v1/auth/me", "get"), ("/api/v1/albums/google", "post")):
        assert paths[path][method]["security"] == [{"bearer": []}], path
    upload = paths["/api/v1/photos"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["files"] and form["properties"]["files"]["items"]["format"] == "binary"
    assert {"200", "201", "413", "415", "422"} <= set(upload["responses"])


def test_responses_carry_a_request_id(client):
    first, second = client.get("/health"), client.get("/health")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    kept = client.get("/health", headers={"x-request-id": "abcdef123456"})
    assert kept.headers["x-request-id"] == "abcdef123456"


def test_unknown_paths_and_methods_are_json_4xx(client):
    assert client.get("/api/v1/nothing-here").json()["status_code"] == 404
    assert client.delete("/health").status_code == 405


def test_the_api_docs_page_loads_its_assets_from_this_server(client):
    page = client.get("/schema").text
    assert "/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js" in page and "unpkg" not in page
    assert client.get("/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js").status_code == 200
