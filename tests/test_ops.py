"""Health, metrics, the front page and its UI catalogs."""

from __future__ import annotations

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from feedsvc import create_app
from tests.conftest import make_config


def test_healthz_checks_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "queue": "ok"}


def test_healthz_reports_an_unreachable_database() -> None:
    # Port 9 on loopback: nothing listens there, so the connection is refused at once.
    app = create_app(make_config("postgresql+psycopg://postgres@127.0.0.1:9/none"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unreachable"}


def test_metrics_count_requests_by_endpoint_and_status(client: FlaskClient) -> None:
    client.get("/api/v1/articles")
    client.get("/api/v1/articles/12345")
    client.get("/api/v1/articles/12345")
    text = client.get("/metrics").get_data(as_text=True)
    families = {family.name: family for family in text_string_to_metric_families(text)}
    requests = {
        (s.labels["endpoint"], s.labels["status"]): s.value
        for s in families["feedsvc_http_requests"].samples
        if s.name.endswith("_total")
    }
    assert requests[("/api/v1/articles", "200")] == 1
    assert requests[("/api/v1/articles/<int(signed=True):article_id>", "404")] == 2
    buckets = [
        s
        for s in families["feedsvc_http_request_duration_seconds"].samples
        if s.name.endswith("_count") and s.labels["endpoint"] == "/api/v1/articles"
    ]
    assert buckets[0].value == 1


def test_front_page_is_localized_from_accept_language(client: FlaskClient) -> None:
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    chinese = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Multilingual news feeds" in english
    assert '<html lang="zh-Hans">' in chinese and "多语种新闻订阅源" in chinese


def test_unknown_api_path_is_problem_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    wrong_method = client.put("/api/v1/articles")
    assert wrong_method.status_code == 405
    assert "POST" in wrong_method.headers["Allow"]
