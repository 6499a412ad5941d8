"""Feeds: a neutral model (model.py), built from the store (data.py), rendered purely
(render.py), and served with validators, compression and a render cache (http.py)."""
