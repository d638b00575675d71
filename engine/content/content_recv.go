package content

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/zeebo/blake3"

	"github.com/dagd/dagd/erasure"
	"github.com/dagd/dagd/heal"
)

// sessionKey names an upload session: the uploader and its upload id.
type sessionKey struct {
	from int
	id   uint64
}

// recvSession is an upload being received by a holder: the shards staged
// in files, with the length and BLAKE3 hash of each, until the commit
// brings the manifest they are checked against.
type recvSession struct {
	key       sessionKey
	params    erasure.Params
	maxChunks int
	stride    int64
	dir       string
	local     bool // the uploader is this node: hashes come from its encoder

	mu         sync.Mutex
	shards     []int
	files      map[int]*os.File
	got        map[int][]shardRec
	processed  uint64
	pushed     uint32
	failed     error
	lastActive time.Time
	hasher     *blake3.Hasher
}

// shardRec is what a holder saw of one staged shard.
type shardRec struct {
	size uint32
	ok   bool
	hash erasure.Hash
}

// openSession starts staging an upload. It refuses parameters this node
// cannot take, an upload in which it holds no shard, and a peer with too
// many sessions open.
func (s *Service) openSession(from int, id uint64, p erasure.Params, maxChunks int, local bool) (*recvSession, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.ChunkSize != s.opts.ChunkSize {
		return nil, fmt.Errorf("%w: chunk size %d, this network codes %d", ErrContentParams, p.ChunkSize, s.opts.ChunkSize)
	}
	if err := s.checkShardBounds(p); err != nil {
		return nil, err
	}
	if limit := s.maxChunksFor(p); maxChunks < 0 || maxChunks > limit {
		return nil, fmt.Errorf("%w: %d chunks, limit %d", ErrContentParams, maxChunks, limit)
	}
	shards := heal.ShardsOf(s.self, p.TotalShards(), s.v)
	if len(shards) == 0 {
		return nil, fmt.Errorf("%w: validator %d holds no shard at n=%d", ErrContentParams, s.self, p.TotalShards())
	}
	key := sessionKey{from: from, id: id}
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	if _, ok := s.sessions[key]; ok {
		return nil, fmt.Errorf("content: upload %x of validator %d already open", id, from)
	}
	open := 0
	for k := range s.sessions {
		if k.from == from {
			open++
		}
	}
	if !local && open >= s.opts.MaxUploadsPerPeer {
		return nil, fmt.Errorf("%w: validator %d has %d uploads open", ErrContentBusy, from, open)
	}
	dir := filepath.Join(s.store.stagingRoot(), fmt.Sprintf("%d-%016x", from, id))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("content: staging: %w", err)
	}
	ss := &recvSession{key: key, params: p, maxChunks: maxChunks, stride: stride(p), dir: dir, local: local,
		shards: shards, files: make(map[int]*os.File), got: make(map[int][]shardRec), lastActive: time.Now(), hasher: blake3.New()}
	s.sessions[key] = ss
	return ss, nil
}

// closeSession forgets a session and deletes what it staged.
func (s *Service) closeSession(ss *recvSession) {
	s.sessMu.Lock()
	if s.sessions[ss.key] == ss {
		delete(s.sessions, ss.key)
	}
	s.sessMu.Unlock()
	ss.discard()
}

func (s *Service) session(from int, id uint64) *recvSession {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	return s.sessions[sessionKey{from: from, id: id}]
}

// discard closes the session's files and deletes its staging directory.
func (ss *recvSession) discard() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for j, f := range ss.files {
		_ = f.Close()
		delete(ss.files, j)
	}
	_ = os.RemoveAll(ss.dir)
}

// write stages one shard. A remote shard is hashed here, once; the
// uploader's own shards were hashed by its encoder.
func (ss *recvSession) write(chunk, shard int, data []byte) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.lastActive = time.Now()
	// Every push counts for flow control and for the commit's tally, even
	// one refused: the uploader's window must move, and the commit fails.
	ss.processed += uint64(len(data))
	ss.pushed++
	if ss.failed != nil {
		return ss.failed
	}
	fail := func(err error) error {
		ss.failed = err
		return err
	}
	if chunk < 0 || chunk >= ss.maxChunks {
		return fail(fmt.Errorf("%w: chunk %d, upload announced at most %d", erasure.ErrShardIndex, chunk, ss.maxChunks))
	}
	if !containsInt(ss.shards, shard) {
		return fail(fmt.Errorf("%w: shard %d is not this holder's", erasure.ErrShardIndex, shard))
	}
	if len(data) == 0 || int64(len(data)) > ss.stride {
		return fail(fmt.Errorf("%w: %d bytes, shards of this upload have at most %d", erasure.ErrShardSize, len(data), ss.stride))
	}
	f := ss.files[shard]
	if f == nil {
		var err error
		f, err = os.OpenFile(filepath.Join(ss.dir, shardFileName(shard)), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
		if err != nil {
			return fail(fmt.Errorf("content: staging: %w", err))
		}
		ss.files[shard] = f
	}
	if _, err := f.WriteAt(data, int64(chunk)*ss.stride); err != nil {
		return fail(fmt.Errorf("content: staging: %w", err))
	}
	recs := ss.got[shard]
	if chunk >= len(recs) {
		recs = append(recs, make([]shardRec, chunk+1-len(recs))...)
		ss.got[shard] = recs
	}
	rec := shardRec{size: uint32(len(data)), ok: true}
	if !ss.local {
		ss.hasher.Reset()
		_, _ = ss.hasher.Write(data)
		ss.hasher.Sum(rec.hash[:0])
	}
	recs[chunk] = rec
	return nil
}

// pushedCount returns the number of shards received.
func (ss *recvSession) pushedCount() uint32 {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.pushed
}

// check compares what was staged with the manifest: every chunk of every
// shard this holder keeps is there, with the manifest's length and (for a
// remote upload) hash, and nothing else was sent. It then truncates and
// syncs the staged files.
func (ss *recvSession) check(m *erasure.Manifest, pushed uint32, sync bool) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.failed != nil {
		return ss.failed
	}
	if m.Params() != ss.params {
		return fmt.Errorf("%w: manifest has %v, upload announced %v", ErrContentParams, m.Params(), ss.params)
	}
	if ss.pushed != pushed {
		return fmt.Errorf("content: received %d shards, uploader sent %d", ss.pushed, pushed)
	}
	chunks := m.NumChunks()
	for _, j := range ss.shards {
		recs := ss.got[j]
		if len(recs) > chunks {
			return fmt.Errorf("%w: shard %d of chunk %d beyond the manifest's %d chunks", erasure.ErrShardIndex, j, len(recs)-1, chunks)
		}
		for i := 0; i < chunks; i++ {
			if i >= len(recs) || !recs[i].ok {
				return fmt.Errorf("%w: chunk %d shard %d never arrived", erasure.ErrShardUnavailable, i, j)
			}
			if int(recs[i].size) != m.ShardSize(i) {
				return &erasure.ShardError{Chunk: i, Shard: j, Err: fmt.Errorf("%w: %d bytes, manifest says %d", erasure.ErrShardSize, recs[i].size, m.ShardSize(i))}
			}
			if !ss.local && recs[i].hash != m.ShardHash(i, j) {
				return &erasure.ShardError{Chunk: i, Shard: j, Err: fmt.Errorf("%w: %s, manifest says %s", erasure.ErrShardMismatch, recs[i].hash, m.ShardHash(i, j))}
			}
		}
		f := ss.files[j]
		if f == nil {
			continue // empty content
		}
		size := int64(0)
		if chunks > 0 {
			size = int64(chunks-1)*ss.stride + int64(m.ShardSize(chunks-1))
		}
		if err := f.Truncate(size); err != nil {
			return fmt.Errorf("content: staging: %w", err)
		}
		if sync {
			if err := f.Sync(); err != nil {
				return fmt.Errorf("content: staging: %w", err)
			}
		}
		_ = f.Close()
		delete(ss.files, j)
	}
	return nil
}

func containsInt(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// handleUploadFrame runs on a peer's upload lane: frames of one uploader,
// in the order it sent them.
func (s *Service) handleUploadFrame(from int, f []byte) {
	msg, err := decodeContentFrame(f)
	if err != nil {
		s.drop("malformed", from, f)
		s.log.Warn("malformed content frame", "from", from, "err", err)
		return
	}
	switch m := msg.(type) {
	case *uploadBegin:
		p := erasure.Params{ChunkSize: int(m.ChunkSize), DataShards: int(m.K), ParityShards: int(m.N) - int(m.K)}
		if _, err := s.openSession(from, m.ID, p, int(m.MaxChunks), false); err != nil {
			s.log.Info("upload refused", "from", from, "upload", fmt.Sprintf("%016x", m.ID), "err", err)
			s.reply(from, &uploadResult{ID: m.ID, Status: statusFor(err), Reason: err.Error()})
		}
	case *shardPush:
		ss := s.session(from, m.ID)
		if ss == nil {
			s.drop("no_session", from, f)
			return
		}
		if err := ss.write(int(m.Chunk), int(m.Shard), m.Data); err != nil {
			s.log.Warn("shard refused", "from", from, "upload", fmt.Sprintf("%016x", m.ID), "chunk", m.Chunk, "shard", m.Shard, "err", err)
		} else {
			s.m.shardsStored.Inc()
		}
		ss.mu.Lock()
		processed := ss.processed
		ss.mu.Unlock()
		s.reply(from, &uploadAck{ID: m.ID, Bytes: processed})
	case *uploadCommit:
		ss := s.session(from, m.ID)
		if ss == nil {
			s.reply(from, &uploadResult{ID: m.ID, Status: statusNotFound, Reason: "no such upload session (expired or refused)"})
			return
		}
		res := s.commitSession(ss, m)
		s.reply(from, res)
	case *uploadAbort:
		if ss := s.session(from, m.ID); ss != nil {
			s.closeSession(ss)
		}
	}
}

func statusFor(err error) uint8 {
	if errors.Is(err, ErrContentBusy) {
		return statusBusy
	}
	return statusError
}

// reply sends a small answer to a peer without waiting.
func (s *Service) reply(to int, msg any) {
	if err := s.send(s.ctx, to, encodeContentMsg(msg), time.Now().Add(time.Second)); err != nil {
		s.log.Debug("content reply dropped", "to", to, "err", err)
	}
}

// commitSession checks a finished upload against its manifest, moves it
// into place and signs the availability statement.
func (s *Service) commitSession(ss *recvSession, m *uploadCommit) *uploadResult {
	defer s.closeSession(ss)
	fail := func(err error) *uploadResult {
		s.log.Warn("upload not stored", "from", ss.key.from, "upload", fmt.Sprintf("%016x", ss.key.id), "err", err)
		return &uploadResult{ID: m.ID, Status: statusFor(err), Reason: truncate(err.Error(), maxReasonLen)}
	}
	id, err := parseCIDBytes(m.CID)
	if err != nil {
		return fail(err)
	}
	man, err := erasure.OpenManifest(id, m.Manifest)
	if err != nil {
		return fail(err)
	}
	sig, err := s.storeSession(ss, id, man, m.Pushed)
	if err != nil {
		return fail(err)
	}
	return &uploadResult{ID: m.ID, Status: statusOK, Signature: sig}
}

// storeSession checks, stores and signs; the uploader's own session goes
// through it too.
func (s *Service) storeSession(ss *recvSession, id cid.Cid, m *erasure.Manifest, pushed uint32) ([]byte, error) {
	if c, _, err := s.claim(id); err == nil && c.ManifestDigest != m.Digest() {
		return nil, fmt.Errorf("%w: %s is registered with another manifest (k=%d n=%d)", ErrContentParams, id, c.K, c.N)
	}
	if err := ss.check(m, pushed, !s.cfg.NoSync); err != nil {
		return nil, err
	}
	if err := s.store.finalize(id, m, ss.dir, ss.shards); err != nil {
		return nil, err
	}
	stmt := AvailabilityStatement(s.cfg.ChainID, s.cfg.Epoch, id, m.ContentSize(), m.Params().DataShards, m.Params().TotalShards(), m.Digest())
	s.log.Debug("stored", "cid", id.String(), "from", ss.key.from, "shards", ss.shards, "size", m.ContentSize())
	return s.cfg.BLSKey.Sign(stmt), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// runJanitor drops upload sessions idle for longer than
// UploadIdleTimeout.
func (s *Service) runJanitor() {
	t := time.NewTicker(min(s.opts.UploadIdleTimeout/4+time.Millisecond, 10*time.Second))
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			var idle []*recvSession
			s.sessMu.Lock()
			for _, ss := range s.sessions {
				ss.mu.Lock()
				if !ss.local && now.Sub(ss.lastActive) > s.opts.UploadIdleTimeout {
					idle = append(idle, ss)
				}
				ss.mu.Unlock()
			}
			s.sessMu.Unlock()
			for _, ss := range idle {
				s.log.Info("upload session expired", "from", ss.key.from, "upload", fmt.Sprintf("%016x", ss.key.id))
				s.closeSession(ss)
			}
		}
	}
}

// handleServeFrame runs on a peer's request lane.
func (s *Service) handleServeFrame(from int, f []byte) {
	msg, err := decodeContentFrame(f)
	if err != nil {
		s.drop("malformed", from, f)
		s.log.Warn("malformed content frame", "from", from, "err", err)
		return
	}
	switch m := msg.(type) {
	case *shardRequest:
		s.serveShard(from, m)
	case *manifestRequest:
		s.serveManifest(from, m)
	case *registryRequest:
		s.serveRegistry(from, m)
	case *registerMsg:
		if _, err := s.register(m.Cert); err != nil {
			s.log.Warn("certificate refused", "from", from, "err", err)
		}
	}
}

func (s *Service) respond(to int, id uint64, status uint8, body []byte) {
	r := &fetchResponse{ID: id, Status: status, Body: body}
	if err := s.send(s.ctx, to, r.encode(), time.Now().Add(s.opts.FetchTimeout/2)); err != nil {
		s.log.Debug("content response dropped", "to", to, "err", err)
	}
}

func (s *Service) serveShard(from int, r *shardRequest) {
	id, _ := parseCIDBytes(r.CID) // checked by the decoder
	h, err := s.store.holding(id)
	if err != nil {
		s.respond(from, r.ID, statusNotFound, nil)
		return
	}
	m, err := s.store.manifest(id, h)
	if err != nil {
		s.log.Warn("stored manifest unreadable", "cid", id.String(), "err", err)
		s.respond(from, r.ID, statusNotFound, nil)
		return
	}
	if !containsInt(h.Shards, int(r.Shard)) {
		s.respond(from, r.ID, statusNotFound, []byte("not a shard of this holder"))
		return
	}
	buf, err := s.store.readShard(id, m, int(r.Chunk), int(r.Shard), fetchResponseHeader)
	if err != nil {
		s.respond(from, r.ID, statusNotFound, []byte(truncate(err.Error(), maxReasonLen)))
		return
	}
	// The shard was read into place behind the header: no copy.
	appendFetchResponseHeader(buf[:0], r.ID, statusOK)
	if err := s.send(s.ctx, from, buf, time.Now().Add(s.opts.FetchTimeout/2)); err != nil {
		s.log.Debug("shard response dropped", "to", from, "err", err)
		return
	}
	s.m.shardsServed.Inc()
}

func (s *Service) serveManifest(from int, r *manifestRequest) {
	id, _ := parseCIDBytes(r.CID)
	if _, err := s.store.holding(id); err != nil {
		s.respond(from, r.ID, statusNotFound, nil)
		return
	}
	b, err := s.store.manifestBytes(id)
	if err != nil {
		s.respond(from, r.ID, statusNotFound, nil)
		return
	}
	s.respond(from, r.ID, statusOK, b)
}
