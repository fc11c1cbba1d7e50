package mapping

// Record is one record as a field map: the common currency between the
// clients, the mapping layer, the consent gate and the SQL sink. Values are
// what encoding/json produces (string, float64 or json.Number, bool, nil,
// []any, map[string]any) plus the Go types a client or source chooses to
// put in (time.Time, int64, …).
type Record map[string]any
