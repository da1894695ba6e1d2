package demo

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
)

// KitPath is where `onecard serve --demo` serves the kit.
const KitPath = "/demo/v1/kit"

// KitHandler serves kit (the JSON WriteKit returned) at GET KitPath, to
// clients on the server's own machine only. The kit holds every demo
// terminal's key and every demo card's keys, so a client must be the
// person who started the demo, not whoever can reach the port:
//
//   - the connection must come from a loopback address;
//   - it must not carry forwarding headers, since a reverse proxy on the
//     same machine connects from loopback on behalf of remote clients;
//   - the Host it asked for must be localhost or a loopback address, so
//     that a web page whose own name resolves to 127.0.0.1 (DNS rebinding)
//     cannot read it from a browser on this machine.
//
// Other local users of a shared machine can still fetch it: the demo holds
// made-up people and money only, which is why serve offers it with --demo
// and never otherwise.
func KitHandler(kit []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeKitError(w, http.StatusMethodNotAllowed, "invalid", "The demo kit is read with GET.")
			return
		}
		if !local(r) {
			writeKitError(w, http.StatusForbidden, "forbidden",
				"The demo kit holds terminal and card keys: it is served only to clients on the server's own machine (loopback), not through a proxy.")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(kit)
	})
}

// local reports whether r comes straight from this machine and asked for
// it by a loopback name.
func local(r *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-Ip"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	return loopbackHost(r.RemoteAddr) && loopbackHost(r.Host)
}

// loopbackHost reports whether a host or host:port names this machine:
// localhost or a loopback IP.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// writeKitError answers with the API's error shape.
func writeKitError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": code, "message": message})
}
