"""Real feed readers run against a live feedsvc (tests/test_client_compat.py).

``readers.py`` runs each client and reduces what it understood to one shape; the Node and
PHP runner scripts beside it print that shape as JSON. ``package.json`` pins the npm
parsers (``npm ci`` here, as .ci/run does); ``gunicorn_base_url.py`` makes a test server's
links point at itself. Kept free of imports: gunicorn imports this package as a config.
"""
