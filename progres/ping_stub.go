package progres

// PasswordGrant, ShippingProcesses and Columns are the PING configuration.
type PasswordGrant struct{}

// ShippingProcesses placeholder.
type ShippingProcesses struct{}

// Columns placeholder.
type Columns struct{}

// WithDeployment placeholder.
func WithDeployment(partnerID, interopID string) Option {
	return func(c *config) error { c.pingOnly = append(c.pingOnly, "WithDeployment"); return nil }
}
