package engine

import (
	"context"
	"errors"
	"io"

	"github.com/ipfs/go-cid"

	"github.com/dagd/dagd/dag"
	"github.com/dagd/dagd/engine/content"
	"github.com/dagd/dagd/netquic"
	"github.com/dagd/dagd/state"
)

// newContent builds the node's content service (package content) on its
// store, committee, transport, intake and executed state.
func newContent(n *Node) (*content.Service, error) {
	o := n.opts
	return content.New(content.Config{
		Options: o.Content, ChainID: o.ChainID, Epoch: o.Epoch, Self: int(n.self), DataDir: o.DataDir, NoSync: o.NoSync,
		BLSKey: o.BLSKey, AccountKey: o.AccountKey, Params: o.Execution.Params, MaxTxLifetime: o.Execution.MaxTxLifetime,
		Store: n.store, Committee: n.bls, Sender: contentSender{n}, Submitter: n, Ledger: contentLedger{n}, Clock: o.Clock,
		LookupSlot: func() (func(), error) { return n.limits.lookupSlot() },
		Logger:     n.log, Registerer: n.m.reg,
	})
}

// contentSender is the node's transport as the content service sees it;
// it is read at each call, since the transport is bound after the service
// is built.
type contentSender struct{ n *Node }

func (s contentSender) Send(to dag.ValidatorID, frame []byte) error {
	err := s.n.tr.Send(to, frame)
	if errors.Is(err, ErrPeerQueueFull) {
		return queueFull{err}
	}
	return err
}

func (s contentSender) Connected() []dag.ValidatorID { return s.n.tr.Connected() }

// queueFull is a memory transport's full queue, which the content
// service knows as netquic.ErrQueueFull (waiting may cure it).
type queueFull struct{ error }

func (q queueFull) Unwrap() error { return q.error }

func (queueFull) Is(target error) bool { return target == netquic.ErrQueueFull }

// contentLedger is the executor's position and state, nil when the node
// does not execute.
type contentLedger struct{ n *Node }

func (l contentLedger) Executed() uint64 {
	if l.n.exec == nil {
		return 0
	}
	return l.n.exec.Executed()
}

func (l contentLedger) State() *state.Store {
	if l.n.exec == nil {
		return nil
	}
	return l.n.exec.State()
}

// PutContent reads content from r and stores it erasure-coded across the
// committee; see content.Service.Put.
func (n *Node) PutContent(ctx context.Context, r io.Reader, size int64, o content.PutOptions) (*content.PutResult, error) {
	return n.content.Put(ctx, r, size, o)
}

// OpenContent finds the manifest of the object named by id; see
// content.Service.Open.
func (n *Node) OpenContent(ctx context.Context, id cid.Cid) (*content.Object, error) {
	return n.content.Open(ctx, id)
}

// GetContent writes the content named by id to w, verified; see
// content.Service.Get.
func (n *Node) GetContent(ctx context.Context, id cid.Cid, w io.Writer) (*content.GetResult, error) {
	return n.content.Get(ctx, id, w)
}

// ReadContent is GetContent for an object OpenContent returned.
func (n *Node) ReadContent(ctx context.Context, obj *content.Object, w io.Writer) (*content.GetResult, error) {
	return n.content.Read(ctx, obj, w)
}
