package stack

// NativeApp is one app as `photobench stack up` runs it, for the compose
// tests: its name, its scrape label architecture, the port it serves
// /healthz and /metrics on, and its command line (without the binary).
type NativeApp struct {
	Name, Arch string
	Port       int
	Args       []string
}

// NativeApps lists c's apps in start order.
func NativeApps(c Config) []NativeApp {
	var as []NativeApp
	for _, s := range apps() {
		a := s.(app)
		as = append(as, NativeApp{Name: a.svc, Arch: a.arch, Port: a.port(c), Args: a.args(c)})
	}
	return as
}

// AppPorts lists the ports c's apps listen on (c.AppBinary must be set).
func (c Config) AppPorts() []PortUse { return c.appPorts() }
