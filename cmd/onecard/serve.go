package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/api"
	"github.com/onecard-campus/onecard/clientaddr"
	"github.com/onecard-campus/onecard/demo"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/web"
)

// HTTP server limits. Requests are small JSON, except a batch of 8,190
// transfers (4 MiB), which a slow client must still be able to send.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	// shutdownTimeout bounds how long requests in flight may take to finish
	// after a signal; a ledger batch commits in milliseconds.
	shutdownTimeout = 30 * time.Second
)

// apiPrefixes are the paths the JSON API answers; the web app has the rest.
var apiPrefixes = []string{"/api/", "/openapi.json", "/openapi.yaml", "/healthz", "/pay/"}

// serveConfig is what the serve flags and environment decide.
type serveConfig struct {
	db, addr, dataDir   string
	channels, publicURL string
	demo                bool
	// clients resolves each request's client address, trusting the
	// reverse proxies --trusted-proxies names (none by default).
	clients *clientaddr.Resolver
}

func parseServe(args []string, getenv func(string) string, stderr io.Writer) (*serveConfig, error) {
	c := &serveConfig{}
	flags := newFlagSet("serve", "onecard serve [--db URL] [--addr HOST:PORT] [--demo] [--data-dir DIR]", stderr)
	flags.StringVar(&c.db, "db", "", "a postgres:// URL or an SQLite file path (default DATA_DIR/onecard.db)")
	flags.StringVar(&c.addr, "addr", "", "address to listen on (default $ONECARD_ADDR or "+defaultAddr+")")
	flags.StringVar(&c.dataDir, "data-dir", "", "data directory for the SQLite file and the secret (default $ONECARD_DATA_DIR or ./"+defaultDataDir+")")
	flags.StringVar(&c.channels, "channels", "", "payment channel configuration, JSON (default $ONECARD_CHANNELS; with --demo and none, an embedded sandbox gateway)")
	flags.StringVar(&c.publicURL, "public-url", "", "the server's address as payers and gateways reach it (default $ONECARD_PUBLIC_URL or the listening address)")
	var proxies string
	flags.StringVar(&proxies, "trusted-proxies", "", "reverse proxies whose X-Forwarded-For names the client, for rate limits: addresses or CIDR ranges, comma-separated (default $ONECARD_TRUSTED_PROXIES; none)")
	flags.BoolVar(&c.demo, "demo", false, "load the demo school (1,000 cardholders) if the database has no school yet")
	if err := parseFlags(flags, args); err != nil {
		return nil, err
	}
	c.dataDir = dataDir(c.dataDir, getenv)
	if c.addr == "" {
		c.addr = getenv("ONECARD_ADDR")
	}
	if c.channels == "" {
		c.channels = getenv("ONECARD_CHANNELS")
	}
	if c.publicURL == "" {
		c.publicURL = getenv("ONECARD_PUBLIC_URL")
	}
	if c.addr == "" {
		c.addr = defaultAddr
	}
	if proxies == "" {
		proxies = getenv("ONECARD_TRUSTED_PROXIES")
	}
	var err error
	if c.clients, err = clientaddr.New(proxies); err != nil {
		fmt.Fprintf(stderr, "onecard serve: %v\n", err)
		return nil, errUsage
	}
	return c, nil
}

// serve runs the API until ctx ends, then shuts down in order: stop taking
// requests and finish those in flight, close the ledger (which commits what
// is queued), close the store.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := parseServe(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr)
	db, err := openStore(ctx, c, getenv, log, stderr)
	if err != nil {
		return err
	}
	if n, fewer := leaveCPUToPostgres(c.db, getenv); fewer { // c.db is empty for the default SQLite file
		log.Info("PostgreSQL runs on this machine: the server leaves it a CPU (set GOMAXPROCS to choose)", "gomaxprocs", n)
	}
	led := ledger.New(db, ledger.Options{Logger: log})
	// The ledger goes first: closing it commits what is queued, which needs
	// the store.
	closeAll := sync.OnceFunc(func() {
		if err := led.Close(); err != nil {
			log.Error("closing the ledger", "err", err)
		}
		if err := db.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	})
	defer closeAll()
	if err := ensureAdmin(ctx, db, getenv, stderr); err != nil {
		return err
	}
	var (
		info       *demo.Info
		kit        *demo.Kit
		kitHandler http.Handler
	)
	if c.demo {
		if info, err = loadDemo(ctx, db, led, log); err != nil {
			return err
		}
	}
	if info != nil {
		if kit, kitHandler, err = demoKit(ctx, db, c.dataDir, log); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	base := baseURL(ln.Addr())
	pay, err := setupPayments(c, db, base, log)
	if err != nil {
		ln.Close()
		return err
	}
	mux := http.NewServeMux()
	pay.mount(mux)
	if kitHandler != nil {
		mux.Handle(demo.KitPath, kitHandler) // --demo only: the kit holds the demo's keys
	}
	devices := device.New(device.Config{Terminals: db, Cards: db, Backend: db, Logger: log})
	devices.HandleServices(device.Services{Schools: db, Cardholders: db, Cards: db, PINs: db, Auth: db, Banks: db, Issuer: db})
	mux.Handle("/device/", devices)
	apiHandler := api.New(api.Config{
		Schools: db, Cardholders: db, Cards: db, PINs: db, Auth: db, Operators: db,
		Merchants: db, Money: db, Terminals: db, Balances: db, Ledger: led, Accounts: db, Logger: log,
		Payments: pay.service(), PaymentStore: db,
	})
	for _, p := range apiPrefixes {
		mux.Handle(p, apiHandler)
	}
	public := c.publicURL
	if public == "" {
		public = base
	}
	webCfg := web.Config{
		Schools: db, Cardholders: db, Cards: db, PINs: db, Auth: db, Money: db, Merchants: db, Banks: db, Bills: db,
		PaymentStore: db, Payments: pay.service(), SSO: db, PublicURL: public,
		SecureCookies: strings.HasPrefix(public, "https://"), Logger: log,
	}
	if pay != nil && pay.sandbox != nil {
		webCfg.OAuthURL = sandboxOAuth(public)
	}
	if info != nil {
		idp, err := demoIdentity(ctx, db, info, public)
		if err != nil {
			ln.Close()
			return err
		}
		mux.Handle("/idp/", idp)
	}
	mux.Handle("/", web.New(webCfg))
	srv := &http.Server{
		Handler:           c.clients.Handler(mux),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("serving", "addr", ln.Addr().String(), "store", db.Dialect())
	if info != nil {
		printDemo(stdout, base, info)
		printDemoKit(stdout, base, c.dataDir, info, kit)
	}
	pay.print(stdout, base, info)
	// Last, so that a script waiting for this line finds the rest printed.
	fmt.Fprintf(stdout, "Serving on %s (Ctrl-C to stop). API description: %s/openapi.json\n", base, base)

	sweepCtx, stopSweeps := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() { sweepGraduates(sweepCtx, db, log); close(swept) }()
	defer func() { stopSweeps(); <-swept }() // before the store closes
	stopPayments := pay.run(ctx, db)
	defer stopPayments()

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}

	log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("requests still running at the shutdown deadline were cut off", "err", err)
		srv.Close()
	}
	stopSweeps()
	<-swept
	stopPayments()
	closeAll()
	log.Info("stopped")
	return nil
}

// openStore finds the database and its secret and opens the store. The
// data directory is created only when something goes in it.
func openStore(ctx context.Context, c *serveConfig, getenv func(string) string, log *slog.Logger, stderr io.Writer) (*store.DB, error) {
	dsn := c.db
	if dsn == "" {
		if err := ensureDataDir(c.dataDir); err != nil {
			return nil, err
		}
		dsn = defaultDB(c.dataDir)
	}
	secret, from, found, err := readSecret(c.dataDir, getenv)
	if err != nil {
		return nil, err
	}
	if !found {
		if err := ensureDataDir(c.dataDir); err != nil {
			return nil, err
		}
		var created bool
		if secret, created, err = createSecret(c.dataDir); err != nil {
			return nil, err
		}
		from = secretPath(c.dataDir)
		if created {
			fmt.Fprintf(stderr, secretWarning, from)
		}
	}
	if store.IsPostgresURL(dsn) && from != "ONECARD_SECRET" {
		log.Warn("the store secret comes from a file; every instance sharing this PostgreSQL database must use the same one: set ONECARD_SECRET to its contents",
			"file", from)
	}
	db, err := store.Open(ctx, dsn, store.Options{Secret: secret, Logger: log})
	if err != nil {
		return nil, err
	}
	log.Info("store open", "store", db.Dialect(), "db", redactDSN(dsn), "secret", from)
	return db, nil
}

// ensureAdmin creates the first administrator if there is no operator yet
// and says once, on stderr, how to log in.
func ensureAdmin(ctx context.Context, db *store.DB, getenv func(string) string, stderr io.Writer) error {
	given := getenv("ONECARD_ADMIN_PASSWORD")
	pass, err := db.EnsureAdmin(ctx, given)
	if err != nil {
		return fmt.Errorf("unable to create the first administrator: %s", onecard.ErrorMessage(err))
	}
	switch {
	case pass == "":
	case given != "":
		fmt.Fprintf(stderr, "Created the administrator: username %s, password from ONECARD_ADMIN_PASSWORD.\n", demo.OperatorUsername)
	default:
		fmt.Fprintf(stderr, "Created the administrator: username %s, one-time password %s\n"+
			"  It is shown only this once; change it at first login (POST /api/v1/operators/me/password).\n",
			demo.OperatorUsername, pass)
	}
	return nil
}

// loadDemo loads the demo school into an empty database, or finishes or
// re-reads one loaded before. It leaves a database holding other schools
// alone: --demo on a real deployment must not add 1,000 made-up people.
func loadDemo(ctx context.Context, db *store.DB, led ledger.Submitter, log *slog.Logger) (*demo.Info, error) {
	schools, err := db.Schools(ctx)
	if err != nil {
		return nil, err
	}
	hasDemo := false
	for _, s := range schools {
		hasDemo = hasDemo || s.Code == demo.SchoolCode
	}
	if len(schools) > 0 && !hasDemo {
		log.Warn("--demo ignored: the database already has schools", "schools", len(schools))
		return nil, nil
	}
	if len(schools) == 0 {
		log.Info("loading demo data: 1,000 cardholders, a few seconds")
	}
	start := time.Now()
	info, err := demo.Load(ctx, db, led)
	if err != nil {
		return nil, err
	}
	if info.Loaded {
		log.Info("demo data loaded", "school", info.SchoolCode, "cardholders", info.Cardholders, "took", time.Since(start).Round(time.Millisecond))
	}
	return info, nil
}

// baseURL is the URL people and scripts reach the server at. A wildcard
// listen address (":8080", "0.0.0.0:8080") is shown as 127.0.0.1, which
// answers on it, so the printed curl commands work as they are.
func baseURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return "http://" + addr.String()
	}
	return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
}
