//go:build race

package dashmap_test

// The race detector slows everything down several times; the stress tests
// scale their loops by this.
const raceEnabled = true
