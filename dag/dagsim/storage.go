package dagsim

import (
	"encoding/binary"
	"hash/crc32"
	"slices"

	"github.com/dagd/dagd/crypto"
	"github.com/dagd/dagd/dag"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// disk is a validator's simulated durable storage: an append-only log of
// checksummed frames and the key-value view it replays to. A crash may
// tear the last frame; replay stops at the first frame that does not check.
type disk struct {
	log []byte
	kv  map[string][]byte
}

func newDisk() *disk { return &disk{kv: make(map[string][]byte)} }

// frame: u32 length of the rest | u32 crc32c of the rest | u8 delete | u16 key length | key | value
func appendFrame(log []byte, r dag.Record) []byte {
	body := make([]byte, 0, 3+len(r.Key)+len(r.Value))
	if r.Delete {
		body = append(body, 1)
	} else {
		body = append(body, 0)
	}
	body = binary.BigEndian.AppendUint16(body, uint16(len(r.Key)))
	body = append(body, r.Key...)
	body = append(body, r.Value...)
	log = binary.BigEndian.AppendUint32(log, uint32(len(body)))
	log = binary.BigEndian.AppendUint32(log, crc32.Checksum(body, castagnoli))
	return append(log, body...)
}

func (d *disk) apply(r dag.Record) {
	if r.Delete {
		delete(d.kv, string(r.Key))
	} else {
		d.kv[string(r.Key)] = r.Value
	}
}

// write appends records durably.
func (d *disk) write(recs []dag.Record) {
	for _, r := range recs {
		d.log = appendFrame(d.log, r)
		d.apply(r)
	}
}

// tornWrite appends the records but tears the last frame part way through,
// as a crash in the middle of the write would.
func (d *disk) tornWrite(recs []dag.Record, cut func(n int) int) {
	for i, r := range recs {
		if i < len(recs)-1 {
			d.log = appendFrame(d.log, r)
			continue
		}
		f := appendFrame(nil, r)
		d.log = append(d.log, f[:cut(len(f))]...)
	}
	d.replay()
}

// replay rebuilds the key-value view from the log, dropping a torn tail.
func (d *disk) replay() {
	d.kv = make(map[string][]byte)
	p := d.log
	good := 0
	for len(p) >= 8 {
		n := int(binary.BigEndian.Uint32(p))
		sum := binary.BigEndian.Uint32(p[4:])
		if len(p) < 8+n || n < 3 {
			break
		}
		body := p[8 : 8+n]
		if crc32.Checksum(body, castagnoli) != sum {
			break
		}
		kl := int(binary.BigEndian.Uint16(body[1:]))
		if 3+kl > len(body) {
			break
		}
		d.apply(dag.Record{Delete: body[0] == 1, Key: slices.Clone(body[3 : 3+kl]), Value: slices.Clone(body[3+kl:])})
		p = p[8+n:]
		good = len(d.log) - len(p)
	}
	d.log = d.log[:good] // the torn tail is gone for good, as a real log's recovery truncates it
	// Compact: rewrite the log from the live records, as a real store's
	// compaction would, so restarts stay cheap.
	var compact []byte
	for _, r := range d.records() {
		compact = appendFrame(compact, r)
	}
	d.log = compact
}

// records returns the durable records in key order.
func (d *disk) records() []dag.Record {
	keys := make([]string, 0, len(d.kv))
	for k := range d.kv {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]dag.Record, len(keys))
	for i, k := range keys {
		out[i] = dag.Record{Key: []byte(k), Value: d.kv[k]}
	}
	return out
}

// ReadBatch implements dag.BatchReader over the durable records.
func (d *disk) ReadBatch(dg crypto.Digest) (*dag.Batch, bool) {
	v, ok := d.kv[string(dag.BatchKey(dg))]
	if !ok {
		return nil, false
	}
	b, err := dag.DecodeBatch(v)
	if err != nil {
		return nil, false
	}
	return b, true
}

// ReadCertificates implements dag.CertificateReader over the durable
// records: certificate keys sort by round, then author.
func (d *disk) ReadCertificates(from uint64, limit int) []*dag.Certificate {
	var keys []string
	for k := range d.kv {
		if len(k) == 11 && k[0] == 'c' && binary.BigEndian.Uint64([]byte(k[1:9])) >= from {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []*dag.Certificate
	for _, k := range keys {
		if len(out) >= limit {
			break
		}
		if c, err := dag.DecodeCertificate(d.kv[k]); err == nil {
			out = append(out, c)
		}
	}
	return out
}
