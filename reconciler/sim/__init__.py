"""Simulated Kubernetes clusters over real HTTP, for tests, ``stackfleet demo`` and benchmarks.

One ``server.SimServer`` serves many clusters, each a Kubernetes API at
``http(s)://127.0.0.1:PORT/clusters/<name>`` reachable through a generated kubeconfig by the official
``kubernetes`` client and by ``kubectl``. Modules:

- ``server``       HTTP(S), one thread per connection; authentication, counters and faults per request
- ``handlers``     the API: routes a ``Request`` to discovery, OpenAPI or object verbs, answers a ``Response``
- ``clusters``     one cluster's store and write rules (resourceVersion, generation, finalizers, GC)
- ``managers``     the bridge to the server-side apply engine (``ssa``) and defaulting (``defaults``)
- ``discovery``, ``openapis``, ``resources``, ``routes``, ``selectors``, ``statuses``, ``bodies``
- ``watches``      the per-cluster event log behind ``watch=true``
- ``controllers``, ``workloads``, ``capi``   simulated controllers and Cluster API
- ``faults``       latency, 429/500/503, resets, cluster down, denied deletes, request counters
- ``kubeconfigs``, ``certs``, ``fleets``, ``scales``, ``pages``, ``crdstatus``, ``metas``
- ``testing``      helpers for tests in every area (``testing.running(...)``)
"""
