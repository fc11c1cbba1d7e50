package progrestest

// PINGConfig placeholder.
type PINGConfig struct{}

// DefaultPINGConfig placeholder.
func DefaultPINGConfig() PINGConfig { return PINGConfig{} }
