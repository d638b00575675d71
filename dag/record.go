package dag

import (
	"encoding/binary"
	"fmt"

	"github.com/dagd/dagd/crypto"
)

// Record is a key-value write the core asks its driver to make durable
// before sending the messages of the same Ready. Keys sort in a useful
// order under bytewise comparison; Delete removes the key.
type Record struct {
	Key    []byte
	Value  []byte
	Delete bool
}

// Record key prefixes.
const (
	prefixVote   = 'v' // author u16, round u64 -> header digest: never vote twice
	prefixHeader = 'h' // round u64 -> own header
	prefixCert   = 'c' // round u64, author u16 -> certificate
	prefixBatch  = 'b' // digest -> batch
	prefixCommit = 'm' // seq u64 -> commit record
)

func voteKey(author ValidatorID, round uint64) []byte {
	k := make([]byte, 11)
	k[0] = prefixVote
	binary.BigEndian.PutUint16(k[1:], uint16(author))
	binary.BigEndian.PutUint64(k[3:], round)
	return k
}

func headerKey(round uint64) []byte {
	k := make([]byte, 9)
	k[0] = prefixHeader
	binary.BigEndian.PutUint64(k[1:], round)
	return k
}

func certKey(round uint64, author ValidatorID) []byte {
	k := make([]byte, 11)
	k[0] = prefixCert
	binary.BigEndian.PutUint64(k[1:], round)
	binary.BigEndian.PutUint16(k[9:], uint16(author))
	return k
}

func batchKey(d crypto.Digest) []byte {
	return append([]byte{prefixBatch}, d[:]...)
}

func commitKey(seq uint64) []byte {
	k := make([]byte, 9)
	k[0] = prefixCommit
	binary.BigEndian.PutUint64(k[1:], seq)
	return k
}

// CommitRecord is what the core persists for each committed sub-DAG, so a
// restarted node neither commits it again nor forgets its running digest.
type CommitRecord struct {
	Seq          uint64
	LeaderRound  uint64
	Leader       crypto.Digest
	Timestamp    Time
	Digest       crypto.Digest // running commit digest after this commit
	Certificates []crypto.Digest
}

func (r *CommitRecord) encode() []byte {
	e := encoder{}
	e.u8(codecVersion)
	e.u64(r.Seq)
	e.u64(r.LeaderRound)
	e.digest(r.Leader)
	e.u64(uint64(r.Timestamp))
	e.digest(r.Digest)
	encodeDigests(&e, r.Certificates)
	return e.b
}

func decodeCommitRecord(p []byte) (*CommitRecord, error) {
	d := decoder{b: p}
	if v := d.u8("commit record version"); d.err == nil && v != codecVersion {
		d.fail("unknown commit record version %d", v)
	}
	r := &CommitRecord{Seq: d.u64("seq"), LeaderRound: d.u64("leader round"), Leader: d.digest("leader"),
		Timestamp: Time(d.u64("timestamp")), Digest: d.digest("digest")}
	n := d.count("certificate", 1<<24, 32)
	r.Certificates = make([]crypto.Digest, n)
	for i := 0; i < n && d.err == nil; i++ {
		r.Certificates[i] = d.digest("certificate")
	}
	if err := d.finish("commit record"); err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeCommitRecord decodes the value of a commit record, for drivers that
// serve commit history (the /v1/commits API).
func DecodeCommitRecord(p []byte) (*CommitRecord, error) { return decodeCommitRecord(p) }

// IsCommitKey reports whether key is a commit record's key, and its seq.
func IsCommitKey(key []byte) (uint64, bool) {
	if len(key) != 9 || key[0] != prefixCommit {
		return 0, false
	}
	return binary.BigEndian.Uint64(key[1:]), true
}

// CommitKey returns the record key of commit seq.
func CommitKey(seq uint64) []byte { return commitKey(seq) }

// IsBatchKey reports whether key is a batch record's key.
func IsBatchKey(key []byte) bool { return len(key) == 1+crypto.DigestSize && key[0] == prefixBatch }

// BatchKey returns the record key of a batch.
func BatchKey(d crypto.Digest) []byte { return batchKey(d) }

// ParseBatchKey returns the digest named by a batch record's key; false if
// key is not a batch record's key.
func ParseBatchKey(key []byte) (crypto.Digest, bool) {
	var d crypto.Digest
	if !IsBatchKey(key) {
		return d, false
	}
	copy(d[:], key[1:])
	return d, true
}

// CertKeyRange returns the bounds [lo, hi) of the record keys of the
// certificates of rounds at or above from. Certificate keys sort by
// round, then author, so a driver that serves history (CertificateReader)
// iterates them in that order.
func CertKeyRange(from uint64) (lo, hi []byte) {
	lo = make([]byte, 9)
	lo[0] = prefixCert
	binary.BigEndian.PutUint64(lo[1:], from)
	return lo, []byte{prefixCert + 1}
}

// ParseCertKey returns the round and author of a certificate record's key;
// false if key is not one.
func ParseCertKey(key []byte) (round uint64, author ValidatorID, ok bool) {
	if len(key) != 11 || key[0] != prefixCert {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(key[1:]), ValidatorID(binary.BigEndian.Uint16(key[9:])), true
}

// parseVoteKey returns the slot of a vote record's key.
func parseVoteKey(key []byte) (voteSlot, bool) {
	if len(key) != 11 || key[0] != prefixVote {
		return voteSlot{}, false
	}
	return voteSlot{ValidatorID(binary.BigEndian.Uint16(key[1:])), binary.BigEndian.Uint64(key[3:])}, true
}

func badRecord(key []byte, err error) error {
	return fmt.Errorf("dag: record %q: %w", key, err)
}
