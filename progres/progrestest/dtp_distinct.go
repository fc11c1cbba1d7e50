package progrestest

// DistinctReferrals counts the ReceiveIncomingReferral bodies received by
// their id (the composite key): how many referrals proGres would hold if it
// keeps referrals by that id, and how many POSTs each took. DTP has no read
// API, so a sender that re-sends after a lost answer can only promise the
// same id and body; tests assert the effect (one id) and the raw requests
// (Referrals) apart.
func (s *DTPServer) DistinctReferrals() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, m := range s.referrals {
		id, _ := m["id"].(string)
		out[id]++
	}
	return out
}
