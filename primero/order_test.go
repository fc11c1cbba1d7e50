package primero_test

import (
	"context"
	"testing"
	"time"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAllHonoursTheCallersOrder(t *testing.T) {
	s := primerotest.NewServer(t)
	s.AddSyntheticCases(12)
	c := newClient(t, s)
	ctx := context.Background()
	// Touch the oldest cases so that last_updated_at order differs from
	// created_at order.
	first, _, err := c.Cases.List(ctx, &primero.ListOptions{Per: 3, OrderBy: "created_at", Order: "asc"})
	require.NoError(t, err)
	for _, k := range first {
		_, err := c.Cases.Update(ctx, k.ID, primero.Patch{"name_nickname": "Synthetic"})
		require.NoError(t, err)
	}
	s.ResetRequests()

	var got []time.Time
	var ids []string
	for k, err := range c.Cases.All(ctx, &primero.ListOptions{Per: 5, OrderBy: "last_updated_at", Order: "asc"}) {
		require.NoError(t, err)
		got = append(got, k.LastUpdatedAt)
		ids = append(ids, k.ID)
	}
	require.Len(t, got, 12)
	for i := 1; i < len(got); i++ {
		assert.False(t, got[i].Before(got[i-1]), "last_updated_at ascending at %d", i)
	}
	assert.Equal(t, first[0].ID, ids[9], "the touched cases come last")
	for _, r := range s.Requests() {
		assert.Equal(t, "last_updated_at", r.Query.Get("order_by"))
		assert.Equal(t, "asc", r.Query.Get("order"))
	}
}

func TestAllReportsEachPagesTotal(t *testing.T) {
	s := primerotest.NewServer(t)
	s.AddSyntheticCases(12)
	c := newClient(t, s)
	var totals []int
	n := 0
	opts := &primero.ListOptions{Per: 5, OnPage: func(r *primero.Response) { totals = append(totals, r.Total) }}
	for _, err := range c.Cases.All(context.Background(), opts) {
		require.NoError(t, err)
		if n == 0 {
			require.Equal(t, []int{12}, totals, "the total is known before the first case")
		}
		n++
	}
	assert.Equal(t, 12, n)
	assert.Equal(t, []int{12, 12, 12}, totals, "one call per page")
}
