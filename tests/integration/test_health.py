"""Health, metrics and the OpenAPI document answer without signing in."""


def test_liveness_readiness_services(client):
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["checks"]["database"]["status"] == "ok"
    services = client.get("/health/services").json()["services"]
    assert services["database"]["status"] == "ok" and services["database"]["latency_ms"] >= 0
    assert services["google"]["status"] == "not_configured"
    assert services["workers"] == {**services["workers"], "status": "ok", "detail": "in this process"}


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
    assert "swagger-ui-bundle.js" in client.get("/schema/swagger").text  # Litestar's default place for it
    yaml_schema = client.get("/schema/openapi.yaml")
    assert yaml_schema.status_code == 200 and "/api/v1/photos:" in yaml_schema.text


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


def test_the_services_report_says_when_no_worker_takes_the_waiting_tasks(tmp_path, database_url, redis_url):
    """On Redis, with the web process leaving tasks to `classify worker`: the queue answering is not enough."""
    import redis
    from litestar.testing import TestClient

    from app.bootstrap import bootstrap
    from app.main import create_app
    from tests import images
    from tests.conftest import create_account, login, make_settings

    store = redis.Redis.from_url(redis_url)
    store.flushdb()
    settings = make_settings(tmp_path / "data", database_url, redis_url=redis_url, run_worker=False)
    try:
        with TestClient(app=create_app(settings, bootstrap(settings))) as client:
            assert client.get("/health/services").json()["services"]["workers"]["detail"].endswith("nothing is waiting")
            create_account(settings, "owner@example.com")
            login(client, "owner@example.com").upload(("a.jpg", images.jpeg(seed=1)))  # a task, and no worker
            report = client.get("/health/services").json()
            workers = report["services"]["workers"]
            assert report["status"] == "degraded" and workers["status"] == "error"
            assert "no worker has reported in the last 30 s, and 1 task is waiting" in workers["detail"]
            assert client.get("/health/ready").status_code == 200  # the web process itself is ready
            store.set("arq:queue:health-check", "Dec-06 14:00:00 j_complete=3 j_ongoing=0 queued=1", ex=31)
            workers = client.get("/health/services").json()["services"]["workers"]  # as a live worker writes it
            assert workers["status"] == "ok" and "a worker reported in the last 30 s (Dec-06" in workers["detail"]
    finally:
        store.flushdb()
        store.close()
