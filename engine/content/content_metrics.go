package content

import (
	"github.com/prometheus/client_golang/prometheus"
)

// contentMetrics are the content service's Prometheus metrics, on the
// node's registry.
type contentMetrics struct {
	shardsHeld     prometheus.Gauge
	shardsMissing  prometheus.Gauge
	shardsRepaired prometheus.Counter
	repairSeconds  prometheus.Histogram
	repairFailures prometheus.Counter
	audits         prometheus.Counter
	objectsHeld    prometheus.Gauge
	badShards      *prometheus.CounterVec
	putBytes       prometheus.Counter
	getBytes       prometheus.Counter
	shardsStored   prometheus.Counter
	shardsServed   prometheus.Counter
	framesDropped  *prometheus.CounterVec
	registered     prometheus.Counter
	collected      prometheus.Counter
	// ledgerRegistered and ledgerFailed count this node's own
	// registrations in the ledger that executed, and those it gave up.
	ledgerRegistered prometheus.Counter
	ledgerFailed     prometheus.Counter
}

func newContentMetrics(reg prometheus.Registerer) *contentMetrics {
	ns, sub := "dagd", "content"
	m := &contentMetrics{
		shardsHeld: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "shards_held",
			Help: "Shards this node holds that matched their manifest at their object's last audit."}),
		shardsMissing: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "shards_missing",
			Help: "Shards this node should hold that were missing or corrupt at the last audit and are not repaired yet."}),
		shardsRepaired: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "shards_repaired_total",
			Help: "Shards rebuilt from other holders and stored again."}),
		repairSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "repair_seconds",
			Help: "Duration of the repair of one object (fetch, rebuild, verify, store).", Buckets: prometheus.ExponentialBuckets(0.001, 2, 20)}),
		repairFailures: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "repair_failures_total",
			Help: "Audits or repairs of an object that failed (retried after a backoff)."}),
		audits: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "audits_total",
			Help: "Audits of one object's shards."}),
		objectsHeld: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "objects_registered",
			Help: "Objects in this node's registry of availability certificates."}),
		badShards: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "bad_shards_total",
			Help: "Shards from a holder that did not match their manifest, by holder."}, []string{"holder"}),
		putBytes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "put_bytes_total",
			Help: "Content bytes put through this node and certified."}),
		getBytes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "get_bytes_total",
			Help: "Content bytes retrieved through this node."}),
		shardsStored: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "shards_received_total",
			Help: "Shards received from uploaders and staged."}),
		shardsServed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "shards_served_total",
			Help: "Shards sent to peers that asked for them."}),
		framesDropped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "frames_dropped_total",
			Help: "Content frames dropped, by reason."}, []string{"reason"}),
		registered: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "certificates_registered_total",
			Help: "Availability certificates verified and added to the registry."}),
		collected: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "objects_collected_total",
			Help: "Objects deleted because their paid retention ended (consensus time)."}),
		ledgerRegistered: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "ledger_registrations_total",
			Help: "Content put through this node whose RegisterContent transaction executed (or that the ledger already recorded)."}),
		ledgerFailed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "ledger_registration_failures_total",
			Help: "Content put through this node whose registration in the ledger was given up (no funded account, rejected); it stays in the local registry."}),
	}
	reg.MustRegister(m.collected, m.shardsHeld, m.shardsMissing, m.shardsRepaired, m.repairSeconds, m.repairFailures, m.audits,
		m.objectsHeld, m.badShards, m.putBytes, m.getBytes, m.shardsStored, m.shardsServed, m.framesDropped, m.registered,
		m.ledgerRegistered, m.ledgerFailed)
	return m
}
