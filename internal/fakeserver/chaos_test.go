package fakeserver

import (
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/casebridge/casebridge/internal/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// draws runs n requests (method, path) through a fresh Injector with c and
// returns their faults.
func draws(t *testing.T, c Chaos, n int, method, path string, isLogin func(*http.Request) bool) []Fault {
	t.Helper()
	in := NewInjector(Responses{}, isLogin)
	require.NoError(t, in.SetChaos(c))
	out := make([]Fault, n)
	for i := range out {
		out[i] = in.Next(httptest.NewRequest(method, path, nil)).Fault
	}
	return out
}

func TestChaosSameSeedSamePlan(t *testing.T) {
	c := Chaos{Rate: 0.3, Seed: 42}
	a := draws(t, c, 500, http.MethodPost, "/x", nil)
	b := draws(t, c, 500, http.MethodPost, "/x", nil)
	assert.Equal(t, a, b)
	c.Seed = 43
	assert.NotEqual(t, a, draws(t, c, 500, http.MethodPost, "/x", nil), "another seed, another plan")
}

func TestChaosSetChaosRestartsTheSequence(t *testing.T) {
	in := NewInjector(Responses{}, nil)
	c := Chaos{Rate: 0.5, Seed: 7}
	seq := func() []Fault {
		require.NoError(t, in.SetChaos(c))
		out := make([]Fault, 100)
		for i := range out {
			out[i] = in.Next(httptest.NewRequest(http.MethodGet, "/", nil)).Fault
		}
		return out
	}
	assert.Equal(t, seq(), seq())
	in.StopChaos()
	assert.Equal(t, FaultNone, in.Next(httptest.NewRequest(http.MethodGet, "/", nil)).Fault)
}

func TestChaosRateZeroInjectsNothing(t *testing.T) {
	for _, f := range draws(t, Chaos{Rate: 0, Seed: 1}, 1000, http.MethodPost, "/x", nil) {
		require.Equal(t, FaultNone, f)
	}
}

func TestChaosRateOneFaultsEveryRequestWithEveryKind(t *testing.T) {
	seen := map[Fault]int{}
	for _, f := range draws(t, Chaos{Rate: 1, Seed: 1}, 1000, http.MethodPost, "/x", nil) {
		require.NotEqual(t, FaultNone, f)
		seen[f]++
	}
	for _, f := range []Fault{FaultStatus, FaultRateLimit, FaultTimeout, FaultDropBefore, FaultDropAfter} {
		assert.Greater(t, seen[f], 100, "equal weights: about 200 of each, %s", f)
	}
}

func TestChaosRateIsHonoured(t *testing.T) {
	n := 0
	for _, f := range draws(t, Chaos{Rate: 0.2, Seed: 9}, 5000, http.MethodPost, "/x", nil) {
		if f != FaultNone {
			n++
		}
	}
	assert.InDelta(t, 1000, n, 150, "about 20%% of 5000")
}

func TestChaosWeightsSelectKinds(t *testing.T) {
	c := Chaos{Rate: 1, Seed: 3, Weights: Weights{DropAfter: 1}}
	for _, f := range draws(t, c, 200, http.MethodPost, "/x", nil) {
		require.Equal(t, FaultDropAfter, f)
	}
	c.Weights = Weights{Unavailable: 3, RateLimit: 1}
	seen := map[Fault]int{}
	for _, f := range draws(t, c, 4000, http.MethodPost, "/x", nil) {
		seen[f]++
	}
	assert.Equal(t, 4000, seen[FaultStatus]+seen[FaultRateLimit], "only the weighted kinds")
	assert.InDelta(t, 3000, seen[FaultStatus], 200)
}

func TestChaosInjectionParameters(t *testing.T) {
	in := NewInjector(Responses{}, nil)
	require.NoError(t, in.SetChaos(Chaos{Rate: 1, Seed: 1}))
	for range 200 {
		inj := in.Next(httptest.NewRequest(http.MethodGet, "/", nil))
		switch inj.Fault {
		case FaultStatus:
			require.Equal(t, http.StatusServiceUnavailable, inj.Status, "chaos answers 503, never 401/403")
		case FaultRateLimit:
			require.Equal(t, DefaultRetryAfter, inj.RetryAfter)
		case FaultTimeout:
			require.Equal(t, DefaultHold, inj.Hold)
		}
	}
}

func TestChaosScope(t *testing.T) {
	isLogin := func(r *http.Request) bool { return r.URL.Path == "/login" }
	all := Chaos{Rate: 1, Seed: 1}
	for _, f := range draws(t, all, 50, http.MethodPost, "/login", isLogin) {
		require.Equal(t, FaultNone, f, "the login endpoint is exempt by default")
	}
	withLogin := all
	withLogin.IncludeLogin = true
	assert.NotContains(t, draws(t, withLogin, 50, http.MethodPost, "/login", isLogin), FaultNone)

	writes := Chaos{Rate: 1, Seed: 1, WritesOnly: true}
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodOptions} {
		assert.Equal(t, []Fault{FaultNone, FaultNone}, draws(t, writes, 2, m, "/x", nil), m)
	}
	for _, m := range []string{http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete} {
		assert.NotContains(t, draws(t, writes, 20, m, "/x", nil), FaultNone, m)
	}

	prefix := Chaos{Rate: 1, Seed: 1, PathPrefix: "/api/v2/cases"}
	assert.Equal(t, []Fault{FaultNone}, draws(t, prefix, 1, http.MethodGet, "/api/v2/users", nil))
	assert.NotContains(t, draws(t, prefix, 20, http.MethodGet, "/api/v2/cases/1/referrals", nil), FaultNone)

	match := Chaos{Rate: 1, Seed: 1, Match: func(r *http.Request) bool { return r.URL.Query().Has("x") }}
	assert.Equal(t, []Fault{FaultNone}, draws(t, match, 1, http.MethodGet, "/a", nil))
	assert.NotContains(t, draws(t, match, 20, http.MethodGet, "/a?x=1", nil), FaultNone)
}

func TestChaosScopeDoesNotShiftThePlan(t *testing.T) {
	// Requests outside the scope draw nothing: the faults of the requests
	// in scope are the same with or without others in between.
	c := Chaos{Rate: 0.5, Seed: 5, WritesOnly: true}
	in := NewInjector(Responses{}, nil)
	require.NoError(t, in.SetChaos(c))
	var mixed []Fault
	for range 100 {
		_ = in.Next(httptest.NewRequest(http.MethodGet, "/", nil))
		mixed = append(mixed, in.Next(httptest.NewRequest(http.MethodPost, "/", nil)).Fault)
	}
	assert.Equal(t, draws(t, c, 100, http.MethodPost, "/", nil), mixed)
}

func TestQueuedFaultsComeFirst(t *testing.T) {
	in := NewInjector(Responses{}, func(*http.Request) bool { return true })
	require.NoError(t, in.SetChaos(Chaos{Rate: 0}))
	in.Queue(2, Injection{Fault: FaultStatus, Status: 500})
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	assert.Equal(t, Injection{Fault: FaultStatus, Status: 500}, in.Next(r), "queued faults hit the login too")
	assert.Equal(t, FaultStatus, in.Next(r).Fault)
	assert.Equal(t, FaultNone, in.Next(r).Fault)
}

func TestChaosValidate(t *testing.T) {
	bad := Chaos{Rate: 1.5, Weights: Weights{Timeout: -1}, RetryAfter: -1, Hold: -1}
	err := bad.Validate()
	var ve *transport.ValidationError
	require.ErrorAs(t, err, &ve)
	for _, f := range []string{"Chaos.Rate", "Chaos.Weights.Timeout", "Chaos.RetryAfter", "Chaos.Hold"} {
		assert.True(t, ve.Has(f), f)
	}
	assert.Error(t, Chaos{Rate: math.NaN()}.Validate())
	assert.Error(t, Chaos{Rate: -0.1}.Validate())
	in := NewInjector(Responses{}, nil)
	require.NoError(t, in.SetChaos(Chaos{Rate: 1, Seed: 1}))
	require.Error(t, in.SetChaos(bad))
	assert.NotEqual(t, FaultNone, in.Next(httptest.NewRequest(http.MethodGet, "/", nil)).Fault, "a refused plan leaves the running one")
}

func TestFaultString(t *testing.T) {
	assert.Equal(t, "drop-after", FaultDropAfter.String())
	assert.Equal(t, "none", FaultNone.String())
	assert.Equal(t, "unknown", Fault(99).String())
	assert.True(t, FaultDropAfter.AfterActing())
	assert.False(t, FaultDropBefore.AfterActing())
}
