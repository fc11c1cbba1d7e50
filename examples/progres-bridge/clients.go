package main

import (
	"crypto/x509"
	"errors"
	"log/slog"
	"os"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
)

// clients are the systems the flows talk to.
type clients struct {
	gateway string
	primero *primero.Client
	dtp     *progres.DTPClient  // -gateway dtp
	ping    *progres.PINGClient // -gateway ping
}

// userAgent names the bridge to the systems it calls.
const userAgent = "casebridge-progres-bridge/1"

// realClients builds the clients for the systems the configuration names.
func realClients(cfg config, log *slog.Logger) (*clients, error) {
	pc, err := primero.New(cfg.primeroURL, primero.WithBasicAuth(cfg.primeroUser, cfg.primeroPassword),
		primero.WithLogger(log), primero.WithUserAgent(userAgent))
	if err != nil {
		return nil, err
	}
	c := &clients{gateway: cfg.gateway, primero: pc}
	common := []progres.Option{progres.WithSubscriptionKey(cfg.subscriptionKey), progres.WithLogger(log), progres.WithUserAgent(userAgent)}
	if cfg.gateway == gatewayPING {
		grant := progres.PasswordGrant{TokenURL: cfg.pingTokenURL, Tenant: cfg.pingTenant, Policy: cfg.pingPolicy,
			ClientID: cfg.pingClientID, Scope: cfg.pingScope, Username: cfg.pingUser, Password: cfg.pingPassword}
		c.ping, err = progres.NewPING(cfg.progresURL, append(common,
			progres.WithPasswordGrant(grant), progres.WithDeployment(cfg.pingPartner, cfg.pingInterop))...)
		return c, err
	}
	opts := append(common, progres.WithClientCertificateFiles(cfg.dtpCert, cfg.dtpKey))
	if cfg.dtpCA != "" {
		pem, err := os.ReadFile(cfg.dtpCA)
		if err != nil {
			return nil, errors.New("-dtp-ca: cannot read the file")
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("-dtp-ca: the file holds no PEM certificate")
		}
		opts = append(opts, progres.WithRootCAs(pool))
	}
	c.dtp, err = progres.NewDTP(cfg.progresURL, opts...)
	return c, err
}

// demoClients builds the clients for the demo's fakes.
func demoClients(d *demoSystems, log *slog.Logger) (*clients, error) {
	pc, err := primero.New(d.primero.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword),
		primero.WithLogger(log), primero.WithUserAgent(userAgent))
	if err != nil {
		return nil, err
	}
	c := &clients{primero: pc, gateway: gatewayDTP}
	common := []progres.Option{progres.WithSubscriptionKey(progrestest.DefaultSubscriptionKey), progres.WithLogger(log), progres.WithUserAgent(userAgent)}
	if d.ping != nil {
		c.gateway = gatewayPING
		pcfg := d.ping.Config()
		grant := progres.PasswordGrant{Origin: d.ping.URL(), Tenant: pcfg.Tenant, Policy: pcfg.Policy, ClientID: pcfg.ClientID,
			Scope: pcfg.Scope, Username: pcfg.Username, Password: pcfg.Password}
		c.ping, err = progres.NewPING(d.ping.URL(), append(common,
			progres.WithPasswordGrant(grant), progres.WithDeployment(pcfg.PartnerID, pcfg.InteropID))...)
		return c, err
	}
	c.dtp, err = progres.NewDTP(d.dtp.BaseURL(), append(common,
		progres.WithClientCertificate(d.dtp.ClientCert().TLS), progres.WithRootCAs(d.ca.Pool()))...)
	return c, err
}
