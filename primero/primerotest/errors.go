package primerotest

import (
	"encoding/json"
	"net/http"
)

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "marshal: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeRawJSON(w, status, b)
}

// writeRawJSON writes an already encoded JSON body.
func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// apiError is one entry of Primero's errors[] envelope
// (app/views/api/v2/errors/_error.json.jbuilder): message is a string or an
// array of strings; detail is absent, a string or an array of JSON pointers.
type apiError struct {
	Status   int    `json:"status"`
	Resource string `json:"resource"`
	Message  any    `json:"message"`
	Detail   any    `json:"detail,omitempty"`
}

// writeError writes the errors[] envelope with one entry.
func writeError(w http.ResponseWriter, r *http.Request, status int, message, detail any) {
	writeErrors(w, status, []apiError{{Status: status, Resource: r.URL.Path, Message: message, Detail: detail}})
}

// writeErrors writes the errors[] envelope.
func writeErrors(w http.ResponseWriter, status int, errs []apiError) {
	writeJSON(w, status, map[string]any{"errors": errs})
}

// unauthorizedMessage is Devise's 401 text (paranoid mode: the same for an
// unknown user, a wrong password and a locked account).
const unauthorizedMessage = "Invalid User name or password."

// bearerChallenge is the WWW-Authenticate header of every 401: Primero's
// middleware replaces Devise's Basic challenge with it, so a client that
// waits for a Basic challenge never sends its credentials.
const bearerChallenge = `Bearer realm="Primero" charset="UTF8"`

// writeUnauthorized writes Devise's 401, which is not the errors[] envelope.
func writeUnauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", bearerChallenge)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": unauthorizedMessage})
}

// writeUnauthorizedEnvelope writes a 401 raised inside a controller (an
// identity-provider token error), which uses the errors[] envelope.
func writeUnauthorizedEnvelope(w http.ResponseWriter, r *http.Request, message string) {
	w.Header().Set("WWW-Authenticate", bearerChallenge)
	writeError(w, r, http.StatusUnauthorized, message, nil)
}
