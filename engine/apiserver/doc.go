// Package apiserver is the node's API room: the HTTP/JSON endpoints
// (/healthz, /readyz, /v1/status, /v1/commits, /v1/transactions,
// /v1/evidence), the Connect services of dagd.v1 (engine/api), and the
// limits that bound what clients may hold of the node (connections, body
// deadlines, the submission and read memory budgets, commit streams). It
// serves the wire types of package client.
//
// The server reads commits, batches and equivocation evidence from the
// node's store (engine/store) and reaches the node only through Backend: status,
// readiness, health, and the submission path. The node wakes commit
// streams with NotifyCommits. Other rooms' endpoints (content,
// execution) are mounted with Options.Mount and use WriteJSON,
// WriteError, WithRequestDeadlines and ProgressBody.
package apiserver
