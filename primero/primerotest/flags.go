package primerotest

import (
	"net/http"
)

// recountFlags sets the case's flagged and flag_count from its unresolved
// flags, under s.mu.
func (s *Server) recountFlags(rec map[string]any) {
	n := 0
	for _, f := range s.flags[stringOf(rec["id"])] {
		if removed, _ := f["removed"].(bool); !removed {
			n++
		}
	}
	rec["flagged"] = n > 0
	rec["flag_count"] = float64(n)
}

// handleListFlags implements GET /api/v2/cases/:id/flags: every flag of the
// case, resolved ones included.
func (s *Server) handleListFlags(w http.ResponseWriter, r *http.Request, u *userState, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.lookupCase(w, r, u, id); !ok {
		return
	}
	out := []any{}
	for _, f := range s.flags[id] {
		out = append(out, f)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// handleCreateFlag implements POST /api/v2/cases/:id/flags {message, date}.
func (s *Server) handleCreateFlag(w http.ResponseWriter, r *http.Request, u *userState, id string, body []byte) {
	data, rec, ok := s.beginAction(w, r, u, id, body)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	s.nextFlagID++
	f := map[string]any{"id": s.nextFlagID, "record_id": id, "record_type": "cases", "message": data["message"],
		"date": data["date"], "flagged_by": u.UserName, "removed": false, "created_at": formatTime(s.now())}
	s.flags[id] = append(s.flags[id], f)
	before := deepCopyMap(rec)
	s.recountFlags(rec)
	s.touch(rec, before, u.UserName)
	writeJSON(w, http.StatusOK, map[string]any{"data": f})
}

// handleResolveFlag implements PATCH /api/v2/cases/:id/flags/:fid
// {unflag_message}: the flag is resolved and stays listed.
func (s *Server) handleResolveFlag(w http.ResponseWriter, r *http.Request, u *userState, id, fid string, body []byte) {
	data, rec, ok := s.beginAction(w, r, u, id, body)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	for _, f := range s.flags[id] {
		if jsonIntString(f["id"]) != fid {
			continue
		}
		f["removed"] = true
		f["unflag_message"] = data["unflag_message"]
		f["unflagged_by"] = u.UserName
		f["unflagged_date"] = s.now().Format("2006-01-02")
		before := deepCopyMap(rec)
		s.recountFlags(rec)
		s.touch(rec, before, u.UserName)
		writeJSON(w, http.StatusOK, map[string]any{"data": f})
		return
	}
	writeError(w, r, http.StatusNotFound, "Not Found", "Couldn't find Flag with 'id'="+fid)
}
