package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Languages: Chinese first (the default), English second.
var languages = []language.Tag{language.Chinese, language.English}

var matcher = language.NewMatcher(languages)

// langCookie remembers the language chosen with the switch.
const langCookie = "onecard_lang"

// translations are the messages of every page, from locales/*.{zh,en}.json:
// each page has its own pair of files, and a test checks that both
// languages have every message the templates use.
type translations struct {
	bundle *i18n.Bundle
	ids    map[string]map[string]bool // language -> message IDs
}

func loadTranslations() *translations {
	b := i18n.NewBundle(language.Chinese)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	t := &translations{bundle: b, ids: map[string]map[string]bool{}}
	files, _ := fs.Glob(assets, "locales/*.json")
	for _, f := range files {
		data, err := fs.ReadFile(assets, f)
		if err != nil {
			panic(err)
		}
		mf, err := b.ParseMessageFileBytes(data, f)
		if err != nil {
			panic(fmt.Sprintf("web: %s: %v", f, err))
		}
		lang := mf.Tag.String()
		if t.ids[lang] == nil {
			t.ids[lang] = map[string]bool{}
		}
		for _, m := range mf.Messages {
			t.ids[lang][m.ID] = true
		}
	}
	return t
}

// lang picks the request's language: the switch's cookie, else the
// browser's Accept-Language, else Chinese.
func lang(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "zh" || c.Value == "en") {
		return c.Value
	}
	tag, _ := language.MatchStrings(matcher, r.Header.Get("Accept-Language"))
	if base, _ := tag.Base(); base.String() == "en" {
		return "en"
	}
	return "zh"
}

// localizer translates for one request.
type localizer struct {
	lang string
	l    *i18n.Localizer
}

func (t *translations) localizer(r *http.Request) *localizer {
	l := lang(r)
	return &localizer{lang: l, l: i18n.NewLocalizer(t.bundle, l)}
}

// T translates a message ID with optional key/value pairs for its
// template ({{.Amount}}). A missing message shows its ID, so a gap is
// visible on the page and caught by the translation test.
func (l *localizer) T(id string, kv ...any) string {
	var data map[string]any
	if len(kv) > 0 {
		data = map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			data[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	s, err := l.l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return id
	}
	return s
}

// setLanguage is the language switch: it remembers the choice and goes
// back to the page it came from (same site only).
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request) {
	l := r.FormValue("lang")
	if l != "zh" && l != "en" {
		http.Error(w, "unknown language", http.StatusBadRequest)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
	back := r.FormValue("back")
	if u, err := url.Parse(back); err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") {
		back = "/app"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// Lang is the request's language, "zh" or "en", for templates.
func (l *localizer) Lang() string { return l.lang }
