package web

import (
	"io/fs"
	"regexp"
	"testing"
)

// Every message exists in both languages, and every message ID a template
// names literally exists.
func TestTranslationsComplete(t *testing.T) {
	tr := loadTranslations()
	zh, en := tr.ids["zh"], tr.ids["en"]
	for id := range zh {
		if !en[id] {
			t.Errorf("%q has no English", id)
		}
	}
	for id := range en {
		if !zh[id] {
			t.Errorf("%q has no Chinese", id)
		}
	}
	literal := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	files, _ := fs.Glob(assets, "templates/*.html")
	for _, f := range files {
		b, _ := fs.ReadFile(assets, f)
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			if !zh[m[1]] {
				t.Errorf("%s uses %q, which has no translation", f, m[1])
			}
		}
	}
}
