package state

// An Update is the write set of one Commit: sets and deletes of tree keys,
// and caller records (SetMeta, DeleteMeta) that are written in the same
// atomic batch but are not part of the tree. A later call for the same key
// replaces an earlier one. The zero Update is empty and ready to use. An
// Update copies the bytes it is given, is not changed by Commit, and is not
// safe for concurrent use.
type Update struct {
	tree map[string]entry
	meta map[string]entry
}

type entry struct {
	value []byte // never nil for a set
	del   bool
}

// NewUpdate returns an empty Update.
func NewUpdate() *Update { return &Update{} }

func put(m *map[string]entry, key []byte, e entry) {
	if *m == nil {
		*m = make(map[string]entry)
	}
	(*m)[string(key)] = e
}

func valueCopy(v []byte) []byte { return append(make([]byte, 0, len(v)), v...) }

// Set makes key hold value. A nil or empty value is stored as a present,
// empty value.
func (u *Update) Set(key, value []byte) { put(&u.tree, key, entry{value: valueCopy(value)}) }

// Delete removes key from the tree. Deleting an absent key changes nothing.
func (u *Update) Delete(key []byte) { put(&u.tree, key, entry{del: true}) }

// SetMeta makes the caller record key hold value (GetMeta reads it). Caller
// records live beside the tree and do not change the root.
func (u *Update) SetMeta(key, value []byte) { put(&u.meta, key, entry{value: valueCopy(value)}) }

// DeleteMeta removes the caller record key.
func (u *Update) DeleteMeta(key []byte) { put(&u.meta, key, entry{del: true}) }

// Len returns the number of distinct keys, tree and caller records
// together, that u writes.
func (u *Update) Len() int { return len(u.tree) + len(u.meta) }

// Reset empties u for reuse.
func (u *Update) Reset() {
	clear(u.tree)
	clear(u.meta)
}
