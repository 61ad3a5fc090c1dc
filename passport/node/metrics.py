"""The node's Prometheus metrics (``GET /metrics``), one registry per node.

Counters and histograms are updated where the work happens (sealing, importing, the RPC
dispatcher); head, pool size and replica lag are read when Prometheus scrapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BLOCK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _Live(Collector):
    """Gauges read at scrape time."""

    def __init__(
        self,
        head: Callable[[], int],
        pending: Callable[[], int],
        replica_lag: Callable[[], dict[str, int]],
    ) -> None:
        self._head, self._pending, self._replica_lag = head, pending, replica_lag

    def collect(self) -> Iterable[GaugeMetricFamily]:
        yield GaugeMetricFamily("passport_head_block", "Number of the head block", value=self._head())
        yield GaugeMetricFamily(
            "passport_pending_transactions", "Transactions waiting in the pool", value=self._pending()
        )
        lag = GaugeMetricFamily(
            "passport_replica_lag_blocks", "Blocks a replica is behind this node", labels=["replica"]
        )
        for replica, blocks in sorted(self._replica_lag().items()):
            lag.add_metric([replica], blocks)
        yield lag


class NodeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.sealed_blocks = Counter("passport_sealed_blocks", "Blocks sealed", registry=self.registry)
        self.sealed_transactions = Counter(
            "passport_sealed_transactions", "Transactions included in sealed blocks", registry=self.registry
        )
        self.imported_blocks = Counter(
            "passport_imported_blocks", "Blocks imported from the upstream", registry=self.registry
        )
        self.seal_seconds = Histogram(
            "passport_seal_seconds", "Time to build, sign and commit a block", buckets=BLOCK_BUCKETS,
            registry=self.registry,
        )  # fmt: skip
        self.import_seconds = Histogram(
            "passport_import_seconds", "Time to verify, re-execute and commit an imported block",
            buckets=BLOCK_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.rpc_requests = Counter(
            "passport_rpc_requests", "JSON-RPC requests by method", ["method"], registry=self.registry
        )
        self.rpc_errors = Counter(
            "passport_rpc_errors", "JSON-RPC error answers by method and code", ["method", "code"],
            registry=self.registry,
        )  # fmt: skip
        self.refused_connections = Counter(
            "passport_http_refused_connections", "Connections refused at the connection limit",
            registry=self.registry,
        )  # fmt: skip
        self.open_connections = Gauge(
            "passport_http_open_connections", "Open HTTP connections", registry=self.registry
        )

    def watch(
        self, head: Callable[[], int], pending: Callable[[], int], replica_lag: Callable[[], dict[str, int]]
    ) -> None:
        self.registry.register(_Live(head, pending, replica_lag))

    def render(self) -> bytes:
        return generate_latest(self.registry)
