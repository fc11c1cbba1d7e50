package primerotest

import (
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// syntheticLocations are the default location codes synthetic cases use.
var syntheticLocations = []string{"XX0101", "XX0102", "XX02"}

// AddSyntheticCases adds n deterministic synthetic cases (name_first
// "Synthetic", name_last "Case000001", ...), owned by DefaultUser, in
// creation order. It is fast: 100,000 cases take well under a few seconds.
func (s *Server) AddSyntheticCases(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cases = slices.Grow(s.cases, n)
	s.encoded = slices.Grow(s.encoded, n)
	s.encView = slices.Grow(s.encView, n)
	s.encFields = slices.Grow(s.encFields, n)
	rng := rand.New(rand.NewPCG(uint64(s.synthSeq)+1, 0x5eed))
	today := s.now().Format("2006-01-02")
	year := s.now().Year()
	owner := s.users[DefaultUser]
	for k := 0; k < n; k++ {
		s.synthSeq++
		seq := s.synthSeq
		id, uid := synthUUID(rng), synthUUID(rng)
		stamp := formatTime(s.nextStamp())
		age := seq % 18
		dob := time.Date(year-age-1, time.Month(1+seq%12), 1+seq%28, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
		sex := "female"
		if seq%2 == 0 {
			sex = "male"
		}
		num := pad6(seq)
		rec := map[string]any{
			"id": id, "unique_identifier": uid, "case_id": uid, "short_id": uid[len(uid)-7:],
			"case_id_display": uid[len(uid)-7:], "module_id": "primeromodule-cp",
			"name": "Synthetic Case" + num, "name_first": "Synthetic", "name_last": "Case" + num, "sex": sex,
			"age": float64(age), "date_of_birth": dob, "registration_date": today,
			"location_current":     syntheticLocations[seq%len(syntheticLocations)],
			"consent_for_services": seq%3 != 0, "disclosure_other_orgs": seq%3 != 0,
			"status": "open", "record_state": true, "enabled": true, "workflow": "new",
			"owned_by": DefaultUser, "owned_by_full_name": owner.FullName, "owned_by_agency_id": owner.Agency,
			"owned_by_groups": stringsToAny(owner.Groups), "created_by": DefaultUser,
			"last_updated_by": DefaultUser, "not_edited_by_owner": false, "created_at": stamp, "last_updated_at": stamp, "posted_at": stamp,
			"assigned_user_names": []any{}, "associated_user_names": []any{DefaultUser},
			"associated_user_groups": stringsToAny(owner.Groups), "associated_user_agencies": []any{owner.Agency},
			"notes_section": []any{}, "services_section": []any{},
			"other_agency_id": "803-" + pad8(seq), "telephone_current": "000-000-0000",
		}
		s.insert(rec)
	}
}

// synthUUID draws a version-4 UUID from the deterministic generator.
func synthUUID(rng *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

func pad6(n int) string { return padN(n, 6) }
func pad8(n int) string { return padN(n, 8) }

func padN(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}
