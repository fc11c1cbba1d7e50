package transport

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// FieldError is one refused field: its JSON path (e.g. "data.sex",
// "services_section[2].unique_id", or an option name such as
// "WithRetry.max") and the reason. It never carries the field's value.
type FieldError struct {
	Path   string
	Reason string
}

// ValidationError lists the fields a client refused before sending, or the
// fields a server refused. Error never quotes values, only paths and reasons.
// errors.Is(err, ErrValidation) is true.
type ValidationError struct {
	Fields []FieldError
}

// Add records a refused field.
func (e *ValidationError) Add(path, reason string) {
	e.Fields = append(e.Fields, FieldError{Path: path, Reason: reason})
}

// Addf records a refused field with a formatted reason. Callers must not
// format personal values into the reason.
func (e *ValidationError) Addf(path, format string, args ...any) {
	e.Add(path, fmt.Sprintf(format, args...))
}

// Err returns e if it holds at least one field, else nil. It lets a
// validator collect every problem and return them together.
func (e *ValidationError) Err() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

// Error lists each field as "path: reason".
func (e *ValidationError) Error() string {
	if len(e.Fields) == 0 {
		return "validation failed"
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Path + ": " + f.Reason
	}
	return "validation failed: " + strings.Join(parts, "; ")
}

// Is reports true for ErrValidation.
func (e *ValidationError) Is(target error) bool { return target == ErrValidation }

// Has reports whether the field path was refused.
func (e *ValidationError) Has(path string) bool {
	for _, f := range e.Fields {
		if f.Path == path {
			return true
		}
	}
	return false
}

// NewValidationError returns a ValidationError holding one field.
func NewValidationError(path, reason string) *ValidationError {
	return &ValidationError{Fields: []FieldError{{Path: path, Reason: reason}}}
}

// ParseBaseURL checks a client's base URL: absolute http or https, a host,
// no user info (credentials go in options, not URLs), no query or fragment.
// The returned URL has no trailing slash on its path. Errors name the field
// "baseURL" and never quote the URL.
func ParseBaseURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, NewValidationError("baseURL", "is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, NewValidationError("baseURL", "is not a valid URL")
	}
	v := &ValidationError{}
	if u.Scheme != "http" && u.Scheme != "https" {
		v.Add("baseURL", "scheme must be http or https")
	}
	if u.Host == "" {
		v.Add("baseURL", "has no host")
	}
	if u.User != nil {
		v.Add("baseURL", "must not contain credentials; use an auth option")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		v.Add("baseURL", "must not have a query or fragment")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// RequireString refuses an empty or blank string option value.
func RequireString(path, value string) error {
	if strings.TrimSpace(value) == "" {
		return NewValidationError(path, "must not be empty")
	}
	return nil
}

// RequireNoControl refuses a header-bound value holding control characters
// (CR, LF, NUL...), which would corrupt or split a header.
func RequireNoControl(path, value string) error {
	for _, r := range value {
		if r < 0x20 || r == 0x7f {
			return NewValidationError(path, "must not contain control characters")
		}
	}
	return nil
}

// RequirePositive refuses a zero or negative duration.
func RequirePositive(path string, d time.Duration) error {
	if d <= 0 {
		return NewValidationError(path, "must be positive")
	}
	return nil
}

// RequireRange refuses an integer outside [lo, hi].
func RequireRange(path string, n, lo, hi int) error {
	if n < lo || n > hi {
		return NewValidationError(path, fmt.Sprintf("must be between %d and %d", lo, hi))
	}
	return nil
}
