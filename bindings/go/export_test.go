package dashmap

// FreedByCleanup reports how many maps the garbage-collection cleanup has
// freed so far.
func FreedByCleanup() int64 { return freedByCleanup.Load() }
