package txn

// SetJournalLimits lowers the bounds of one journal store transaction for
// a test, and returns what puts them back.
func SetJournalLimits(ops, bytes int) (restore func()) {
	o, b := journalOps, journalBytes
	journalOps, journalBytes = ops, bytes
	return func() { journalOps, journalBytes = o, b }
}
