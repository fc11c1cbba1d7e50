package progres

import (
	"bytes"
	"context"

	"github.com/casebridge/casebridge/internal/isodate"
)

// Field is one entry of an ingestion record's Fields: a proGres attribute
// and its value as a string. Null sends "Value": null; a Field with
// neither Value nor Null set is sent without a Value key, as the earlier integration
// sends an undefined one.
type Field struct {
	Name  string
	Value *string
	Null  bool
}

// F is a Field with a string value.
func F(name, value string) Field { return Field{Name: name, Value: &value} }

// NullField is a Field with the value null.
func NullField(name string) Field { return Field{Name: name, Null: true} }

// MarshalJSON writes {"Name", "Value"}.
func (f Field) MarshalJSON() ([]byte, error) {
	b := newBody()
	b.set("Name", f.Name)
	switch {
	case f.Null:
		b.set("Value", nil)
	case f.Value != nil:
		b.set("Value", *f.Value)
	}
	return b.marshal()
}

// Attachment is a comment attached to an ingestion record.
type Attachment struct {
	Comment string `json:"Comment"`
}

// Record is one entry of an ingestion's Data.
type Record struct {
	// ExternalID identifies the record on the sender's side (required;
	// never a placeholder, pitfall 25).
	ExternalID string `json:"ExternalId"`
	// ExternalGUID is sent by async ingestion (the Primero record id).
	ExternalGUID string       `json:"ExternalGUID,omitempty"`
	Attachments  []Attachment `json:"Attachments,omitempty"`
	Fields       []Field      `json:"Fields"`
}

// validate checks a record; paths are Data[i]….
func (r *Record) validate(v *ValidationError, i int) {
	p := "Data[" + itoa(i) + "]"
	requireText(v, p+".ExternalId", r.ExternalID)
	optionalText(v, p+".ExternalGUID", r.ExternalGUID)
	if len(r.Fields) == 0 {
		v.Add(p+".Fields", "must not be empty")
	}
	seen := map[string]bool{}
	for j, f := range r.Fields {
		fp := p + ".Fields[" + itoa(j) + "]"
		switch {
		case !attributeName(f.Name):
			v.Add(fp+".Name", "must be a proGres attribute name (a-z, 0-9, _)")
		case seen[f.Name]:
			v.Add(fp+".Name", "is repeated")
		}
		seen[f.Name] = true
		if f.Value != nil {
			optionalMultiline(v, fp+".Value", *f.Value)
		}
	}
	for j, a := range r.Attachments {
		optionalMultiline(v, p+".Attachments["+itoa(j)+"].Comment", a.Comment)
	}
}

// attributeName accepts a Dynamics logical name.
func attributeName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	return onlyRunes(s, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' })
}

// IngestResult is what an ingestion answered. The sync answer's shape is
// not public (unconfirmed): only these members are read, when present.
type IngestResult struct {
	TransactionID string // SPHTransactionId
}

// ingestAnswer is the part of an ingestion answer the client reads.
type ingestAnswer struct {
	TransactionID *string `json:"SPHTransactionId"`
	ErrorMessage  *string `json:"ErrorMessage"`
}

// decodeIngestAnswer reads an ingestion answer; an empty body is allowed.
func decodeIngestAnswer(body []byte) (*ingestAnswer, error) {
	a := &ingestAnswer{}
	if len(bytes.TrimSpace(body)) == 0 {
		return a, nil
	}
	if err := strictUnmarshal(body, a); err != nil {
		return nil, &DecodeError{Err: err}
	}
	return a, nil
}

// Ingest sends records to a shipping process by sync ingestion, once:
// ingestion is a write and is never retried (pitfall 28). Whether PING
// applies part of a batch that fails is not public; send one record per
// call when that matters (pitfall 33).
func (c *PINGClient) Ingest(ctx context.Context, shippingProcessID string, records []Record) (*IngestResult, error) {
	a, err := c.ingest(ctx, pathIngest, shippingProcessID, records, false)
	if err != nil {
		return nil, err
	}
	res := &IngestResult{}
	if a.TransactionID != nil {
		res.TransactionID = *a.TransactionID
	}
	return res, nil
}

// IngestAsync sends records by async ingestion and returns the
// SPHTransactionId to follow with CheckStatus or Wait. An answer without
// one is an error (the earlier integration only warns; pitfall 13).
func (c *PINGClient) IngestAsync(ctx context.Context, shippingProcessID string, records []Record) (string, error) {
	a, err := c.ingest(ctx, pathIngestAsync, shippingProcessID, records, true)
	if err != nil {
		return "", err
	}
	if a.TransactionID == nil || *a.TransactionID == "" {
		return "", c.decodeError(pathIngestAsync, &DecodeError{Path: "SPHTransactionId", Err: shapeErr("missing")})
	}
	return *a.TransactionID, nil
}

// ingest validates and posts one ingestion. The interop id is spelt
// InteropId for sync and InteropID for async ingestion, as the earlier integration
// sends them; the PartnerId goes in the path only.
func (c *PINGClient) ingest(ctx context.Context, path, shp string, records []Record, async bool) (*ingestAnswer, error) {
	v := &ValidationError{}
	if !pathSegment(shp) {
		v.Add("ShippingProcessId", "is required: letters, digits, '-' or '_'")
	}
	if len(records) == 0 {
		v.Add("Data", "must not be empty")
	}
	for i := range records {
		records[i].validate(v, i)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var body any
	if async {
		body = struct {
			ShippingProcessID string   `json:"ShippingProcessId"`
			InteropID         string   `json:"InteropID"`
			APIVersion        string   `json:"APIVersion"`
			Data              []Record `json:"Data"`
		}{shp, c.interopID, "V2", records}
	} else {
		body = struct {
			ShippingProcessID string   `json:"ShippingProcessId"`
			InteropID         string   `json:"InteropId"`
			Data              []Record `json:"Data"`
		}{shp, c.interopID, records}
	}
	out, err := c.post(ctx, path, body, false)
	if err != nil {
		return nil, err
	}
	a, err := decodeIngestAnswer(out)
	if err != nil {
		return nil, c.decodeError(path, err)
	}
	if a.ErrorMessage != nil && *a.ErrorMessage != "" {
		return nil, &GatewayError{ShippingProcessID: shp, Message: *a.ErrorMessage}
	}
	return a, nil
}

// TransferUpdate sets an intervention's transfer status in proGres:
// after the case was created in Primero (Pending), or with Primero's
// decision (Acknowledged, Rejected).
type TransferUpdate struct {
	CaseID            string // the Primero case_id: ExternalId and progres_primeroid
	LPInterventionID  string // progres_lpinterventionid (required)
	BusinessUnit      string // progres_businessunit (required)
	Status            TransferStatus
	Date              string // progres_primerotransferstatusdate, YYYY-MM-DD (required)
	PrimeroCaseworker string // progres_primerocaseworker (the case owner), optional
	// Comment is attached to the record, e.g. "Referral acknowledged by
	// PRIMERO"; optional.
	Comment string
}

func (u *TransferUpdate) record(v *ValidationError, i int) Record {
	p := "Data[" + itoa(i) + "]."
	requireText(v, p+"ExternalId", u.CaseID)
	requireText(v, p+"progres_lpinterventionid", u.LPInterventionID)
	requireText(v, p+"progres_businessunit", u.BusinessUnit)
	if !u.Status.Valid() {
		v.Add(p+"progres_primerotransferstatus", "must be a known transfer status")
	}
	if _, _, _, ok := isodate.Date(u.Date); !ok {
		v.Add(p+"progres_primerotransferstatusdate", "must be a date YYYY-MM-DD")
	}
	r := Record{ExternalID: u.CaseID, Fields: []Field{
		F("progres_lpinterventionid", u.LPInterventionID),
		F("progres_businessunit", u.BusinessUnit),
		F("progres_primerotransferstatus", itoa(int(u.Status))),
		F("progres_primerotransferstatusdate", u.Date),
		F("progres_primeroid", u.CaseID),
	}}
	if u.PrimeroCaseworker != "" {
		r.Fields = append(r.Fields, F("progres_primerocaseworker", u.PrimeroCaseworker))
	}
	if u.Comment != "" {
		r.Attachments = []Attachment{{Comment: u.Comment}}
	}
	return r
}

// SetTransferStatus sends the updates in one sync ingestion (see Ingest).
func (s *InterventionsService) SetTransferStatus(ctx context.Context, updates ...TransferUpdate) error {
	v := &ValidationError{}
	records := make([]Record, len(updates))
	for i := range updates {
		records[i] = updates[i].record(v, i)
	}
	if err := v.Err(); err != nil {
		return err
	}
	_, err := s.c.Ingest(ctx, s.c.procs.TransferStatus, records)
	return err
}

// MarkSynced marks decisions as synced with Primero (status 125080003),
// so that they leave the decision list; mark only those applied in
// Primero, so that the others are read again next time.
func (s *DecisionsService) MarkSynced(ctx context.Context, referralIDs []string, comment string) error {
	records := make([]Record, len(referralIDs))
	for i, id := range referralIDs {
		records[i] = Record{ExternalID: id, Attachments: []Attachment{}, Fields: []Field{
			F("progres_interoperabilityreferralid", id),
			F("progres_interoperabilityreferralstatus", itoa(int(InteropSynced))),
			F("progres_comments", comment),
		}}
	}
	_, err := s.c.Ingest(ctx, s.c.procs.MarkSynced, records)
	return err
}

// PINGReferralsService creates proGres referrals from Primero services.
type PINGReferralsService struct{ c *PINGClient }

// PINGReferral is one referral to create: the Primero case and record ids
// and the proGres attributes (progres_orgreferralid, the service's full
// unique_id, is required: proGres's decision echoes it).
type PINGReferral struct {
	CaseID   string // ExternalId (Primero case_id)
	RecordID string // ExternalGUID (Primero record id)
	Fields   []Field
}

// Create sends the referrals by async ingestion and returns the
// SPHTransactionId; follow it with Wait, whose per-record results say what
// proGres did with each (pitfall 13).
func (s *PINGReferralsService) Create(ctx context.Context, refs ...PINGReferral) (string, error) {
	v := &ValidationError{}
	records := make([]Record, len(refs))
	for i, r := range refs {
		records[i] = Record{ExternalID: r.CaseID, ExternalGUID: r.RecordID, Fields: r.Fields}
		requireText(v, "Data["+itoa(i)+"].ExternalGUID", r.RecordID)
		hasKey := false
		for _, f := range r.Fields {
			hasKey = hasKey || (f.Name == "progres_orgreferralid" && f.Value != nil && *f.Value != "")
		}
		if !hasKey {
			v.Add("Data["+itoa(i)+"].Fields.progres_orgreferralid", "is required")
		}
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	return s.c.IngestAsync(ctx, s.c.procs.CreateReferral, records)
}

// Status checks the async ingestion once.
func (s *PINGReferralsService) Status(ctx context.Context, transactionID string) (*IngestionStatus, error) {
	return s.c.CheckStatus(ctx, s.c.procs.CreateReferral, transactionID)
}

// Wait polls the async ingestion until its results are there (see
// PINGClient.Wait).
func (s *PINGReferralsService) Wait(ctx context.Context, transactionID string, opts WaitOptions) (*IngestionStatus, error) {
	return s.c.Wait(ctx, s.c.procs.CreateReferral, transactionID, opts)
}
