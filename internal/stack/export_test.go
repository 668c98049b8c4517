package stack

// WriteEnvFile lets the external tests write the env file without starting
// a stack.
func (c Config) WriteEnvFile(withApps bool) error { return c.writeEnvFile(withApps) }
