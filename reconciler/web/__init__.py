"""The daemon's web app: dashboard, JSON API, probes, metrics and webhook routes (see ``apps``).

- ``apps``: ``create_app(services)`` and the route table; ``servers``: uvicorn in a background thread.
- ``services``: what the app is built from; ``access``/``guards``/``logins``: tokens, scopes, login.
- ``headers``: CSP and the other security headers; ``pages``/``apis``/``probes``/``pushes``: handlers.
- ``catalogs``/``matrices``/``states``/``links``/``filters``: the data the templates show.
- ``testing``: filling a store with a fleet's records for tests and benchmarks.
"""
