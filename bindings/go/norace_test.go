//go:build !race

package dashmap_test

const raceEnabled = false
