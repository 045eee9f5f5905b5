package dashmap

// #include "dashmap.h"
import "C"

import "errors"

// The errors an [*Error] can wrap, for use with [errors.Is].
var (
	// ErrInvalid: an argument is out of range (a bad option, or a value
	// that is not an 8-byte counter in [Map.Add]).
	ErrInvalid = errors.New("dashmap: invalid argument")
	// ErrNoMemory: the library could not allocate memory; the map is unchanged.
	ErrNoMemory = errors.New("dashmap: out of memory")
	// ErrReentrant: a method was called on a Map from inside one of that
	// Map's own Update or Retain callbacks; nothing happened.
	ErrReentrant = errors.New("dashmap: reentrant call from inside an Update or Retain callback on the same Map")
	// ErrFull: a new key did not fit in a map created with [WithMaxEntries];
	// nothing changed (updates of existing keys always work).
	ErrFull = errors.New("dashmap: map is full")
	// ErrInternal: the library caught a bug of its own (a Rust panic); the
	// map is still usable.
	ErrInternal = errors.New("dashmap: internal error in libdashmap")
	// ErrClosed is the panic value of every call on a Map after [Map.Close].
	ErrClosed = errors.New("dashmap: use of closed Map")
)

// Error is a failure reported by libdashmap. Methods without an error result
// panic with an *Error; use [errors.Is] with ErrInvalid, ErrNoMemory,
// ErrReentrant, ErrFull or ErrInternal to classify it.
type Error struct {
	Op     string // the method that failed, such as "Store"
	Status int    // the library's dm_status code (negative), such as -3 for DM_ERR_NO_MEMORY
	Text   string // what happened: dm_status_str(Status), or a more specific message
}

func newError(op string, st C.dm_status) *Error {
	return &Error{Op: op, Status: int(st), Text: C.GoString(C.dm_status_str(st))}
}

// Error returns "dashmap: Op: Text".
func (e *Error) Error() string {
	msg := "dashmap: " + e.Op + ": " + e.Text
	if e.Status == C.DM_ERR_REENTRANT {
		msg += " (a method of a Map was called from inside an Update or Retain callback on the same Map)"
	}
	return msg
}

// Unwrap returns the exported error matching e.Status, or nil.
func (e *Error) Unwrap() error {
	switch e.Status {
	case C.DM_ERR_INVALID:
		return ErrInvalid
	case C.DM_ERR_NO_MEMORY:
		return ErrNoMemory
	case C.DM_ERR_REENTRANT:
		return ErrReentrant
	case C.DM_ERR_PANIC:
		return ErrInternal
	case C.DM_ERR_FULL:
		return ErrFull
	}
	return nil
}
