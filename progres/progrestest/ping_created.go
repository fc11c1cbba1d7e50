package progrestest

// listCreatedLocked adds the referrals of an async creation to the
// decision list and detail (PINGConfig.ListCreatedReferrals); s.mu is held.
func (s *PINGServer) listCreatedLocked(records []map[string]any) {
	for _, rec := range records {
		id := newGUID()
		s.rows[SHPDecisions] = append(s.rows[SHPDecisions], map[string]any{
			"progres_interoperabilityreferralid":     id,
			"progres_interoperabilityreferralstatus": num(s.cfg.ListCreatedReferrals),
		})
		s.rows[SHPDecisionDetail] = append(s.rows[SHPDecisionDetail], map[string]any{
			"progres_interoperabilityreferralid":     id,
			"progres_interoperabilityreferralstatus": num(s.cfg.ListCreatedReferrals),
			"progres_offlineid":                      fieldValue(rec, "progres_offlineid"),
			"progres_orgreferralid":                  fieldValue(rec, "progres_orgreferralid"),
		})
	}
}
