package engine

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestIdleRounds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := StartDevnet(ctx, DevnetOptions{InMemoryNetwork: os.Getenv("MEM") != "", BaseDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i := 0; i < 10; i++ {
		time.Sleep(time.Second)
		var s []any
		for j := 0; j < 4; j++ {
			st := d.Node(j).Status()
			s = append(s, st.Round, st.LastCommittedSeq)
		}
		t.Log(s...)
	}
	for j := 0; j < 4; j++ {
		mfs, _ := d.Node(j).Registry().Gather()
		for _, mf := range mfs {
			if n := mf.GetName(); n == "dagd_messages_rejected_total" || n == "dagd_messages_dropped_total" || n == "dagd_persist_seconds" || n == "dagd_loop_events_per_flush" {
				for _, m := range mf.GetMetric() {
					t.Log(j, n, m.GetLabel(), m.GetCounter().GetValue(), m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum())
				}
			}
		}
	}
}
