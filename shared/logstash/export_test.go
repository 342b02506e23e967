package logstash

// SetMaxStoredBatchBytes lowers the stored-batch cap for a test, so that exceeding it
// does not take hundreds of MiB; it returns the function that restores it.
func SetMaxStoredBatchBytes(n int64) (restore func()) {
	old := maxStoredBatchBytes
	maxStoredBatchBytes = n
	return func() { maxStoredBatchBytes = old }
}
