package primerotest

import (
	"net/http"
	"reflect"
	"slices"
	"time"
)

// historyIgnored are the fields whose change alone leaves no history entry
// (app/models/concerns/historical.rb).
var historyIgnored = setOf("last_updated_at", "last_updated_by", "posted_at")

// recordHistory appends the history entry of a save of rec, under s.mu:
// "create" when before is nil, else "update" with the changed fields, and
// nothing when only the timestamps moved.
func (s *Server) recordHistory(rec, before map[string]any, user string) {
	action := "create"
	changes := []any{}
	if before != nil {
		action = "update"
		keys := make([]string, 0, 4)
		for k, v := range rec {
			if old, ok := before[k]; (!ok || !reflect.DeepEqual(old, v)) && !historyIgnored[k] {
				keys = append(keys, k)
			}
		}
		for k := range before {
			if _, ok := rec[k]; !ok && !historyIgnored[k] {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			return
		}
		slices.Sort(keys)
		for _, k := range keys {
			changes = append(changes, map[string]any{k: map[string]any{"from": before[k], "to": rec[k]}})
		}
	}
	id := stringOf(rec["id"])
	s.history[id] = append(s.history[id], map[string]any{
		"record_id": id, "record_type": "cases", "user_name": user, "action": action,
		"datetime": s.now().Truncate(time.Second).Format(time.RFC3339), "record_changes": changes,
	})
}

// handleRecordHistory implements GET /api/v2/cases/:id/record_history
// (paginated), oldest entry first.
func (s *Server) handleRecordHistory(w http.ResponseWriter, r *http.Request, u *userState, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.lookupCase(w, r, u, id); !ok {
		return
	}
	v := s.viewFor(u, "")
	entries := s.history[id]
	items := make([]any, 0, len(entries))
	for _, e := range entries {
		items = append(items, readableHistory(e, v))
	}
	writePage(w, r, items, 20, nil)
}

// readableHistory keeps the changes of fields the reader may read.
func readableHistory(e map[string]any, v *view) map[string]any {
	out := make(map[string]any, len(e))
	for k, val := range e {
		out[k] = val
	}
	changes := []any{}
	for _, c := range e["record_changes"].([]any) {
		for field := range c.(map[string]any) {
			if v.readable(field) {
				changes = append(changes, c)
			}
		}
	}
	out["record_changes"] = changes
	return out
}
