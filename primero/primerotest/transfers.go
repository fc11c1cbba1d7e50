package primerotest

import (
	"net/http"
)

// transitionRecipient runs the recipient rule of an assign or transfer,
// writing the error: 500 when transitioned_to names no user (as for
// referrals), 422 when the user may not receive it; under s.mu.
func (s *Server) transitionRecipient(w http.ResponseWriter, r *http.Request, rec, data map[string]any, u *userState) (*userState, bool) {
	to, ok := s.users[stringOf(data["transitioned_to"])]
	if !ok {
		writeError(w, r, http.StatusInternalServerError, errNoRecipient, nil)
		return nil, false
	}
	if !s.canReceive(to, u.UserName, stringOf(rec["module_id"])) {
		writeErrors(w, http.StatusUnprocessableEntity, []apiError{recipientError(r.URL.Path)})
		return nil, false
	}
	return to, true
}

// beginTransition is beginAction plus the recipient rule of an assign or
// transfer; on success it returns with s.mu held.
func (s *Server) beginTransition(w http.ResponseWriter, r *http.Request, u *userState, id string, body []byte) (map[string]any, map[string]any, *userState, bool) {
	data, rec, ok := s.beginAction(w, r, u, id, body)
	if !ok {
		return nil, nil, nil, false
	}
	to, ok := s.transitionRecipient(w, r, rec, data, u)
	if !ok {
		s.mu.Unlock()
		return nil, nil, nil, false
	}
	return data, rec, to, true
}

// handleAssign implements POST /api/v2/cases/:id/assigns: the owner changes
// at once (the fake's assign recipients are the users that receive
// referrals; unconfirmed which permission Primero checks).
func (s *Server) handleAssign(w http.ResponseWriter, r *http.Request, u *userState, id string, body []byte) {
	data, rec, to, ok := s.beginTransition(w, r, u, id, body)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	before := deepCopyMap(rec)
	t := s.newTransition(typeAssign, statusDone, rec, data, u)
	s.setRecipient(t, rec, to, false)
	s.changeOwner(rec, to.UserName)
	s.touch(rec, before, u.UserName)
	writeJSON(w, http.StatusOK, map[string]any{"data": s.withRecord(t, before, rec, u)})
}

// changeOwner makes user the case's owner, under s.mu.
func (s *Server) changeOwner(rec map[string]any, user string) {
	rec["previously_owned_by"] = rec["owned_by"]
	rec["owned_by"] = user
	rec["reassigned_transferred_on"] = formatTime(s.now())
}

// handleCreateTransfer implements POST /api/v2/cases/:id/transfers: an
// in-progress transfer whose recipient is assigned at once. It needs consent
// like a referral, or consent_individual_transfer / consent_overridden.
func (s *Server) handleCreateTransfer(w http.ResponseWriter, r *http.Request, u *userState, id string, body []byte) {
	data, rec, to, ok := s.beginTransition(w, r, u, id, body)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	if !consentGiven(rec) && !truthy(data["consent_overridden"]) && !truthy(data["consent_individual_transfer"]) {
		writeErrors(w, http.StatusUnprocessableEntity, []apiError{consentError(r.URL.Path)})
		return
	}
	before := deepCopyMap(rec)
	t := s.newTransition(typeTransfer, statusInProgress, rec, data, u)
	s.setRecipient(t, rec, to, true)
	rec["transfer_status"] = statusInProgress
	rec["transferred_to_users"] = []any{to.UserName}
	s.touch(rec, before, u.UserName)
	writeJSON(w, http.StatusOK, map[string]any{"data": s.withRecord(t, before, rec, u)})
}

// handleUpdateTransfer implements PATCH /api/v2/cases/:id/transfers/:tid:
// accepted (the recipient becomes the owner), rejected or revoked (the
// recipient is unassigned); anything else is a silent no-op, as for
// referrals.
func (s *Server) handleUpdateTransfer(w http.ResponseWriter, r *http.Request, u *userState, id, tid string, body []byte) {
	data, rec, t, ok := s.beginAnswer(w, r, u, id, tid, typeTransfer, body)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	before := deepCopyMap(rec)
	to := stringOf(data["status"])
	if t["status"] != statusInProgress || (to != statusAccepted && to != statusRejected && to != statusRevoked) {
		writeJSON(w, http.StatusOK, map[string]any{"data": s.withRecord(t, before, rec, u)})
		return
	}
	t["status"] = to
	t["responded_at"] = formatTime(s.now())
	rec["transfer_status"] = to
	switch to {
	case statusAccepted:
		s.changeOwner(rec, stringOf(t["transitioned_to"]))
		s.unassign(rec, t)
	case statusRejected:
		t["rejected_reason"] = data["rejected_reason"]
		s.unassign(rec, t)
	default:
		s.unassign(rec, t)
	}
	s.touch(rec, before, u.UserName)
	writeJSON(w, http.StatusOK, map[string]any{"data": s.withRecord(t, before, rec, u)})
}
