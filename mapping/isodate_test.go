package mapping

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestISODateAgreesWithTimeParse checks the fast path against time.Parse
// with the default layouts: every string it accepts, time.Parse accepts with
// the same date, and it rejects what time.Parse rejects.
func TestISODateAgreesWithTimeParse(t *testing.T) {
	inputs := []string{
		"2016-07-19", "2016-07-19T00:00:00", "2016-07-19T23:59:59Z", "2016-07-19T08:30:00.123Z",
		"2016-07-19T08:30:00+03:00", "2016-07-19T08:30:00-11:30", "2016-02-29", "2015-02-29",
		"2016-13-01", "2016-00-10", "2016-04-31", "2016-07-19T24:00:00", "2016-07-19T08:60:00",
		"2016-07-19T08:30", "2016-07-19 08:30:00", "16-07-19", "2016-7-19", "2016-07-19Z",
		"2016-07-19T08:30:00.Z", "2016-07-19T08:30:00+0300", "abcd-ef-gh", "",
	}
	c := coercer{layouts: defaultLayouts}
	for _, in := range inputs {
		y, m, d, _, _, ok := isoDate(in)
		tm, okParse := c.parseTime(in)
		if ok {
			assert.True(t, okParse, "%q accepted by the fast path but not by time.Parse", in)
			assert.Equal(t, tm.Format("2006-01-02"), time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Format("2006-01-02"), in)
		} else {
			assert.False(t, okParse && len(in) >= 10 && in[4] == '-', "%q rejected by the fast path but parsed by time.Parse", in)
		}
	}
}
