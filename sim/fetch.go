package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onecard-campus/onecard/demo"
)

// DefaultServer is the server `onecard sim` drives without --server: the
// address `onecard serve` listens on by default.
const DefaultServer = "http://127.0.0.1:8080"

// maxKit bounds the kit download: 1,000 cards are about 700 KB.
const maxKit = 64 << 20

// Fetch downloads the demo kit from a `serve --demo` server at server (a
// base URL such as http://127.0.0.1:8080). The server offers it only with
// --demo and only to clients on its own machine; the error says which of
// the two is missing.
func Fetch(ctx context.Context, server string) (*demo.Kit, error) {
	base, err := ServerURL(server)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+demo.KitPath, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("unable to fetch the demo kit from %s: %w", base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxKit))
	if err != nil {
		return nil, fmt.Errorf("unable to fetch the demo kit from %s: %w", base, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return demo.ParseKit(data)
	case http.StatusNotFound:
		return nil, fmt.Errorf("%s serves no demo kit: the simulator plays the demo school of `onecard serve --demo`", base)
	}
	var e struct{ Message string }
	if json.Unmarshal(data, &e) != nil || e.Message == "" {
		e.Message = "status " + resp.Status
	}
	return nil, fmt.Errorf("%s did not hand over the demo kit: %s", base, e.Message)
}

// ServerURL checks a server address and returns it without a trailing
// slash: http or https, a host, no path.
func ServerURL(server string) (string, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(server), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
		return "", fmt.Errorf("%q is not a server address like %s", server, DefaultServer)
	}
	return u.Scheme + "://" + u.Host, nil
}

// DefaultStateDir is where the simulator keeps its world for a server:
// ~/.onecard-sim/<host>_<port>/, one directory per server, since each
// server's demo school has cards and terminals of its own.
func DefaultStateDir(server string) (string, error) {
	base, err := ServerURL(server)
	if err != nil {
		return "", err
	}
	u, _ := url.Parse(base)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for the simulator's state (give --state): %w", err)
	}
	return filepath.Join(home, ".onecard-sim", safeName(net.JoinHostPort(u.Hostname(), port))), nil
}

// safeName turns host:port into a directory name: 127.0.0.1_8080, and an
// IPv6 host's colons into hyphens.
func safeName(hostport string) string {
	host, port, _ := net.SplitHostPort(hostport)
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
				return r
			}
			return '-'
		}, s)
	}
	return clean(host) + "_" + clean(port)
}
