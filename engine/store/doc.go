// Package store is the node's storage room: the one owner of its pebble
// database (DataDir/pebble) and of the batch log that holds batch bodies
// (DataDir/batches). keys.go lays out every key prefix of the database
// and who writes it; the consensus driver writes the core's records and
// the commit index (Store.Write), the executor and the content service
// read and write their own prefixes through the same accessors. The
// ledger state is not here: it lives in a database of its own
// (DataDir/state), which the state package lays out.
package store
