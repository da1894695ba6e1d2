package api

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

// domainDocs describes fields of root-package types, which carry no huma
// tags (the root package imports only the standard library). Integrators
// must be able to read from the document alone that amounts are fen.
var domainDocs = map[string]map[string]string{
	"Settings": {
		"time_zone":             "IANA time zone of the school, e.g. Asia/Shanghai; days and meal periods are counted in it.",
		"arrears_limit":         "Fen (分) the transition balance may go below zero.",
		"single_limit":          "Largest purchase, in fen.",
		"daily_limit":           "Purchases per day, in fen; at least single_limit.",
		"meal_periods":          "Named slices of the day for the per-meal PIN threshold.",
		"meal_pin_threshold":    "Fen spent within one meal period above which the consumption PIN is needed.",
		"mismatch_threshold":    "Fen of difference between card and account that freezes the card.",
		"replacement_fee":       "Fen charged for a replacement card.",
		"purse_ceiling":         "Largest balance a card may carry, in fen.",
		"initial_pin":           "How new cardholders' PINs derive from the ID number: last6_digits, x_as_zero or zeros.",
		"pin_max_attempts":      "Wrong PINs before a lockout, 1 to 20.",
		"pin_lockout":           "How long a lockout lasts, a Go duration such as \"30m\".",
		"graduate_freeze_after": "How long after leaving a graduate's card freezes, a Go duration such as \"2160h\".",
	},
	"Balance": {
		"purse":      "Fen on the card (the server's shadow of it).",
		"transition": "Fen that reached the account but not yet the card (过渡余额); negative in arrears.",
		"total":      "purse + transition, in fen: the balance to show.",
	},
	"HistoryItem": {
		"amount":  "Fen, from the cardholder's view: positive in, negative out.",
		"account": "purse or transition.",
	},
	"Merchant": {"account": "The merchant's ledger account ID."},
	"Cardholder": {
		"purse_account":      "Ledger account ID of the purse.",
		"transition_account": "Ledger account ID of the transition balance.",
		"id_masked":          "The ID number masked for display; the number itself is not kept.",
	},
}

func describeDomainSchemas(oapi *huma.OpenAPI) {
	schemas := oapi.Components.Schemas.Map()
	for name, fields := range domainDocs {
		s, ok := schemas[name]
		if !ok {
			continue
		}
		for field, doc := range fields {
			if p, ok := s.Properties[field]; ok {
				p.Description = doc
			}
		}
	}
}

// pruneUndeclared422 removes the 422 response huma documents for every
// operation with input: this API answers invalid input with 400, and 422 only
// where a limit can be exceeded, which such operations declare themselves.
func pruneUndeclared422(oapi *huma.OpenAPI) {
	code := strconv.Itoa(http.StatusUnprocessableEntity)
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Delete, item.Patch} {
			if op != nil && !slices.Contains(op.Errors, http.StatusUnprocessableEntity) {
				delete(op.Responses, code)
			}
		}
	}
}
