// Package proxy holds the connection pool every photobench reverse proxy
// (the event-driven front, the scale-to-zero activators) forwards with.
package proxy

import (
	"net"
	"net/http"
	"time"
)

// NewTransport returns a connection pool for forwarding to local upstreams:
// many idle connections per host, since every client request becomes an
// upstream request and a benchmark runs hundreds at once; no proxy from the
// environment (the upstreams are on loopback); no transparent compression,
// so bodies and their headers pass through as the upstream wrote them.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy: nil,
		DialContext: (&net.Dialer{
			Timeout:   2 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
}
