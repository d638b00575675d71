package engine

import (
	"context"
	"testing"
	"time"
)

func TestStartTime(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t0 := time.Now()
	d, err := StartDevnet(ctx, DevnetOptions{BaseDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("start", time.Since(t0))
	t0 = time.Now()
	d.Close()
	t.Log("close", time.Since(t0))
}
