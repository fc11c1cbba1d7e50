package primero_test

import (
	"context"
	"testing"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadOnlyConfiguration(t *testing.T) {
	ctx := context.Background()
	s := primerotest.NewServer(t)
	s.AddLookup("lookup-test-colour", "red", "green")
	s.AddAgency("agency-test", "Synthetic Agency")
	s.AddForm(map[string]any{"unique_id": "test_form", "name": map[string]any{"en": "Test form"}, "parent_form": "case",
		"module_ids": []any{"primeromodule-cp"},
		"fields":     []any{map[string]any{"name": "x_colour", "type": "select_box", "option_strings_source": "lookup lookup-test-colour"}}})
	c := newClient(t, s)

	l, err := c.Lookups.Get(ctx, "lookup-test-colour")
	require.NoError(t, err)
	assert.True(t, l.Has("green"))
	assert.False(t, l.Has("blue"))
	_, err = c.Lookups.Get(ctx, "lookup-missing")
	assert.ErrorIs(t, err, primero.ErrNotFound)

	forms, err := c.Forms.List(ctx, &primero.FormOptions{RecordType: "case"})
	require.NoError(t, err)
	var found *primero.Form
	for _, f := range forms {
		if f.UniqueID == "test_form" {
			found = f
		}
	}
	require.NotNil(t, found)
	assert.Equal(t, "Test form", found.Name["en"])
	require.Len(t, found.Fields, 1)
	assert.Equal(t, "lookup lookup-test-colour", found.Fields[0].OptionStringsSource)
	byID, err := c.Forms.Get(ctx, found.ID.Int())
	require.NoError(t, err)
	assert.Equal(t, "test_form", byID.UniqueID)

	var codes []string
	for loc, err := range c.Locations.All(ctx) {
		require.NoError(t, err)
		codes = append(codes, loc.Code)
		if loc.Code == "XX0101" {
			assert.Equal(t, []string{"XX", "XX01", "XX0101"}, loc.Hierarchy)
		}
	}
	assert.Contains(t, codes, "XX0102")

	var agencies []string
	for a, err := range c.Agencies.All(ctx) {
		require.NoError(t, err)
		agencies = append(agencies, a.UniqueID)
	}
	assert.Contains(t, agencies, "agency-test")

	u, err := c.Users.Get(ctx, primerotest.DefaultRecipient)
	require.NoError(t, err)
	assert.Equal(t, primerotest.DefaultRecipient, u.UserName)
	_, err = c.Users.Get(ctx, "no_such_user")
	assert.ErrorIs(t, err, primero.ErrNotFound)

	_, _, err = c.Lookups.List(ctx, &primero.PageOptions{Per: 5000})
	assert.ErrorIs(t, err, primero.ErrValidation)
}
