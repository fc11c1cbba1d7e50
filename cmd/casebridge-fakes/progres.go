package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/casebridge/casebridge/progres/progrestest"
)

// The proGres fakes register themselves, DTP first then PING.
func init() {
	opts := &progresOptions{}
	fakes = append(fakes, progresDTPFake{opts}, progresPINGFake{})
}

// flagger is a fake with flags of its own; run registers them.
type flagger interface {
	RegisterFlags(fs *flag.FlagSet)
}

// progresOptions are the DTP fake's flags.
type progresOptions struct {
	inbound  string
	key      string
	header   string
	certsDir string
	interval time.Duration
}

// progresDTPFake serves progrestest's DTP fake.
type progresDTPFake struct{ o *progresOptions }

// Name implements fake.
func (progresDTPFake) Name() string { return "progres-dtp" }

// RegisterFlags implements flagger.
func (f progresDTPFake) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&f.o.inbound, "progres-inbound", "", "URL of the inbound handler the DTP fake pushes notifications to (empty: no pushes)")
	fs.StringVar(&f.o.key, "progres-inbound-key", progrestest.DefaultInboundAPIKey, "API key the DTP fake sends with its pushes")
	fs.StringVar(&f.o.header, "progres-inbound-header", progrestest.DefaultInboundHeader, "header carrying the push API key")
	fs.StringVar(&f.o.certsDir, "progres-certs", "", "directory for the generated CA and client certificate (empty: a temporary directory)")
	fs.DurationVar(&f.o.interval, "progres-push-interval", 5*time.Second, "how often the DTP fake pushes what was not acknowledged")
}

// Start implements fake: the DTP fake, its certificates written to files,
// n synthetic referrals (and a decision for every second one) queued for
// pushing.
// The -auth flag selects Primero's login flow; the proGres fakes ignore it.
func (f progresDTPFake) Start(addr string, set settings) (running, error) {
	n := set.Cases
	o := f.o
	if o.inbound != "" {
		u, err := url.Parse(o.inbound)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("-progres-inbound: not an http(s) URL")
		}
	}
	if o.interval <= 0 {
		return nil, errors.New("-progres-push-interval must be positive")
	}
	dir, temp := o.certsDir, false
	if dir == "" {
		d, err := os.MkdirTemp("", "casebridge-progres-*")
		if err != nil {
			return nil, err
		}
		dir, temp = d, true
	}
	s, err := progrestest.StartDTP(append(chaosOption(set), progrestest.WithAddr(addr),
		progrestest.WithInbound(o.inbound, o.key), progrestest.WithInboundHeader(o.header))...)
	if err != nil {
		return nil, err
	}
	r := &dtpRunning{s: s, dir: dir, temp: temp, o: o}
	if r.caFile, err = s.CA().WriteFile(dir, "progres-ca"); err == nil {
		r.certFile, r.keyFile, err = s.ClientCert().WriteFiles(dir, "progres-client")
	}
	if err != nil {
		r.Close()
		return nil, err
	}
	for i := 1; i <= n; i++ {
		s.QueueReferral(progrestest.SyntheticReferral(i)...)
		if i%2 == 0 {
			s.QueueDecision(progrestest.SyntheticDecision(i, fmt.Sprintf("case-%d#%012x", i, i), i%4 == 0))
		}
	}
	if o.inbound != "" {
		s.StartPushing(o.interval)
	}
	return r, nil
}

// dtpRunning is a started DTP fake.
type dtpRunning struct {
	s                         *progrestest.DTPServer
	o                         *progresOptions
	dir                       string
	temp                      bool
	caFile, certFile, keyFile string
}

// Describe implements running.
func (r *dtpRunning) Describe() []string {
	lines := []string{
		"dtp: " + r.s.BaseURL() + " (POST /ReceiveIncomingReferral, /ReceiveDecisionOutgoingReferral; mutual TLS)",
		"subscription key: " + progrestest.DefaultSubscriptionKey + " (Ocp-Apim-Subscription-Key)",
		"ca: " + r.caFile,
		"client cert: " + r.certFile + " key: " + r.keyFile,
		fmt.Sprintf("queued notifications: %d", r.s.Pending()),
	}
	if r.o.inbound == "" {
		lines = append(lines, "pushes: off (set -progres-inbound)")
	} else {
		lines = append(lines, "pushes to: "+r.o.inbound+" with "+r.o.header+": "+r.o.key+" every "+r.o.interval.String())
	}
	return lines
}

// Close implements running.
func (r *dtpRunning) Close() {
	r.s.StopPushing()
	r.s.Close()
	if r.temp {
		_ = os.RemoveAll(r.dir)
	}
}

// progresPINGFake serves progrestest's PING fake.
type progresPINGFake struct{}

// Name implements fake.
func (progresPINGFake) Name() string { return "progres-ping" }

// Start implements fake: the PING fake with n synthetic interventions and
// n/2 decisions.
func (progresPINGFake) Start(addr string, set settings) (running, error) {
	n := set.Cases
	s, err := progrestest.StartPING(append(chaosOption(set), progrestest.WithAddr(addr))...)
	if err != nil {
		return nil, err
	}
	s.AddSyntheticInterventions(n)
	for i := 1; i <= n/2; i++ {
		status := progrestest.StatusAccepted
		if i%2 == 0 {
			status = progrestest.StatusRejected
		}
		s.AddSyntheticDecision(i, fmt.Sprintf("case-%d", i), fmt.Sprintf("00000000-0000-4000-8000-%012x", i), status)
	}
	return pingRunning{s}, nil
}

// pingRunning is a started PING fake.
type pingRunning struct{ s *progrestest.PINGServer }

// Describe implements running.
func (r pingRunning) Describe() []string {
	c := r.s.Config()
	return []string{
		"ping: " + r.s.URL(),
		"token: POST " + r.s.URL() + r.s.TokenPath() + " (password grant)",
		"client_id: " + c.ClientID + " scope: " + c.Scope,
		"username: " + c.Username + " password: " + c.Password,
		"subscription key: " + progrestest.DefaultSubscriptionKey + " partner: " + c.PartnerID + " interop: " + c.InteropID,
	}
}

// Close implements running.
func (r pingRunning) Close() { r.s.Close() }

// chaosOption is the -chaos fault plan as a proGres fake's option.
func chaosOption(set settings) []progrestest.Option {
	if set.Chaos == nil {
		return nil
	}
	return []progrestest.Option{progrestest.WithChaos(*set.Chaos)}
}
