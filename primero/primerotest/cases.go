package primerotest

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
)

// lookupCase finds a case by id and checks scope, writing 404 or 403; under
// s.mu.
func (s *Server) lookupCase(w http.ResponseWriter, r *http.Request, u *userState, id string) (map[string]any, bool) {
	i, ok := s.byID[id]
	if !ok {
		writeError(w, r, http.StatusNotFound, "Not Found", nil)
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
	writeJSON(w, http.StatusOK, map[string]any{"data": project(rec, selectedFields(r.URL.Query().Get("fields")))})
}

// decodeData decodes a {"data": {...}} body. A malformed body is reported
// like a missing data key (unconfirmed: Rails may answer 400 there).
func decodeData(body []byte) (map[string]any, error) {
	var env map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, errNoData
	}
	data, ok := env["data"].(map[string]any)
	if !ok {
		return nil, errNoData
	}
	return data, nil
}

// checkWrite decodes and validates a case write, writing the 422 on failure.
func (s *Server) checkWrite(w http.ResponseWriter, r *http.Request, body []byte) (map[string]any, bool) {
	data, err := decodeData(body)
	if err != nil {
		writeError(w, r, http.StatusUnprocessableEntity, err.Error(), nil)
		return nil, false
	}
	if bad := s.validateWrite(data); len(bad) > 0 {
		slices.Sort(bad)
		writeError(w, r, http.StatusUnprocessableEntity, "Invalid Record JSON", bad)
		return nil, false
	}
	if errs := s.modelErrors(r.URL.Path, data); len(errs) > 0 {
		writeErrors(w, http.StatusUnprocessableEntity, errs)
		return nil, false
	}
	return data, true
}

// permitted keeps the writable fields of a write body, dropping unknown
// ones silently, under s.mu.
func (s *Server) permitted(data map[string]any) map[string]any {
	out := make(map[string]any, len(data))
	for k, v := range data {
		if serverFields[k] {
			continue
		}
		if _, known := s.fieldType(k); !known && s.cfg.quirks.DropUnknownFields {
			continue
		}
		out[k] = v
	}
	return out
}

// handleCreateCase implements POST /api/v2/cases.
func (s *Server) handleCreateCase(w http.ResponseWriter, r *http.Request, u *userState, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.checkWrite(w, r, body)
	if !ok {
		return
	}
	// module_id as a hard requirement (unconfirmed; Quirks.RequireModuleID).
	if _, ok := data["module_id"]; !ok && s.cfg.quirks.RequireModuleID {
		writeError(w, r, http.StatusUnprocessableEntity, "Invalid Record JSON", []string{"/module_id"})
		return
	}
	rec := s.permitted(data)
	clientID, hasID := data["id"].(string)
	if hasID {
		if _, dup := s.byID[clientID]; dup {
			writeError(w, r, http.StatusConflict, statusMessage(http.StatusConflict), nil)
			return
		}
		rec["id"] = clientID
	}
	// 409 on a duplicate case_id (unique index; unconfirmed; Quirks.DuplicateCaseIDConflict).
	if cid, ok := rec["case_id"].(string); ok && s.cfg.quirks.DuplicateCaseIDConflict {
		if _, dup := s.byCaseID[cid]; dup {
			writeError(w, r, http.StatusConflict, statusMessage(http.StatusConflict), nil)
			return
		}
	}
	s.fillServerFields(rec, u, u.UserName)
	rec["created_by"], rec["last_updated_by"] = u.UserName, u.UserName
	s.insert(rec)
	if hasID {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": rec})
}

// handleUpdateCase implements PATCH /api/v2/cases/:id: the deep merge of
// reference §3.6, answering only the changed fields.
func (s *Server) handleUpdateCase(w http.ResponseWriter, r *http.Request, u *userState, id string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.lookupCase(w, r, u, id)
	if !ok {
		return
	}
	data, ok := s.checkWrite(w, r, body)
	if !ok {
		return
	}
	patch := s.permitted(data)
	if cid, ok := patch["case_id"].(string); ok && cid != stringOf(rec["case_id"]) && s.cfg.quirks.DuplicateCaseIDConflict {
		if _, dup := s.byCaseID[cid]; dup {
			writeError(w, r, http.StatusConflict, statusMessage(http.StatusConflict), nil)
			return
		}
	}
	before := deepCopyMap(rec)
	mergeRecord(rec, patch, s.subformFields())
	if cid := stringOf(rec["case_id"]); cid != stringOf(before["case_id"]) {
		delete(s.byCaseID, stringOf(before["case_id"]))
		s.byCaseID[cid] = s.byID[id]
	}
	s.touch(rec, u.UserName)
	writeJSON(w, http.StatusOK, map[string]any{"data": changedFields(before, rec)})
}

// touch bumps last_updated_at/by and recomputes derived fields, under s.mu.
func (s *Server) touch(rec map[string]any, user string) {
	rec["last_updated_at"] = formatTime(s.nextStamp())
	rec["last_updated_by"] = user
	s.normalise(rec)
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
	rec["record_state"] = false
	s.touch(rec, u.UserName)
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"id": id}})
}
