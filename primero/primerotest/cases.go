package primerotest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
)

// lookupCase finds a case by id and checks scope, writing 404 or 403; under
// s.mu.
func (s *Server) lookupCase(w http.ResponseWriter, r *http.Request, u *userState, id string) (map[string]any, bool) {
	i, ok := s.byID[id]
	if !ok {
		writeError(w, r, http.StatusNotFound, "Not Found", "Couldn't find Child with 'id'="+id)
		return nil, false
	}
	rec := s.cases[i]
	if !inScope(u, rec) {
		writeError(w, r, http.StatusForbidden, "Forbidden", nil)
		return nil, false
	}
	return rec, true
}

// handleGetCase implements GET /api/v2/cases/:id.
func (s *Server) handleGetCase(w http.ResponseWriter, r *http.Request, u *userState, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.lookupCase(w, r, u, id)
	if !ok {
		return
	}
	writeRecord(w, http.StatusOK, rec, s.viewFor(u, ""), selectedFields(r.URL.Query().Get("fields")))
}

// decodeData decodes a {"data": {...}} body: errNoData when there is no
// data object (or no JSON body at all), errBadJSON when it does not parse.
func decodeData(body []byte) (map[string]any, error) {
	if len(body) == 0 {
		return nil, errNoData
	}
	var env map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errBadJSON
		}
		return nil, errNoData // valid JSON that is not an object
	}
	data, ok := env["data"].(map[string]any)
	if !ok {
		return nil, errNoData
	}
	return data, nil
}

// beginAction decodes the {"data": ...} body of an action on case id and
// finds the case, writing the error and returning false when either fails.
// On success it returns with s.mu held: the caller unlocks it.
func (s *Server) beginAction(w http.ResponseWriter, r *http.Request, u *userState, id string, body []byte) (map[string]any, map[string]any, bool) {
	data, err := decodeData(body)
	if err != nil {
		writeDecodeError(w, r, err)
		return nil, nil, false
	}
	s.mu.Lock()
	rec, ok := s.lookupCase(w, r, u, id)
	if !ok {
		s.mu.Unlock()
		return nil, nil, false
	}
	return data, rec, true
}

// writeDecodeError answers a body decodeData refused: 400 for JSON that
// does not parse (Rails' parameter parser; the exact answer is
// unconfirmed), else 422 ParameterMissing.
func writeDecodeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errBadJSON) {
		writeError(w, r, http.StatusBadRequest, err.Error(), nil)
		return
	}
	writeError(w, r, http.StatusUnprocessableEntity, err.Error(), nil)
}

// recordData decodes the body of a record write: a missing data object is
// an empty one, as Primero's record_params falls back to {}. It writes the
// error and returns false on a body that does not parse.
func recordData(w http.ResponseWriter, r *http.Request, body []byte) (map[string]any, bool) {
	data, err := decodeData(body)
	switch {
	case errors.Is(err, errNoData):
		return map[string]any{}, true
	case err != nil:
		writeDecodeError(w, r, err)
		return nil, false
	}
	return data, true
}

// checkWrite keeps what v may write of data and validates it, writing the
// 422 on failure (strong parameters first, then the schema, then the model
// validations: an unwritable field never fails validation).
func (s *Server) checkWrite(w http.ResponseWriter, r *http.Request, v *view, data map[string]any, create bool) (map[string]any, bool) {
	permitted := v.permit(data, create)
	if s.cfg.quirks.RequireModuleID && create {
		if _, ok := permitted["module_id"]; !ok {
			writeError(w, r, http.StatusUnprocessableEntity, "Invalid Record JSON", []string{"/module_id"})
			return nil, false
		}
	}
	if bad := v.validate(permitted); len(bad) > 0 {
		writeError(w, r, http.StatusUnprocessableEntity, "Invalid Record JSON", bad)
		return nil, false
	}
	if errs := s.modelErrors(r.URL.Path, permitted); len(errs) > 0 {
		writeErrors(w, http.StatusUnprocessableEntity, errs)
		return nil, false
	}
	return permitted, true
}

// handleCreateCase implements POST /api/v2/cases. Writable form fields are
// those of the body's module_id: without it only the core fields are kept.
func (s *Server) handleCreateCase(w http.ResponseWriter, r *http.Request, u *userState, body []byte) {
	data, ok := recordData(w, r, body)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	module, _ := data["module_id"].(string)
	if !validModules[module] {
		module = "" // an invalid module_id fails validation below
	}
	rec, ok := s.checkWrite(w, r, s.viewFor(u, module), data, true)
	if !ok {
		return
	}
	clientID, hasID := rec["id"].(string)
	if hasID {
		if _, dup := s.byID[clientID]; dup {
			writeError(w, r, http.StatusConflict, statusMessage(http.StatusConflict), nil)
			return
		}
	}
	// 409 on a duplicate case_id (unique index; Quirks.DuplicateCaseIDConflict).
	if cid, ok := rec["case_id"].(string); ok && s.cfg.quirks.DuplicateCaseIDConflict {
		if _, dup := s.byCaseID[cid]; dup {
			writeError(w, r, http.StatusConflict, statusMessage(http.StatusConflict), nil)
			return
		}
	}
	if o, ok := rec["owned_by"]; ok && !s.isUser(o) {
		delete(rec, "owned_by") // reverted: on create to none, then the caller
	}
	s.fillServerFields(rec, u, u.UserName)
	rec["created_by"], rec["last_updated_by"] = u.UserName, u.UserName
	s.insert(rec)
	s.recordHistory(rec, nil, u.UserName)
	if hasID {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeRecord(w, http.StatusOK, rec, s.viewFor(u, module), nil)
}

// isUser reports whether v names a known user, under s.mu.
func (s *Server) isUser(v any) bool {
	name, ok := v.(string)
	_, known := s.users[name]
	return ok && known
}

// handleUpdateCase implements PATCH /api/v2/cases/:id: the deep merge of
// docs/systems/primero.md, answering only the changed fields. Writable
// fields come from the stored case's module_id.
func (s *Server) handleUpdateCase(w http.ResponseWriter, r *http.Request, u *userState, id string, body []byte) {
	data, ok := recordData(w, r, body)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.lookupCase(w, r, u, id)
	if !ok {
		return
	}
	v := s.viewFor(u, stringOf(rec["module_id"]))
	patch, ok := s.checkWrite(w, r, v, data, false)
	if !ok {
		return
	}
	if o, ok := patch["owned_by"]; ok && !s.isUser(o) {
		delete(patch, "owned_by") // an unknown owner is reverted
	}
	before := deepCopyMap(rec)
	mergeRecord(rec, patch, s.schema().subforms)
	s.touch(rec, before, u.UserName)
	writeJSON(w, http.StatusOK, map[string]any{"data": renderRecord(changedFields(before, rec), v)})
}

// touch saves rec for user: it bumps last_updated_at/by, recomputes the
// derived fields and records the change against before, under s.mu.
func (s *Server) touch(rec, before map[string]any, user string) {
	rec["last_updated_by"] = user
	s.bump(rec, before, user)
}

// bump saves rec like touch but leaves last_updated_by alone, under s.mu.
func (s *Server) bump(rec, before map[string]any, user string) {
	rec["last_updated_at"] = formatTime(s.nextStamp())
	s.normalise(rec)
	s.recordHistory(rec, before, user)
}

// changedFields returns id, enabled, last_updated_at and every top-level
// field whose value differs between before and after.
func changedFields(before, after map[string]any) map[string]any {
	out := map[string]any{"id": after["id"], "enabled": after["enabled"], "last_updated_at": after["last_updated_at"]}
	for k, v := range after {
		if old, ok := before[k]; !ok || !reflect.DeepEqual(old, v) {
			out[k] = v
		}
	}
	return out
}

// handleDeleteCase implements DELETE /api/v2/cases/:id: a soft delete.
func (s *Server) handleDeleteCase(w http.ResponseWriter, r *http.Request, u *userState, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.lookupCase(w, r, u, id)
	if !ok {
		return
	}
	before := deepCopyMap(rec)
	rec["record_state"] = false
	s.touch(rec, before, u.UserName)
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"id": id}})
}
