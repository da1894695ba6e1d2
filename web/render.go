package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/onecard-campus/onecard"
)

//go:embed templates static locales
var assets embed.FS

// pages are the parsed templates: each page file with the layout and the
// shared parts (parts.html).
type pages struct {
	byName map[string]*template.Template
}

// funcs are the helpers every template has. Amounts are always shown as
// ¥12.50 (onecard.Yuan), never computed in a template.
var funcs = template.FuncMap{
	"yuan": onecard.Yuan,
	"abs": func(n int64) int64 {
		if n < 0 {
			return -n
		}
		return n
	},
	"neg": func(n int64) bool { return n < 0 },
	"date": func(t time.Time, loc *time.Location) string {
		return t.In(loc).Format("2006-01-02 15:04")
	},
}

func parsePages(s *Server) *pages {
	p := &pages{byName: map[string]*template.Template{}}
	files, _ := fs.Glob(assets, "templates/*.html")
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || name == "parts" {
			continue
		}
		t := template.New("layout").Funcs(funcs)
		t = template.Must(t.ParseFS(assets, "templates/layout.html", "templates/parts.html", f))
		p.byName[name] = t
	}
	return p
}

// view is what every page template gets: the translator ({{$.T "id"}}),
// the cardholder (nil on public pages), which tab is active, a message to
// show and the page's own data.
type view struct {
	*localizer
	Title  string
	Viewer *Viewer
	Nav    string // home, topup, paycode, bills, card: the active tab
	Path   string // for the language switch to come back to
	Notice string // a success message, translated
	Error  string // an error message, shown as is (the services' words)
	Loc    *time.Location
	Data   any
	// Refresh reloads the page after this many seconds (0: never).
	Refresh int
	// HasBills says whether the bills tab has pages behind it.
	HasBills bool
}

// render writes a page. The template runs into a buffer first, so a
// template error becomes a clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	t, ok := s.pages.byName[name]
	if !ok {
		s.log.Error("web: no such page", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if v.localizer == nil {
		v.localizer = s.i18n.localizer(r)
	}
	if v.Viewer == nil {
		v.Viewer = viewer(r.Context())
	}
	if v.Loc == nil {
		v.Loc = onecard.DefaultSettings().Location()
	}
	v.Path = r.URL.RequestURI() // the language switch comes back with the query (the month shown)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		v.Path = formPage(r.URL.Path) // a page shown in answer to a form: the switch goes back to the form's page
	}
	v.HasBills = s.cfg.Bills != nil
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("web: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// message returns what to show a person for an error: the service's own
// message for the errors they can act on, a generic line otherwise (the
// cause is logged, never shown).
func (s *Server) message(l *localizer, err error) string {
	switch onecard.ErrorCode(err) {
	case onecard.EINTERNAL:
		s.log.Error("web: internal error", "err", err)
		return l.T("error.internal")
	case onecard.EUNAUTHORIZED:
		return l.T("error.unauthorized")
	}
	var e *onecard.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return l.T("error.internal")
}

// staticFiles serves the embedded CSS, scripts and images; they may be
// cached, pages may not.
func staticFiles(fsys fs.FS) http.Handler {
	h := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// formPage is the page whose form a POST to path came from, where the
// language switch goes back to: the switch asks with GET, which the form's
// action may not answer.
func formPage(path string) string {
	for _, page := range []string{"/app/card", "/app/topup", "/topup", "/login"} {
		if path == page || strings.HasPrefix(path, page+"/") {
			return page
		}
	}
	return "/app"
}
