package logstash

import (
	"errors"
	"fmt"
)

// StatusError is a non-2xx answer from Logstash.
type StatusError struct {
	Status int
	Body   string // the start of the answer's body, for the operator
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("logstash answered %d", e.Status)
	}
	return fmt.Sprintf("logstash answered %d: %s", e.Status, e.Body)
}

// ErrUnauthorized is wrapped by the errors of 401/403 answers: a configuration
// problem that retrying cannot fix.
var ErrUnauthorized = errors.New("logstash rejected the credentials")

// DeliveryError is what Close returns when some documents were not acknowledged by
// Logstash. DeadLettered of them are safe in the DeadLetter and can be replayed; Lost
// were not even dead-lettered. Either way the caller should report the source object as
// failed so it is redelivered: ids are deterministic, so redelivery cannot duplicate.
//
// Refused documents were not sent, or not taken, because Logstash refused the credentials
// (401/403): they are not dead-lettered, since every later attempt would be refused too and
// the source object is the durable copy; Err then wraps ErrUnauthorized.
type DeliveryError struct {
	DeadLettered int
	Lost         int
	Refused      int
	Err          error // the first failure seen
}

func (e *DeliveryError) Error() string {
	if e.Refused > 0 {
		return fmt.Sprintf("logstash: %d documents not delivered (%d refused, %d dead-lettered, %d lost): %v",
			e.DeadLettered+e.Lost+e.Refused, e.Refused, e.DeadLettered, e.Lost, e.Err)
	}
	return fmt.Sprintf("logstash: %d documents not delivered (%d dead-lettered, %d lost): %v",
		e.DeadLettered+e.Lost, e.DeadLettered, e.Lost, e.Err)
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// BatchError is a stored batch that could not be read. Where names it, escaped (a listed
// name can hold anything); Err says what was wrong, without the name, for callers that
// name the batch themselves.
type BatchError struct {
	Where string
	Err   error
}

func (e *BatchError) Error() string { return "dead letter " + e.Where + ": " + e.Err.Error() }
func (e *BatchError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnauthorized) true whenever documents were refused, even
// when the first failure was another one.
func (e *DeliveryError) Is(target error) bool { return target == ErrUnauthorized && e.Refused > 0 }
