package reindex

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
)

// Error names. They are stable: Step Functions Retry and Catch clauses match on them (the
// Lambda handler reports them as errorType), so renaming one is a breaking change.
const (
	// InvalidRequest: the input is wrong (a bad index name, a missing field, a step that
	// the state does not allow yet). Retrying the same input fails the same way.
	InvalidRequest = "InvalidRequest"
	// NotOurs: the destination (or an index this run would delete) exists and was not
	// created by this run.
	NotOurs = "NotOurs"
	// ReindexFailed: the reindex task finished with an error, failures, cancellation, or
	// fewer documents written than it read.
	ReindexFailed = "ReindexFailed"
	// CountMismatch: the refreshed copy does not hold exactly the source's documents.
	CountMismatch = "CountMismatch"
	// TaskLost: Elasticsearch does not know the task (node restarted, result deleted). The
	// copy is not resumed and never counted as done.
	TaskLost = "TaskLost"
	// RollbackIncomplete: rollback could not finish (e.g. the cancelled task is still
	// running); retrying rollback is safe.
	RollbackIncomplete = "RollbackIncomplete"
	// PreemptedByRollback: the swap did nothing because a rollback of the same copy got
	// there first (it holds the copy's lock, or has deleted the copy). The source is
	// untouched; let the rollback finish (running rollback again is safe).
	PreemptedByRollback = "PreemptedByRollback"
	// ElasticsearchError: a request failed for a reason that may pass (connection refused,
	// timeout, 5xx, 429). Retrying the step is safe.
	ElasticsearchError = "ElasticsearchError"
	// ElasticsearchRejected: Elasticsearch refused a request with a 4xx status other than
	// 408 and 429 (a missing index, a setting it will not take, missing privileges).
	// Retrying the same step fails the same way.
	ElasticsearchRejected = "ElasticsearchRejected"
	// UntrustedCertificate: TLS verification refused the cluster's certificate (signed by an
	// authority not trusted, issued for another host name, expired). Retrying cannot help,
	// and must not wear the check down: fix the URL or the trusted CA (ES_CA_CERT).
	UntrustedCertificate = "UntrustedCertificate"
	// InternalError: the function could not encode its own result, a bug; retrying the
	// same event fails the same way.
	InternalError = "InternalError"
)

// Error is a step's failure with its stable name.
type Error struct {
	Name string // one of the names above
	Step Step
	Err  error
}

func (e *Error) Error() string {
	return fmt.Sprintf("reindex %s: %s: %v", e.Step, e.Name, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorName is the stable name of err: the Name of the first *Error in its chain;
// UntrustedCertificate when TLS verification refused the cluster's certificate;
// ElasticsearchRejected for an Elasticsearch response with a 4xx status other than 408 and
// 429; ElasticsearchError for anything else (network, timeouts, 429, 5xx), which is worth a
// retry; "" for nil.
func ErrorName(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Name
	}
	return transportName(err)
}

// transportName classifies an error that did not come from a step's own checks.
func transportName(err error) string {
	if untrustedCertificate(err) {
		return UntrustedCertificate
	}
	switch s := statusOf(err); {
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests:
		return ElasticsearchError
	case s >= 400 && s < 500:
		return ElasticsearchRejected
	}
	return ElasticsearchError
}

// untrustedCertificate tells whether err is TLS verification refusing the server's
// certificate (crypto/tls wraps the x509 reason in a CertificateVerificationError; older
// paths return the x509 error alone).
func untrustedCertificate(err error) bool {
	var (
		verify  *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

// fail builds a named error for step.
func fail(name string, step Step, format string, a ...any) *Error {
	return &Error{Name: name, Step: step, Err: fmt.Errorf(format, a...)}
}

// named gives err a step and, unless it already has one, a name.
func named(step Step, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Step == "" {
			e.Step = step
		}
		return err
	}
	return &Error{Name: transportName(err), Step: step, Err: err}
}
