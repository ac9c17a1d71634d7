package txn

// SetJournalLimits lowers the bounds of one journal store transaction for
// a test, and returns what puts them back.
func SetJournalLimits(ops, bytes int) (restore func()) {
	o, b := journalOps, journalBytes
	journalOps, journalBytes = ops, bytes
	return func() { journalOps, journalBytes = o, b }
}

// SetGoalsAheadBytes sets the size of encoded goals from which a commit
// journals them ahead of its outcome, and returns what puts it back.
func SetGoalsAheadBytes(n int) (restore func()) {
	old := goalsAheadBytes
	goalsAheadBytes = n
	return func() { goalsAheadBytes = old }
}

// SameIntent is sameIntent, for tests.
var SameIntent = sameIntent
