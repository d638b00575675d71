package execution

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dagd/dagd/shard"
)

// metrics are the executor's; their names are the node's (dagd_...).
type metrics struct {
	commits  prometheus.Counter
	txs      *prometheus.CounterVec
	lastSeq  prometheus.Gauge
	lag      prometheus.Gauge
	phases   *prometheus.HistogramVec
	deferred prometheus.Gauge
}

// latencyBuckets spans 1 ms to about 33 s in steps of 25%, as the node's
// other latency histograms.
func latencyBuckets() []float64 { return prometheus.ExponentialBuckets(0.001, 1.25, 48) }

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	ns := "dagd"
	m := &metrics{
		commits: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "executed_commits_total", Help: "Commits executed."}),
		txs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "executed_txs_total",
			Help: "Committed transactions by execution outcome: ok, rejected (a receipt with an error code, fee charged); dropped without a receipt: bad_signature, unpaid (paid nothing: wrong chain, fee too low, bad nonce, fee not payable), duplicate, expired, too_far, malformed."}, []string{"outcome"}),
		lastSeq:  prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "last_executed_seq", Help: "Sequence number of the last executed commit."}),
		lag:      prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "execution_lag_commits", Help: "Commits persisted by consensus and not executed yet."}),
		phases:   prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "execute_phase_seconds", Help: "Time of each phase of executing one commit.", Buckets: latencyBuckets()}, []string{"phase"}),
		deferred: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "execution_preserved_batches", Help: "Batches deleted by the core before their commit was executed, kept as copies until it is."}),
	}
	for _, c := range []prometheus.Collector{m.commits, m.txs, m.lastSeq, m.lag, m.phases, m.deferred} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("execution: metrics: %w", err)
		}
	}
	return m, nil
}

func (e *Executor) observe(res *shard.Result) {
	m := e.m
	m.commits.Inc()
	m.lastSeq.Set(float64(res.Seq))
	m.lag.Set(float64(e.target.Load() - min(e.target.Load(), res.Seq)))
	c := res.Counts
	for _, x := range []struct {
		outcome string
		n       uint32
	}{{"ok", c.OK}, {"rejected", c.Receipts - c.OK}, {"bad_signature", c.BadSignature}, {"unpaid", c.Unpaid}, {"duplicate", c.Duplicate},
		{"expired", c.Expired}, {"too_far", c.TooFar}, {"malformed", c.Malformed}} {
		if x.n > 0 {
			m.txs.WithLabelValues(x.outcome).Add(float64(x.n))
		}
	}
	t := res.Timings
	m.phases.WithLabelValues("decode").Observe(t.Decode.Seconds())
	m.phases.WithLabelValues("verify").Observe(t.Verify.Seconds())
	m.phases.WithLabelValues("apply").Observe(t.Apply.Seconds())
	m.phases.WithLabelValues("commit").Observe(t.Commit.Seconds())
}
