package client

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ipfs/go-cid"

	"github.com/dagd/dagd/erasure"
)

// maxManifestBytes bounds a manifest read (a manifest of the largest
// object the network stores is far smaller).
const maxManifestBytes = 17 << 20

// PutOptions choose the coding of one put. Zero fields take the node's
// defaults.
type PutOptions struct {
	// K is the number of shards that rebuild a chunk.
	K int
	// N is the number of shards of each chunk.
	N int
	// Payment, when set, is the payer's signed, encoded contracts.Tx of a
	// RegisterContent for this content (sent as ContentPaymentHeader):
	// its k and n replace K and N.
	Payment []byte
}

// Put uploads content (size bytes, or erasure.UnknownSize to stream it
// chunked until EOF) to POST /v1/content and returns the node's answer.
func (c *Client) Put(ctx context.Context, r io.Reader, size int64, o PutOptions) (*ContentPutResponse, error) {
	q := url.Values{}
	if o.K > 0 {
		q.Set("k", strconv.Itoa(o.K))
	}
	if o.N > 0 {
		q.Set("n", strconv.Itoa(o.N))
	}
	const path = "/v1/content"
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	if size == 0 {
		r = http.NoBody
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, io.NopCloser(r))
	if err != nil {
		return nil, fmt.Errorf("client: put: %w", err)
	}
	req.ContentLength = size
	if size < 0 {
		req.ContentLength = -1
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if o.Payment != nil {
		req.Header.Set(ContentPaymentHeader, hex.EncodeToString(o.Payment))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: put to %s: %w", c.addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("client: put to %s: %w", c.addr, refusal(http.MethodPost, path, resp))
	}
	var out ContentPutResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, c.maxBytes)).Decode(&out); err != nil {
		return nil, fmt.Errorf("client: put to %s: answer: %w", c.addr, err)
	}
	return &out, nil
}

// ContentParams returns GET /v1/content/params: what a paid put signs
// for.
func (c *Client) ContentParams(ctx context.Context) (*ContentParams, error) {
	var p ContentParams
	if err := c.getJSON(ctx, "/v1/content/params", &p); err != nil {
		return nil, fmt.Errorf("client: content params: %w", err)
	}
	return &p, nil
}

// Stat returns the node's description of an object
// (GET /v1/content/{cid}/stat).
func (c *Client) Stat(ctx context.Context, id cid.Cid) (*ContentStat, error) {
	var st ContentStat
	if err := c.getJSON(ctx, "/v1/content/"+id.String()+"/stat", &st); err != nil {
		return nil, fmt.Errorf("client: stat: %w", err)
	}
	return &st, nil
}

// Manifest fetches an object's manifest and checks it against the CID.
func (c *Client) Manifest(ctx context.Context, id cid.Cid) (*erasure.Manifest, error) {
	resp, err := c.send(ctx, http.MethodGet, "/v1/content/"+id.String()+"/manifest", "", nil, http.StatusOK)
	if err != nil {
		return nil, fmt.Errorf("client: manifest: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestBytes))
	if err != nil {
		return nil, fmt.Errorf("client: manifest: %w", err)
	}
	m, err := erasure.OpenManifest(id, b)
	if err != nil {
		return nil, fmt.Errorf("client: manifest from %s: %w", c.addr, err)
	}
	return m, nil
}

// Get writes the content named by id to w, checking it as it arrives: the
// manifest against the CID, then each chunk against the manifest before it
// is written. It does not trust the node. After an error, w holds a
// verified prefix, whole chunks.
func (c *Client) Get(ctx context.Context, id cid.Cid, w io.Writer) (*erasure.Manifest, error) {
	m, err := c.Manifest(ctx, id)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, http.MethodGet, "/v1/content/"+id.String(), "", nil, http.StatusOK)
	if err != nil {
		return nil, fmt.Errorf("client: get: %w", err)
	}
	defer resp.Body.Close()
	if d := resp.Header.Get(HeaderManifestDigest); d != "" && d != m.Digest().String() {
		return nil, fmt.Errorf("client: get: %w: node serves manifest %s, fetched %s", erasure.ErrManifestMismatch, d, m.Digest())
	}
	buf := make([]byte, m.Params().ChunkSize)
	for i := 0; i < m.NumChunks(); i++ {
		chunk := buf[:m.ChunkLen(i)]
		if _, err := io.ReadFull(resp.Body, chunk); err != nil {
			return nil, fmt.Errorf("client: get: chunk %d: %w", i, err)
		}
		if h := erasure.Sum(chunk); h != m.ChunkHash(i) {
			return nil, fmt.Errorf("client: get: chunk %d: %w: hash %s, manifest says %s", i, erasure.ErrChunkMismatch, h, m.ChunkHash(i))
		}
		if _, err := w.Write(chunk); err != nil {
			return nil, fmt.Errorf("client: get: write: %w", err)
		}
	}
	var extra [1]byte
	if n, _ := resp.Body.Read(extra[:]); n > 0 {
		return nil, fmt.Errorf("client: get: %w: the node sent more than %d bytes", erasure.ErrTooLong, m.ContentSize())
	}
	return m, nil
}
