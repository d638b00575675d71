package engine

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ipfs/go-cid"

	"github.com/dagd/dagd/erasure"
)

// ContentClient talks to the content endpoints of a node's HTTP API. Get
// does not trust the node: it checks the manifest against the CID and
// every chunk against the manifest as the bytes arrive. It is safe for
// concurrent use.
type ContentClient struct {
	base string
	hc   *http.Client
}

// NewContentClient returns a client of the node at addr ("host:port" or
// an http(s) URL). hc nil means a client without timeouts (content may be
// large); bound calls with their context.
func NewContentClient(addr string, hc *http.Client) (*ContentClient, error) {
	if addr == "" {
		return nil, errors.New("engine: content client: no node address")
	}
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("engine: content client: node address %q: want host:port or an http(s) URL", addr)
	}
	if hc == nil {
		hc = &http.Client{}
	}
	return &ContentClient{base: strings.TrimRight(u.String(), "/"), hc: hc}, nil
}

// ContentAPIError is a refusal of the API.
type ContentAPIError struct {
	// Status is the HTTP status.
	Status int
	// Reason is the API's reason (Reason* constants).
	Reason string
	// Message says what went wrong.
	Message string
}

// Error implements error.
func (e *ContentAPIError) Error() string {
	return fmt.Sprintf("node answered %d %s: %s", e.Status, e.Reason, e.Message)
}

// Is lets errors.Is match a malformed-CID refusal with
// erasure.ErrMalformedCID and a not-found one with ErrContentNotFound.
func (e *ContentAPIError) Is(target error) bool {
	switch e.Reason {
	case ReasonMalformedCID:
		return target == erasure.ErrMalformedCID
	case ReasonContentNotFound:
		return target == ErrContentNotFound
	case ReasonNoQuorum:
		return target == ErrNoQuorum
	case ReasonBusy:
		return target == ErrContentBusy
	}
	return false
}

func responseError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e apiError
	if json.Unmarshal(body, &e) == nil && e.Reason != "" {
		return &ContentAPIError{Status: resp.StatusCode, Reason: e.Reason, Message: e.Error}
	}
	return &ContentAPIError{Status: resp.StatusCode, Reason: "http", Message: strings.TrimSpace(string(body))}
}

// Put uploads content (size bytes, or erasure.UnknownSize to stream it
// chunked until EOF) and returns the node's answer.
func (c *ContentClient) Put(ctx context.Context, r io.Reader, size int64, o PutOptions) (*ContentPutResponse, error) {
	q := url.Values{}
	if o.K > 0 {
		q.Set("k", strconv.Itoa(o.K))
	}
	if o.N > 0 {
		q.Set("n", strconv.Itoa(o.N))
	}
	u := c.base + "/v1/content"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	if size == 0 {
		r = http.NoBody
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, io.NopCloser(r))
	if err != nil {
		return nil, fmt.Errorf("engine: put: %w", err)
	}
	req.ContentLength = size
	if size < 0 {
		req.ContentLength = -1
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if o.Payment != nil {
		req.Header.Set(ContentPaymentHeader, hex.EncodeToString(o.Payment.Encode()))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("engine: put: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("engine: put: %w", responseError(resp))
	}
	var out ContentPutResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("engine: put: answer: %w", err)
	}
	return &out, nil
}

// Params returns the node's ContentParams, what a paid put signs for.
func (c *ContentClient) Params(ctx context.Context) (*ContentParams, error) {
	resp, err := c.get(ctx, "/v1/content/params")
	if err != nil {
		return nil, fmt.Errorf("engine: content params: %w", err)
	}
	defer resp.Body.Close()
	var p ContentParams
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&p); err != nil {
		return nil, fmt.Errorf("engine: content params: %w", err)
	}
	return &p, nil
}

// Stat returns the node's description of an object.
func (c *ContentClient) Stat(ctx context.Context, id cid.Cid) (*ContentStat, error) {
	resp, err := c.get(ctx, "/v1/content/"+id.String()+"/stat")
	if err != nil {
		return nil, fmt.Errorf("engine: stat: %w", err)
	}
	defer resp.Body.Close()
	var st ContentStat
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&st); err != nil {
		return nil, fmt.Errorf("engine: stat: answer: %w", err)
	}
	return &st, nil
}

// Manifest fetches an object's manifest and checks it against the CID.
func (c *ContentClient) Manifest(ctx context.Context, id cid.Cid) (*erasure.Manifest, error) {
	resp, err := c.get(ctx, "/v1/content/"+id.String()+"/manifest")
	if err != nil {
		return nil, fmt.Errorf("engine: manifest: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxFrameSize))
	if err != nil {
		return nil, fmt.Errorf("engine: manifest: %w", err)
	}
	m, err := erasure.OpenManifest(id, b)
	if err != nil {
		return nil, fmt.Errorf("engine: manifest from the node: %w", err)
	}
	return m, nil
}

// Get writes the content named by id to w, checking it as it arrives: the
// manifest against the CID, then each chunk against the manifest before it
// is written. After an error, w holds a verified prefix, whole chunks.
func (c *ContentClient) Get(ctx context.Context, id cid.Cid, w io.Writer) (*erasure.Manifest, error) {
	m, err := c.Manifest(ctx, id)
	if err != nil {
		return nil, err
	}
	resp, err := c.get(ctx, "/v1/content/"+id.String())
	if err != nil {
		return nil, fmt.Errorf("engine: get: %w", err)
	}
	defer resp.Body.Close()
	if d := resp.Header.Get(HeaderManifestDigest); d != "" && d != m.Digest().String() {
		return nil, fmt.Errorf("engine: get: %w: node serves manifest %s, fetched %s", erasure.ErrManifestMismatch, d, m.Digest())
	}
	buf := make([]byte, m.Params().ChunkSize)
	for i := 0; i < m.NumChunks(); i++ {
		chunk := buf[:m.ChunkLen(i)]
		if _, err := io.ReadFull(resp.Body, chunk); err != nil {
			return nil, fmt.Errorf("engine: get: chunk %d: %w", i, err)
		}
		if h := erasure.Sum(chunk); h != m.ChunkHash(i) {
			return nil, fmt.Errorf("engine: get: chunk %d: %w: hash %s, manifest says %s", i, erasure.ErrChunkMismatch, h, m.ChunkHash(i))
		}
		if _, err := w.Write(chunk); err != nil {
			return nil, fmt.Errorf("engine: get: write: %w", err)
		}
	}
	var extra [1]byte
	if n, _ := resp.Body.Read(extra[:]); n > 0 {
		return nil, fmt.Errorf("engine: get: %w: the node sent more than %d bytes", erasure.ErrTooLong, m.ContentSize())
	}
	return m, nil
}

func (c *ContentClient) get(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, responseError(resp)
	}
	return resp, nil
}
