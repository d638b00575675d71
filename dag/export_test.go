package dag

// PlantBug breaks one rule of node n, so that tests can show the
// simulator reports the violation: "skip-support" commits a leader on any
// support, "double-commit" forgets which certificates were committed.
func PlantBug(n *Node, bug string) {
	switch bug {
	case "skip-support":
		n.primary.orderer.bugSkipSupport = true
	case "double-commit":
		n.primary.orderer.bugForgetCommitted = true
	default:
		panic("unknown bug " + bug)
	}
}
