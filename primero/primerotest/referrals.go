package primerotest

import (
	"net/http"
	"slices"
)

// Referral statuses (app/models/transition.rb).
const (
	typeReferral = "Referral"
	typeTransfer = "Transfer"
	typeAssign   = "Assign"

	statusInProgress = "in_progress"
	statusAccepted   = "accepted"
	statusRejected   = "rejected"
	statusDone       = "done"
	statusRevoked    = "revoked"
)

// Referrals returns the referrals of a case (by record UUID id), oldest
// first, as the transition JSON the API renders (without `record`).
func (s *Server) Referrals(caseID string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, t := range s.transitions[caseID] {
		if t["type"] == typeReferral {
			out = append(out, transitionJSON(t, ""))
		}
	}
	return out
}

// transitionJSON renders a stored transition for caller: its non-null
// columns plus the computed record_access_denied and
// user_can_accept_or_reject, true only for the recipient of a non-remote
// referral still in progress.
func transitionJSON(t map[string]any, caller string) map[string]any {
	out := make(map[string]any, len(t)+2)
	for k, v := range t {
		if v != nil {
			out[k] = v
		}
	}
	remote, _ := t["remote"].(bool)
	out["record_access_denied"] = false
	out["user_can_accept_or_reject"] = !remote && t["status"] == statusInProgress &&
		caller != "" && t["transitioned_to"] == caller
	return out
}

// truthy reports a set tick box or yes-like value.
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x == "true" || x == "yes"
	}
	return false
}

// consentGiven is Referral#consent_given?: non-GBV modules need
// disclosure_other_orgs and consent_for_services, GBV needs
// consent_for_services.
func consentGiven(rec map[string]any) bool {
	if rec["module_id"] == "primeromodule-gbv" {
		return truthy(rec["consent_for_services"])
	}
	return truthy(rec["consent_for_services"]) && truthy(rec["disclosure_other_orgs"])
}

// canReceive is UserTransitionService's recipient rule for a case of
// module, under s.mu: enabled, holding receive_referral, not the caller,
// and in a role that works in the case's module.
func (s *Server) canReceive(to *userState, caller, module string) bool {
	return !to.Disabled && to.CanReceiveReferrals && to.UserName != caller &&
		inModules(s.roleOf(to).Modules, module)
}

// errNoRecipient is the 500 Primero raises when transitioned_to names no
// user: the recipient rule calls a method on nil.
const errNoRecipient = "undefined method `user_name' for nil"

// consentError is the 422 of the consent rule.
func consentError(resource string) apiError {
	return apiError{Status: 422, Resource: resource, Message: []string{"transition.errors.consent"}, Detail: "consent"}
}

// recipientError is the 422 of the recipient rule.
func recipientError(resource string) apiError {
	return apiError{Status: 422, Resource: resource, Message: []string{"transition.errors.to_user_can_receive"},
		Detail: "transitioned_to"}
}

// referralErrors runs a new referral's validations, under s.mu: the status
// is 500 when the recipient is no user (Primero raises), else 422 with the
// consent and recipient errors, or 0 when the referral is valid.
func (s *Server) referralErrors(resource string, rec, data map[string]any, caller *userState) (int, []apiError) {
	var errs []apiError
	if !truthy(data["remote"]) {
		to, ok := s.users[stringOf(data["transitioned_to"])]
		if !ok {
			return http.StatusInternalServerError, []apiError{{Status: 500, Resource: resource, Message: errNoRecipient}}
		}
		if !s.canReceive(to, caller.UserName, stringOf(rec["module_id"])) {
			errs = append(errs, recipientError(resource))
		}
	}
	if !consentGiven(rec) && !truthy(data["consent_overridden"]) {
		errs = append(errs, consentError(resource))
	}
	if len(errs) > 0 {
		return http.StatusUnprocessableEntity, errs
	}
	return 0, nil
}

// answerErrors re-runs a referral's validations when it is saved again
// (accept, reject, done, revoke), under s.mu: the consent rule always, the
// recipient rule except on revoke (Quirks.DisabledRecipientBlocksResponse).
func (s *Server) answerErrors(resource string, rec, t map[string]any, revoke bool) []apiError {
	var errs []apiError
	if !revoke && !truthy(t["remote"]) && s.cfg.quirks.DisabledRecipientBlocksResponse {
		to, ok := s.users[stringOf(t["transitioned_to"])]
		if !ok || !s.canReceive(to, stringOf(t["transitioned_by"]), stringOf(rec["module_id"])) {
			errs = append(errs, recipientError(resource))
		}
	}
	if !consentGiven(rec) && !truthy(t["consent_overridden"]) {
		errs = append(errs, consentError(resource))
	}
	return errs
}

// overrideRefused applies Quirks.ConsentOverrideNeedsPermission.
func (s *Server) overrideRefused(data map[string]any, u *userState) bool {
	return s.cfg.quirks.ConsentOverrideNeedsPermission && truthy(data["consent_overridden"]) && !u.CanOverrideConsent
}

// refer creates a referral and applies its side effects, under s.mu; before
// is the case as it was, for its history. The rules must have been checked.
func (s *Server) refer(rec, before, data map[string]any, caller *userState) map[string]any {
	remote := truthy(data["remote"])
	t := s.newTransition(typeReferral, statusInProgress, rec, data, caller)
	t["service"], t["service_record_id"] = data["service"], data["service_record_id"]
	t["remote"], t["type_of_export"] = remote, data["type_of_export"]
	t["allow_case_creation"] = truthy(data["allow_case_creation"])
	t["authorized_role_unique_id"] = data["authorized_role_unique_id"]
	// stored only when sent; the server fills transitioned_to_user_agency
	t["transitioned_to_agency"] = data["transitioned_to_agency"]
	if remote {
		t["transitioned_to"] = data["transitioned_to"]
		t["transitioned_to_remote"] = data["transitioned_to_remote"]
	} else {
		// The recipient sees the case at once, before accepting.
		s.setRecipient(t, rec, s.users[stringOf(data["transitioned_to"])], true)
	}
	if sid := stringOf(data["service_record_id"]); sid != "" {
		if svc := findService(rec, sid); svc != nil {
			svc["service_status_referred"] = true
		}
	}
	s.recomputeReferred(rec)
	s.touch(rec, before, caller.UserName)
	return t
}

// newTransition stores a new transition of a case with the columns every
// type shares, under s.mu.
func (s *Server) newTransition(typ, status string, rec, data map[string]any, caller *userState) map[string]any {
	t := map[string]any{
		"id": randomUUID(), "type": typ, "status": status,
		"record_id": rec["id"], "record_type": "case",
		"transitioned_by": caller.UserName, "transitioned_by_user_agency": nilIfEmpty(caller.Agency),
		"transitioned_by_user_groups": stringsToAny(caller.Groups),
		"record_owned_by":             rec["owned_by"], "record_owned_by_agency": rec["owned_by_agency_id"],
		"record_owned_by_groups": rec["owned_by_groups"], "notes": data["notes"],
		"consent_overridden":          truthy(data["consent_overridden"]),
		"consent_individual_transfer": truthy(data["consent_individual_transfer"]),
		"created_at":                  formatTime(s.nextStamp()),
	}
	id := stringOf(rec["id"])
	s.transitions[id] = append(s.transitions[id], t)
	return t
}

// setRecipient fills a transition's recipient columns and, when assign is
// set, adds the recipient to the case's assigned users, under s.mu.
func (s *Server) setRecipient(t, rec map[string]any, to *userState, assign bool) {
	t["transitioned_to"] = to.UserName
	t["transitioned_to_user_agency"] = nilIfEmpty(to.Agency)
	t["transitioned_to_user_groups"] = stringsToAny(to.Groups)
	assigned, _ := rec["assigned_user_names"].([]any)
	if assign && !slices.Contains(assigned, any(to.UserName)) {
		rec["assigned_user_names"] = append(slices.Clone(assigned), to.UserName)
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// findService returns the services_section element with unique_id id.
func findService(rec map[string]any, id string) map[string]any {
	svcs, _ := rec["services_section"].([]any)
	for _, e := range svcs {
		if m, ok := e.(map[string]any); ok && m["unique_id"] == id {
			return m
		}
	}
	return nil
}

// recomputeReferred recomputes the referred_users* summary fields of a
// case from its non-remote referrals, under s.mu.
func (s *Server) recomputeReferred(rec map[string]any) {
	s.dirty(rec)
	var all, pending, accepted []string
	for _, t := range s.transitions[stringOf(rec["id"])] {
		if truthy(t["remote"]) || t["type"] != typeReferral {
			continue
		}
		to := stringOf(t["transitioned_to"])
		switch t["status"] {
		case statusInProgress:
			pending = appendUnique(pending, to)
			all = appendUnique(all, to)
		case statusAccepted:
			accepted = appendUnique(accepted, to)
			all = appendUnique(all, to)
		}
	}
	rec["referred_users"] = stringsToAny(all)
	rec["referred_users_present"] = len(all) > 0
	rec["referred_users_pending"] = stringsToAny(pending)
	rec["referred_users_pending_present"] = len(pending) > 0
	rec["referred_users_accepted"] = stringsToAny(accepted)
	rec["referred_users_accepted_present"] = len(accepted) > 0
}

func appendUnique(ss []string, s string) []string {
	if slices.Contains(ss, s) {
		return ss
	}
	return append(ss, s)
}

// unassign removes a transition's recipient from assigned_user_names
// unless another active (in_progress or accepted) referral or transfer
// needs them, under s.mu.
func (s *Server) unassign(rec, t map[string]any) {
	if truthy(t["remote"]) {
		return
	}
	to := stringOf(t["transitioned_to"])
	for _, o := range s.transitions[stringOf(rec["id"])] {
		if o["id"] == t["id"] || truthy(o["remote"]) || o["transitioned_to"] != to {
			continue
		}
		// transition.rb#progress_or_accepted_transition?
		if o["status"] == statusInProgress || (o["type"] == typeReferral && o["status"] == statusAccepted) {
			return
		}
	}
	assigned, _ := rec["assigned_user_names"].([]any)
	kept := make([]any, 0, len(assigned))
	for _, a := range assigned {
		if a != to {
			kept = append(kept, a)
		}
	}
	rec["assigned_user_names"] = kept
}

// withRecord renders a transition for caller with the `record` of a
// mutation response: the case's changed fields the caller may read.
func (s *Server) withRecord(t, before, after map[string]any, caller *userState) map[string]any {
	out := transitionJSON(t, caller.UserName)
	out["record"] = renderRecord(changedFields(before, after), s.viewFor(caller, ""))
	return out
}

// handleListReferrals implements GET /api/v2/cases/:id/referrals, and
// /transitions of the types listed in `types` (all when absent).
func (s *Server) handleListReferrals(w http.ResponseWriter, r *http.Request, u *userState, id string, types []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.lookupCase(w, r, u, id)
	if !ok {
		return
	}
	out := []any{}
	for _, t := range s.transitions[id] {
		if (types == nil || slices.Contains(types, stringOf(t["type"]))) && s.canSeeReferral(u, rec, t) {
			out = append(out, transitionJSON(t, u.UserName))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// canSeeReferral applies the referral visibility of docs/systems/primero.md: the owner and
// "all" users see every referral; others those of their own, group or
// agency.
func (s *Server) canSeeReferral(u *userState, rec, t map[string]any) bool {
	if u.Permission == "all" || rec["owned_by"] == u.UserName {
		return true
	}
	if t["transitioned_to"] == u.UserName || t["transitioned_by"] == u.UserName {
		return true
	}
	switch u.Permission {
	case "group":
		return anyOverlap(t["transitioned_to_user_groups"], u.Groups) || anyOverlap(t["transitioned_by_user_groups"], u.Groups)
	case "agency":
		return t["transitioned_to_user_agency"] == u.Agency || t["transitioned_by_user_agency"] == u.Agency
	}
	return false
}

// handleCreateReferral implements POST /api/v2/cases/:id/referrals.
func (s *Server) handleCreateReferral(w http.ResponseWriter, r *http.Request, u *userState, id string, body []byte) {
	data, rec, ok := s.beginAction(w, r, u, id, body)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	if s.overrideRefused(data, u) {
		writeError(w, r, http.StatusForbidden, "Forbidden", nil)
		return
	}
	if status, errs := s.referralErrors(r.URL.Path, rec, data, u); status != 0 {
		writeErrors(w, status, errs)
		return
	}
	before := deepCopyMap(rec)
	t := s.refer(rec, before, data, u)
	writeJSON(w, http.StatusOK, map[string]any{"data": s.withRecord(t, before, rec, u)})
}

// handleBulkReferral implements POST /api/v2/cases/referrals: any unknown id
// is a 404 before anything runs; then records are referred in order, each
// saved on its own, and the first failure answers its error alone
// (pitfall 33).
func (s *Server) handleBulkReferral(w http.ResponseWriter, r *http.Request, u *userState, body []byte) {
	data, err := decodeData(body)
	if err != nil {
		// find_records reads params['data']['ids'] first: a nil error.
		writeError(w, r, http.StatusInternalServerError, "undefined method `[]' for nil", nil)
		return
	}
	ids, _ := data["ids"].([]any)
	if len(ids) == 0 {
		writeError(w, r, http.StatusUnprocessableEntity, "param is missing or the value is empty: ids", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.overrideRefused(data, u) {
		writeError(w, r, http.StatusForbidden, "Forbidden", nil)
		return
	}
	recs := make([]map[string]any, 0, len(ids))
	for _, v := range ids {
		i, ok := s.byID[stringOf(v)]
		if !ok {
			writeError(w, r, http.StatusNotFound, "Not Found", stringOf(v))
			return
		}
		if !inScope(u, s.cases[i]) {
			writeError(w, r, http.StatusForbidden, "Forbidden", nil)
			return
		}
		recs = append(recs, s.cases[i])
	}
	// Partial application of a bulk referral (unconfirmed; Quirks.BulkReferralPartial).
	if !s.cfg.quirks.BulkReferralPartial {
		for _, rec := range recs {
			if status, errs := s.referralErrors(r.URL.Path, rec, data, u); status != 0 {
				writeErrors(w, status, errs)
				return
			}
		}
	}
	out := []any{}
	for _, rec := range recs {
		if status, errs := s.referralErrors(r.URL.Path, rec, data, u); status != 0 {
			// The first failing record raises; earlier ones stay referred
			// and the answer does not say which they were.
			writeErrors(w, status, errs)
			return
		}
		before := deepCopyMap(rec)
		t := s.refer(rec, before, data, u)
		out = append(out, s.withRecord(t, before, rec, u))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// findReferral looks up a case and one of its referrals, writing 404/403.
func (s *Server) findReferral(w http.ResponseWriter, r *http.Request, u *userState, id, rid string) (map[string]any, map[string]any, bool) {
	return s.findTransition(w, r, u, id, rid, typeReferral)
}

// findTransition looks up a case and one of its transitions of type typ,
// writing 404/403.
func (s *Server) findTransition(w http.ResponseWriter, r *http.Request, u *userState, id, rid, typ string) (map[string]any, map[string]any, bool) {
	rec, ok := s.lookupCase(w, r, u, id)
	if !ok {
		return nil, nil, false
	}
	for _, t := range s.transitions[id] {
		if t["id"] == rid && t["type"] == typ {
			return rec, t, true
		}
	}
	writeError(w, r, http.StatusNotFound, "Not Found", "Couldn't find "+typ+" with 'id'="+rid)
	return nil, nil, false
}

// beginAnswer decodes the body of an answer to transition tid of type typ
// on case id and finds both, writing the error and returning false when
// any of it fails. On success it returns with s.mu held.
func (s *Server) beginAnswer(w http.ResponseWriter, r *http.Request, u *userState, id, tid, typ string, body []byte) (map[string]any, map[string]any, map[string]any, bool) {
	data, err := decodeData(body)
	if err != nil {
		writeDecodeError(w, r, err)
		return nil, nil, nil, false
	}
	s.mu.Lock()
	rec, t, ok := s.findTransition(w, r, u, id, tid, typ)
	if !ok {
		s.mu.Unlock()
		return nil, nil, nil, false
	}
	return data, rec, t, true
}

// handleUpdateReferral implements PATCH /api/v2/cases/:id/referrals/:rid:
// accept, reject or done; any other transition is a silent 200 no-op that
// returns the unchanged referral (pitfall 32).
func (s *Server) handleUpdateReferral(w http.ResponseWriter, r *http.Request, u *userState, id, rid string, body []byte) {
	data, rec, t, ok := s.beginAnswer(w, r, u, id, rid, typeReferral, body)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	// Any reader of the case may respond (unconfirmed; Quirks.AnyoneMayRespond).
	if !s.cfg.quirks.AnyoneMayRespond && t["transitioned_to"] != u.UserName {
		writeError(w, r, http.StatusForbidden, "Forbidden", nil)
		return
	}
	before := deepCopyMap(rec)
	to := stringOf(data["status"])
	from := t["status"]
	remote := truthy(t["remote"])
	// Remote referrals can be answered by an integrator (unconfirmed; Quirks.RemoteReferralsRespondable).
	if remote && !s.cfg.quirks.RemoteReferralsRespondable {
		to = "" // no-op
	}
	valid := (from == statusInProgress && (to == statusAccepted || to == statusRejected)) ||
		(from == statusAccepted && to == statusDone)
	if !valid {
		writeJSON(w, http.StatusOK, map[string]any{"data": s.withRecord(t, before, rec, u)})
		return
	}
	// Saving the referral re-runs its validations.
	if errs := s.answerErrors(r.URL.Path, rec, t, false); len(errs) > 0 {
		writeErrors(w, http.StatusUnprocessableEntity, errs)
		return
	}
	now := formatTime(s.nextStamp())
	t["status"] = to
	switch to {
	case statusAccepted:
		t["responded_at"] = now
		s.recomputeReferred(rec)
		// Accept saves the case: last_updated_at moves, last_updated_by
		// does not (Quirks.AcceptBumpsCase).
		if s.cfg.quirks.AcceptBumpsCase {
			s.bump(rec, before, u.UserName)
		}
	case statusRejected:
		t["responded_at"] = now
		t["rejected_reason"] = data["rejected_reason"]
		// rejection_note is not stored: only done reads it.
		s.unassign(rec, t)
		rec["last_referral_rejected_at"] = now
		s.recomputeReferred(rec)
		s.touch(rec, before, u.UserName)
	case statusDone:
		if v, ok := data["rejection_note"]; ok {
			t["rejection_note"] = v // the provider's note
		}
		if svc := findService(rec, stringOf(t["service_record_id"])); svc != nil {
			if stringOf(svc["service_implemented_day_time"]) == "" {
				svc["service_implemented_day_time"] = now
			}
			if v, ok := data["rejection_note"]; ok {
				svc["note_on_referral_from_provider"] = v
			}
		}
		s.unassign(rec, t)
		rec["last_referral_done_at"] = now
		s.recomputeReferred(rec)
		s.touch(rec, before, u.UserName)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": s.withRecord(t, before, rec, u)})
}

// handleRevokeReferral implements DELETE /api/v2/cases/:id/referrals/:rid:
// revoked from any status, the recipient unassigned. The consent rule is
// re-run (revoke before withdrawing consent), the recipient rule is not.
func (s *Server) handleRevokeReferral(w http.ResponseWriter, r *http.Request, u *userState, id, rid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, t, ok := s.findReferral(w, r, u, id, rid)
	if !ok {
		return
	}
	if errs := s.answerErrors(r.URL.Path, rec, t, true); len(errs) > 0 {
		writeErrors(w, http.StatusUnprocessableEntity, errs)
		return
	}
	before := deepCopyMap(rec)
	t["status"] = statusRevoked
	s.unassign(rec, t)
	s.recomputeReferred(rec)
	s.touch(rec, before, u.UserName)
	writeJSON(w, http.StatusOK, map[string]any{"data": s.withRecord(t, before, rec, u)})
}
