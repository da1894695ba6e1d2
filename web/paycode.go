package web

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image"
	"image/draw"
	"image/png"
	"net/http"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/qr"

	"github.com/onecard-campus/onecard"
)

// payCodeRefresh is how often the page shows a new code: a code is valid
// one minute and once.
const payCodeRefresh = 60

func (s *Server) payCodeRoutes() {
	s.mux.HandleFunc("GET /app/paycode", s.cardholder(s.payCodePage))
}

// payCodeData is the payment code page: the code as a QR code, a barcode
// and digits, or why there is none; and the balance it draws from.
type payCodeData struct {
	Available  bool
	Blocked    string // why the card gets no code (the service's words)
	Digits     string // grouped 4-4-4-4-2 for reading
	QR         template.URL
	Barcode    template.URL
	Transition int64 // fen, what the code draws from
	Floor      int64 // fen, how far below zero it may go
	Seconds    int
}

// payCodePage issues a one-card payment code (seed 001) and shows it. The
// images are drawn here and sent inside the page (data: URIs): the code is
// never in a URL, where logs and caches would keep it.
func (s *Server) payCodePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l := s.i18n.localizer(r)
	h := viewer(ctx).Cardholder
	school, err := s.cfg.Schools.School(ctx, h.SchoolID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &payCodeData{Floor: -school.Settings.ArrearsLimit, Seconds: payCodeRefresh}
	v := &view{Title: "paycode.title", Nav: "paycode", Data: d, Loc: school.Settings.Location(), localizer: l}
	if s.cfg.Payments == nil || s.cfg.PaymentStore == nil {
		s.render(w, r, http.StatusOK, "paycode", v)
		return
	}
	d.Available = true
	bal, err := s.cfg.Cardholders.Balance(ctx, h.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Transition = bal.Transition
	code, err := s.cfg.PaymentStore.IssuePayCode(ctx, h.ID)
	switch {
	case onecard.ErrorCode(err) == onecard.ECARDBLOCKED:
		d.Blocked = s.message(l, err)
		s.render(w, r, http.StatusOK, "paycode", v)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	if d.QR, d.Barcode, err = payCodeImages(code.Code); err != nil {
		s.fail(w, r, err)
		return
	}
	d.Digits = groupDigits(code.Code)
	v.Refresh = payCodeRefresh
	s.render(w, r, http.StatusOK, "paycode", v)
}

// payCodeImages draws the code as a QR code and as a Code 128 barcode, the
// two a canteen POS scanner reads, as PNG data: URIs.
func payCodeImages(code string) (qrURI, barURI template.URL, err error) {
	const module = 8 // pixels per module
	q, err := qr.Encode(code, qr.M, qr.Numeric)
	if err != nil {
		return "", "", fmt.Errorf("web: QR code: %w", err)
	}
	size := q.Bounds().Dx() * module
	if q, err = barcode.Scale(q, size, size); err != nil {
		return "", "", fmt.Errorf("web: QR code: %w", err)
	}
	b, err := code128.Encode(code)
	if err != nil {
		return "", "", fmt.Errorf("web: barcode: %w", err)
	}
	bs, err := barcode.Scale(b, b.Bounds().Dx()*3, 96)
	if err != nil {
		return "", "", fmt.Errorf("web: barcode: %w", err)
	}
	// Scanners need a quiet zone around a code: four modules for a QR
	// code, ten for Code 128.
	if qrURI, err = pngURI(quietZone(q, 4*module, 4*module)); err != nil {
		return "", "", err
	}
	if barURI, err = pngURI(quietZone(bs, 10*3, 0)); err != nil {
		return "", "", err
	}
	return qrURI, barURI, nil
}

// quietZone puts an image on a white margin of dx pixels left and right
// and dy above and below.
func quietZone(img image.Image, dx, dy int) image.Image {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx()+2*dx, b.Dy()+2*dy))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(out, image.Rect(dx, dy, dx+b.Dx(), dy+b.Dy()), img, b.Min, draw.Src)
	return out
}

func pngURI(img image.Image) (template.URL, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("web: PNG: %w", err)
	}
	// A data: URI of our own PNG bytes, never of anything a request sent.
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

// groupDigits writes 18 digits in groups of four, 6612 3456 7890 1234 56,
// for someone reading them out to a cashier.
func groupDigits(code string) string {
	var b strings.Builder
	for i, r := range code {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
