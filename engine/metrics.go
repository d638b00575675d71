package engine

import (
	"errors"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
)

// metrics are one node's Prometheus metrics, on the node's own registry
// (several nodes share a process in a devnet).
type metrics struct {
	reg *prometheus.Registry

	round              prometheus.Gauge
	lastCommittedRound prometheus.Gauge
	lastCommittedSeq   prometheus.Gauge
	commits            prometheus.Counter
	committedCerts     prometheus.Counter
	committedBatches   prometheus.Counter
	committedTxs       prometheus.Counter
	commitLatency      prometheus.Histogram
	batchLatency       prometheus.Histogram
	peersConnected     prometheus.Gauge
	queueDepth         *prometheus.GaugeVec
	messagesIn         *prometheus.CounterVec
	messagesOut        *prometheus.CounterVec
	sendDropped        *prometheus.CounterVec
	rejected           *prometheus.CounterVec
	evidence           prometheus.Counter
	evidenceStored     prometheus.Gauge
	evidenceDropped    prometheus.Counter
	evidenceDropSeen   uint64 // the store's count already added to evidenceDropped
	submitted          *prometheus.CounterVec
	admissionRefused   *prometheus.CounterVec
	persistLatency     prometheus.Histogram
	persistBytes       prometheus.Counter
	loopEvents         prometheus.Histogram
	subscriberDrops    prometheus.Counter
	sendDeferred       prometheus.Counter
	storeStalls        prometheus.Counter
	reproposed         prometheus.Counter
	reproposedSeen     uint64 // the core's count already added to reproposed
	unacked            prometheus.Gauge
}

// latencyBuckets spans 1 ms to about 33 s in steps of 25%: fine enough
// for p50/p99 commit latency read from the histogram.
func latencyBuckets() []float64 { return prometheus.ExponentialBuckets(0.001, 1.25, 48) }

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	ns := "dagd"
	m := &metrics{reg: reg}
	m.round = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "round", Help: "Round of the primary's next own header."})
	m.lastCommittedRound = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "last_committed_round", Help: "Round of the last committed leader."})
	m.lastCommittedSeq = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "last_committed_seq", Help: "Sequence number of the last delivered commit."})
	m.commits = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "commits_total", Help: "Committed sub-DAGs delivered."})
	m.committedCerts = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "committed_certificates_total", Help: "Certificates in delivered commits."})
	m.committedBatches = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "committed_batches_total", Help: "Batches in delivered commits."})
	m.committedTxs = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "committed_transactions_total", Help: "Transactions in delivered commits."})
	m.commitLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "commit_latency_seconds",
		Help: "From the leader header's timestamp to the commit's delivery on this node.", Buckets: latencyBuckets()})
	m.batchLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "batch_latency_seconds",
		Help: "From sealing an own batch to delivering the commit that includes it.", Buckets: latencyBuckets()})
	m.peersConnected = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "peers_connected", Help: "Committee peers connected."})
	m.queueDepth = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "queue_depth",
		Help: "Items waiting, by queue: submit (requests), inbox (peer messages), worker (own batches not in a header), pending_certs, pending_commits, requested_batches (asked of peers)."}, []string{"queue"})
	m.messagesIn = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "messages_received_total", Help: "Peer messages decoded, by kind."}, []string{"kind"})
	m.messagesOut = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "messages_sent_total", Help: "Messages handed to the transport, by kind (a broadcast counts once per peer)."}, []string{"kind"})
	m.sendDropped = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "messages_dropped_total", Help: "Messages the transport refused (full queue, no connection), by kind."}, []string{"kind"})
	m.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "messages_rejected_total",
		Help: "Peer messages refused, by message kind and reason class."}, []string{"kind", "reason"})
	m.evidence = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "equivocation_evidence_total", Help: "Equivocations detected."})
	m.evidenceStored = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "evidence_stored",
		Help: "Equivocation evidence records in the store (one per author, round and epoch; at most storage.max_evidence)."})
	m.evidenceDropped = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "evidence_dropped_total",
		Help: "Equivocation evidence records dropped, oldest first, to keep at most storage.max_evidence."})
	m.submitted = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "submitted_transactions_total",
		Help: "Client transactions by outcome: accepted, busy, invalid."}, []string{"result"})
	m.admissionRefused = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "admission_refused_transactions_total",
		Help: "Client transactions refused at admission, by reason: malformed, wrong_chain, fee_too_low, small_order_sender, nonce_used, nonce_too_far, cannot_pay_fee, bad_signature."}, []string{"reason"})
	m.persistLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "persist_seconds",
		Help: "Duration of one synced write of the core's records.", Buckets: prometheus.ExponentialBuckets(0.00005, 1.5, 30)})
	m.persistBytes = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "persist_bytes_total", Help: "Bytes written to the store."})
	m.loopEvents = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "loop_events_per_flush",
		Help: "Events handled between two flushes of the core's output.", Buckets: prometheus.ExponentialBuckets(1, 2, 12)})
	m.subscriberDrops = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "subscriptions_dropped_total", Help: "Commit subscriptions ended because their reader lagged."})
	m.sendDeferred = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "batch_sends_deferred_total",
		Help: "Own batch sends held back because the peer has not acknowledged the same batch yet or has too many unacknowledged batch bytes."})
	m.storeStalls = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "store_write_stalls_total",
		Help: "Times the store delayed writes (memtables or L0 full)."})
	m.reproposed = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "batches_reproposed_total",
		Help: "Own batches proposed again because their certificate missed every commit (an orphaned certificate)."})
	m.unacked = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "batch_bytes_unacknowledged",
		Help: "Bytes of own batches sent to peers and not yet acknowledged, summed over peers."})
	for _, c := range []prometheus.Collector{m.reproposed, m.sendDeferred, m.storeStalls, m.unacked, m.round, m.lastCommittedRound, m.lastCommittedSeq, m.commits, m.committedCerts,
		m.committedBatches, m.committedTxs, m.commitLatency, m.batchLatency, m.peersConnected, m.queueDepth, m.messagesIn,
		m.messagesOut, m.sendDropped, m.rejected, m.evidence, m.evidenceStored, m.evidenceDropped, m.submitted, m.admissionRefused, m.persistLatency, m.persistBytes, m.loopEvents,
		m.subscriberDrops} {
		f(c)
	}
	return m
}

// reasonClass sorts a rejection into a small fixed set of label values.
func reasonClass(err error) string {
	switch {
	case err == nil:
		return "none"
	case errors.Is(err, dag.ErrMalformed), errors.Is(err, crypto.ErrMalformed):
		return "malformed"
	case errors.Is(err, crypto.ErrBadSignature), errors.Is(err, crypto.ErrUnknownSigner), errors.Is(err, crypto.ErrNoSigners):
		return "signature"
	case errors.Is(err, dag.ErrMissingParents):
		return "missing_parents"
	}
	s := err.Error()
	switch {
	case strings.Contains(s, "too far ahead"):
		return "too_far_ahead"
	case strings.Contains(s, "equivocat"), strings.Contains(s, "conflicting"):
		return "equivocation"
	case strings.Contains(s, "epoch"):
		return "epoch"
	case strings.Contains(s, "dropped"), strings.Contains(s, "limit"):
		return "limit"
	case strings.Contains(s, "not in committee"), strings.Contains(s, "unknown validator"):
		return "unknown_validator"
	case strings.Contains(s, "sent by"), strings.Contains(s, "relayed by"):
		return "wrong_sender"
	case strings.Contains(s, "unexpected message"):
		return "unexpected"
	}
	return "invalid"
}
