package progres

import (
	"context"
	"iter"
)

// Columns names the columns the typed PING rows are read from. The
// prefixes are the aliases of each shipping process's query and differ
// between operations (the list rows say progres_individual.indiv.…, the
// detail rows progres_individual.individuals.…) and may differ between
// deployments: configuration, not constants. DefaultColumns has the
// pilot deployment's names.
type Columns struct {
	// Pending interventions (list).
	PendingInterventionID string // the id passed to the detail fetch
	// PendingInterventionIDFallback is read when PendingInterventionID is
	// absent: the public sample carries the id in another column than the
	// one the earlier integration's job reads (unconfirmed which the live list returns).
	PendingInterventionIDFallback string
	PendingInterventionNumber     string
	PendingBusinessUnit           string
	PendingDeliveryType           string

	// Intervention detail rows.
	DetailInterventionNumber string
	DetailInterventionID     string
	DetailServiceType        string
	DetailIndividualPrefix   string // + progres_id, progres_givenname, …
	DetailGroupNumber        string
	DetailBusinessUnit       string
	DetailLanguage           string

	// Decision list and detail rows.
	DecisionID          string
	DecisionStatus      string
	DecisionReview      string
	DecisionCaseID      string // Primero case_id (progres_offlineid)
	DecisionServiceID   string // Primero service unique_id (progres_orgreferralid)
	DecisionReasonName  string
	DecisionCommentName string
}

// DefaultColumns returns the pilot deployment's column names.
func DefaultColumns() Columns {
	return Columns{
		PendingInterventionID:         "progres_lpinterventionid",
		PendingInterventionIDFallback: "progres_intervention",
		PendingInterventionNumber:     "progres_lpintervention.int.progres_interventionnumber",
		PendingBusinessUnit:           "progres_businessunit",
		PendingDeliveryType:           "progres_deliverytype",

		DetailInterventionNumber: "progres_interventionnumber",
		DetailInterventionID:     "progres_lpinterventionid",
		DetailServiceType:        "progres_interventiontype2.interventiontype.progres_description",
		DetailIndividualPrefix:   "progres_individual.individuals.",
		DetailGroupNumber:        "progres_individual.progres_registrationgroupidname",
		DetailBusinessUnit:       "progres_businessunit",
		DetailLanguage:           "progres_language.progres_languagecodeidname",

		DecisionID:          "progres_interoperabilityreferralid",
		DecisionStatus:      "progres_interoperabilityreferralstatus",
		DecisionReview:      "progres_reviewdecision",
		DecisionCaseID:      "progres_offlineid",
		DecisionServiceID:   "progres_orgreferralid",
		DecisionReasonName:  "progres_interoperabiltyreferralrejectionreasonname",
		DecisionCommentName: "progres_interoperabilityreferralrejectionomment",
	}
}

func (c Columns) validate() error {
	v := &ValidationError{}
	for _, f := range []struct{ path, val string }{
		{"PendingInterventionID", c.PendingInterventionID}, {"PendingInterventionNumber", c.PendingInterventionNumber},
		{"DetailInterventionNumber", c.DetailInterventionNumber}, {"DetailIndividualPrefix", c.DetailIndividualPrefix},
		{"DecisionID", c.DecisionID}, {"DecisionStatus", c.DecisionStatus},
		{"DecisionCaseID", c.DecisionCaseID}, {"DecisionServiceID", c.DecisionServiceID},
	} {
		requireText(v, "Columns."+f.path, f.val)
	}
	return v.Err()
}

// PendingIntervention is a row of the pending-interventions list.
type PendingIntervention struct {
	LPInterventionID   string // pass to InterventionsService.Detail
	InterventionNumber string
	BusinessUnit       string
	DeliveryType       DeliveryType
	Row                Row // every column, as fetched
}

// InterventionRow is one detail row of an intervention: one per language ×
// specific need. Group by InterventionNumber.
type InterventionRow struct {
	InterventionNumber      string
	LPInterventionID        string
	ServiceType             string // the service key mapped to a Primero service type
	IndividualID            string // UNHCR individual number
	GivenName               string
	MiddleName              string
	FamilyName              string
	CommonlyUsedName        string
	DateOfBirth             string // date part, "" when absent (pitfall 20)
	Sex                     Sex
	PrimaryPhone            string
	RegistrationGroupNumber string
	BusinessUnit            string
	Language                string
	Row                     Row
}

// DecisionSummary is a row of the decision list.
type DecisionSummary struct {
	ReferralID string // progres_interoperabilityreferralid
	Status     InteropStatus
	Row        Row
}

// DecisionDetail is the first row of a decision's detail.
type DecisionDetail struct {
	ReferralID string
	// Status is the referral status, or, when that column is absent, the
	// review decision read with the same table, as the earlier integration does
	// (unconfirmed). An unknown code is an error, never "accepted"
	// (pitfall 19).
	Status              InteropStatus
	CaseID              string // the Primero case_id
	ServiceUniqueID     string // the Primero service unique_id
	RejectionReasonName string
	RejectionComment    string
	Row                 Row
}

// rowReader reads a row without consuming it; problems name Data[i].<col>.
func rowReader(r Row, i int, v *ValidationError) *extractor {
	return &extractor{m: r, path: "Data[" + itoa(i) + "]", v: v, keep: true}
}

// RowError is one fetched row that could not be read as its type (an
// unknown option code, a missing id): the rows after it are still
// yielded. Err names the row's fields by path (Data[i].column), never
// their values. Any other error of a fetch ends it.
type RowError struct {
	// Index is the row's 0-based position in the fetch.
	Index int
	// Err says which fields were refused (a *ValidationError).
	Err error
}

func (e *RowError) Error() string { return "progres: row " + itoa(e.Index) + ": " + e.Err.Error() }

// Unwrap returns the row's error.
func (e *RowError) Unwrap() error { return e.Err }

// typedRows converts a row sequence with dec. A row dec refuses is
// yielded as a *RowError and the sequence goes on, so one bad row does not
// hide the rows after it; an error of seq (the fetch itself) ends it.
func typedRows[T any](seq iter.Seq2[Row, error], dec func(Row, int) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		i := 0
		for r, err := range seq {
			var t T
			if err != nil {
				yield(t, err)
				return
			}
			if t, err = dec(r, i); err != nil {
				err = &RowError{Index: i, Err: err}
			}
			if !yield(t, err) {
				return
			}
			i++
		}
	}
}

func (c Columns) pending(r Row, i int) (*PendingIntervention, error) {
	v := &ValidationError{}
	x := rowReader(r, i, v)
	p := &PendingIntervention{
		LPInterventionID:   x.str(c.PendingInterventionID),
		InterventionNumber: x.str(c.PendingInterventionNumber),
		BusinessUnit:       x.str(c.PendingBusinessUnit),
		DeliveryType:       code(x, c.PendingDeliveryType, deliveryCodes.parse),
		Row:                r,
	}
	if p.LPInterventionID == "" && c.PendingInterventionIDFallback != "" {
		p.LPInterventionID = x.str(c.PendingInterventionIDFallback)
	}
	if p.LPInterventionID == "" {
		v.Add(x.at(c.PendingInterventionID), "is required")
	}
	return p, v.Err()
}

func (c Columns) detail(r Row, i int) (*InterventionRow, error) {
	v := &ValidationError{}
	x := rowReader(r, i, v)
	ind := c.DetailIndividualPrefix
	d := &InterventionRow{
		InterventionNumber:      x.required(c.DetailInterventionNumber),
		LPInterventionID:        x.str(c.DetailInterventionID),
		ServiceType:             x.str(c.DetailServiceType),
		IndividualID:            x.str(ind + "progres_id"),
		GivenName:               x.str(ind + "progres_givenname"),
		MiddleName:              x.str(ind + "progres_middlename"),
		FamilyName:              x.str(ind + "progres_familyname"),
		CommonlyUsedName:        x.str(ind + "progres_commonyusedname"),
		DateOfBirth:             x.date(ind + "progres_dateofbirth"),
		Sex:                     code(x, ind+"progres_sex", sexCodes.parse),
		PrimaryPhone:            x.str(ind + "progres_primaryphonenumber"),
		RegistrationGroupNumber: x.str(c.DetailGroupNumber),
		BusinessUnit:            x.str(c.DetailBusinessUnit),
		Language:                x.str(c.DetailLanguage),
		Row:                     r,
	}
	return d, v.Err()
}

func (c Columns) decisionSummary(r Row, i int) (*DecisionSummary, error) {
	v := &ValidationError{}
	x := rowReader(r, i, v)
	d := &DecisionSummary{ReferralID: x.required(c.DecisionID), Status: code(x, c.DecisionStatus, interopCodes.parse), Row: r}
	return d, v.Err()
}

func (c Columns) decisionDetail(r Row, i int) (*DecisionDetail, error) {
	v := &ValidationError{}
	x := rowReader(r, i, v)
	d := &DecisionDetail{
		ReferralID:          x.str(c.DecisionID),
		Status:              code(x, c.DecisionStatus, interopCodes.parse),
		CaseID:              x.required(c.DecisionCaseID),
		ServiceUniqueID:     x.required(c.DecisionServiceID),
		RejectionReasonName: x.str(c.DecisionReasonName),
		RejectionComment:    x.str(c.DecisionCommentName),
		Row:                 r,
	}
	if d.Status == 0 && c.DecisionReview != "" {
		d.Status = code(x, c.DecisionReview, interopCodes.parse)
	}
	if d.Status == 0 {
		v.Add(x.at(c.DecisionStatus), "is required (no status and no review decision)")
	}
	return d, v.Err()
}

// InterventionsService reads the referrals proGres sends to Primero and
// reports their transfer status.
type InterventionsService struct{ c *PINGClient }

// Pending iterates lazily over the pending-interventions list. A row that
// cannot be read is yielded as a *RowError and the list goes on; any other
// error ends it.
func (s *InterventionsService) Pending(ctx context.Context) iter.Seq2[*PendingIntervention, error] {
	return typedRows(s.c.Fetch(ctx, s.c.procs.PendingInterventions), s.c.cols.pending)
}

// Detail returns every row of one intervention (one per language ×
// specific need), reading all pages.
func (s *InterventionsService) Detail(ctx context.Context, lpInterventionID string) ([]*InterventionRow, error) {
	if err := requireID("lpInterventionID", lpInterventionID); err != nil {
		return nil, err
	}
	var out []*InterventionRow
	for r, err := range typedRows(s.c.Fetch(ctx, s.c.procs.InterventionDetail, RecordIDs(lpInterventionID)), s.c.cols.detail) {
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// DecisionsService reads proGres's decisions on Primero's referrals.
type DecisionsService struct{ c *PINGClient }

// List iterates lazily over the decision list. A row that cannot be read
// is yielded as a *RowError and the list goes on; any other error ends it.
func (s *DecisionsService) List(ctx context.Context) iter.Seq2[*DecisionSummary, error] {
	return typedRows(s.c.Fetch(ctx, s.c.procs.Decisions), s.c.cols.decisionSummary)
}

// Detail returns the decision's first detail row (the earlier integration reads only
// that one); no row is ErrNotFound.
func (s *DecisionsService) Detail(ctx context.Context, referralID string) (*DecisionDetail, error) {
	if err := requireID("referralID", referralID); err != nil {
		return nil, err
	}
	for d, err := range typedRows(s.c.Fetch(ctx, s.c.procs.DecisionDetail, RecordIDs(referralID)), s.c.cols.decisionDetail) {
		return d, err
	}
	return nil, ErrNotFound
}

// requireID refuses an empty id or one with control characters.
func requireID(path, id string) error {
	v := &ValidationError{}
	requireText(v, path, id)
	return v.Err()
}
