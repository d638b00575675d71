package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// maxStatusBytes bounds the body of a /v1/status answer read.
const maxStatusBytes = 1 << 20

// FetchStatus asks the node whose HTTP API is at addr (host:port, or a
// URL with http:// or https://) for GET /v1/status. It returns the
// decoded status and the body as the node served it. An unreachable
// node is reported as such, naming addr; hc nil means
// http.DefaultClient, bounded by ctx.
func FetchStatus(ctx context.Context, hc *http.Client, addr string) (*Status, []byte, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	base := addr
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, nil, fmt.Errorf("engine: node address %q: want host:port: %w", addr, err)
		}
		base = "http://" + addr
	}
	url := strings.TrimSuffix(base, "/") + "/v1/status"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("engine: node address %q: %w", addr, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, nil, fmt.Errorf("engine: node %s did not answer in time: %w", addr, err)
		}
		return nil, nil, fmt.Errorf("engine: node %s unreachable: %w", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxStatusBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("engine: node %s: read status: %w", addr, err)
	}
	if len(body) > maxStatusBytes {
		return nil, nil, fmt.Errorf("engine: node %s: status answer exceeds %d bytes", addr, maxStatusBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("engine: node %s: GET /v1/status: %s: %.200s", addr, resp.Status, strings.TrimSpace(string(body)))
	}
	var st Status
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, nil, fmt.Errorf("engine: node %s: status answer is not a dagd status: %w", addr, err)
	}
	return &st, body, nil
}
