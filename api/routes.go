package api

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/onecard-campus/onecard"
)

// routes registers every endpoint with who may call it. Read this file for
// the API's shape; the handlers live in files named after what they hold.
func (s *Server) routes() {
	const v1 = "/api/v1"
	get, post, put := http.MethodGet, http.MethodPost, http.MethodPut
	// op describes an operation; codes are its success status when 2xx and
	// the errors it documents beyond those every route has (400, 401, 403, 500).
	op := func(method, path, id, tag, summary string, codes ...int) huma.Operation {
		o := huma.Operation{Method: method, Path: v1 + path, OperationID: id, Tags: []string{tag}, Summary: summary}
		for _, c := range codes {
			if c < 300 {
				o.DefaultStatus = c
			} else {
				o.Errors = append(o.Errors, c)
			}
		}
		return o
	}
	const (
		created, noContent                = http.StatusCreated, http.StatusNoContent
		notFound, conflict, limit, locked = http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity, http.StatusLocked
		unauthorized                      = http.StatusUnauthorized
	)

	// Sessions.
	route(s, public, op(post, "/auth/operator/login", "login-operator", "auth", "Log in to the console", unauthorized, locked), s.loginOperator)
	route(s, public, op(post, "/auth/cardholder/login", "login-cardholder", "auth", "Log in as a cardholder with school, card number and query PIN", unauthorized, locked), s.loginCardholder)
	route(s, anySession, op(post, "/auth/logout", "logout", "auth", "End this session", noContent), s.logout)
	route(s, passwordOwner, op(post, "/operators/me/password", "change-own-password", "operators", "Change your own password", noContent), s.changeOwnPassword)

	// Operators and the audit log.
	route(s, admins, op(get, "/operators", "list-operators", "operators", "List operators"), s.listOperators)
	route(s, admins, op(post, "/operators", "create-operator", "operators", "Add an operator", created, conflict), s.createOperator)
	route(s, admins, op(put, "/operators/{id}/disabled", "set-operator-disabled", "operators", "Disable or re-enable an operator", notFound, conflict), s.setOperatorDisabled)
	route(s, auditors, op(get, "/audit", "audit-log", "operators", "Read the audit log"), s.auditLog)

	// Schools and merchants.
	route(s, readers, op(get, "/schools", "list-schools", "schools", "List schools"), s.listSchools)
	route(s, platformAdmins, op(post, "/schools", "create-school", "schools", "Add a school", created, conflict), s.createSchool)
	route(s, readers, op(get, "/schools/{id}", "get-school", "schools", "Get a school", notFound), s.getSchool)
	route(s, admins, op(put, "/schools/{id}/settings", "update-settings", "schools", "Replace a school's settings", notFound), s.updateSettings)
	route(s, admins, op(post, "/schools/{id}/campuses", "create-campus", "schools", "Add a campus", created, notFound, conflict), s.createCampus)
	route(s, readers, op(get, "/schools/{id}/merchants", "list-merchants", "merchants", "List a school's merchants", notFound), s.listMerchants)
	route(s, admins, op(post, "/schools/{id}/merchants", "create-merchant", "merchants", "Add a merchant", created, notFound, conflict), s.createMerchant)
	route(s, readers, op(get, "/schools/{id}/terminals", "list-terminals", "terminals", "List a school's terminals", notFound), s.listTerminals)
	route(s, admins, op(post, "/schools/{id}/terminals", "create-terminal", "terminals", "Register a terminal and get its key", created, notFound, conflict), s.createTerminal)
	route(s, admins, op(put, "/terminals/{id}/disabled", "set-terminal-disabled", "terminals", "Disable or re-enable a terminal", notFound), s.setTerminalDisabled)

	// Cardholders.
	route(s, hall, op(post, "/schools/{id}/cardholders", "create-cardholder", "cardholders", "Register a cardholder", created, notFound, conflict), s.createCardholder)
	route(s, readers, op(get, "/schools/{id}/cardholders", "find-cardholders", "cardholders", "Find a school's cardholders", notFound), s.findCardholders)
	route(s, readers, op(get, "/cardholders/{id}", "get-cardholder", "cardholders", "Get a cardholder with balance and active card", notFound), s.getCardholder)
	route(s, hall, op(put, "/cardholders/{id}/status", "set-cardholder-status", "cardholders", "Mark a cardholder graduated, closed or active", notFound, conflict), s.setCardholderStatus)
	route(s, hall, op(put, "/cardholders/{id}/phone", "set-cardholder-phone", "cardholders", "Change a cardholder's phone", notFound), s.setPhone)
	route(s, hall, op(post, "/cardholders/{id}/pins/{kind}/reset", "reset-pin", "cardholders", "Reset a PIN at the service hall", noContent, notFound), s.resetPIN)

	// Cards.
	route(s, hall, op(post, "/cardholders/{id}/cards", "issue-card", "cards", "Issue a card", created, notFound, conflict), s.issueCard)
	route(s, readers, op(get, "/cardholders/{id}/cards", "list-cards", "cards", "List a cardholder's cards", notFound), s.listCards)
	route(s, readers, op(get, "/cards/{id}", "get-card", "cards", "Get a card", notFound), s.getCard)
	route(s, hall, op(post, "/cards/{id}/report-lost", "report-card-lost", "cards", "Report a card lost", notFound, conflict), s.onCard(onecard.CardService.ReportLost))
	route(s, hall, op(post, "/cards/{id}/unlock", "unlock-card", "cards", "Unlock a lost card", notFound, conflict), s.onCard(onecard.CardService.Unlock))
	route(s, hall, op(post, "/cards/{id}/freeze", "freeze-card", "cards", "Freeze a card", notFound, conflict), s.freezeCard)
	route(s, hall, op(post, "/cards/{id}/unfreeze", "unfreeze-card", "cards", "Lift a freeze", notFound, conflict), s.onCard(onecard.CardService.Unfreeze))
	route(s, hall, op(post, "/cards/{id}/replace", "replace-card", "cards", "Replace a card (fee charged, balance carried)", notFound, conflict), s.replaceCard)
	route(s, hall, op(post, "/cards/{id}/correct-balance", "correct-card-balance", "cards", "Correct a card-vs-account mismatch (over/short) and lift its freeze", notFound, conflict), s.correctBalance)
	route(s, hall, op(post, "/cards/{id}/cancel", "cancel-card", "cards", "Cancel a card for good", notFound, conflict), s.onCard(onecard.CardService.Cancel))
	route(s, readers, op(get, "/schools/{id}/blacklist", "blacklist", "cards", "Blocked-card changes since a version", notFound), s.blacklist)

	// Money at the counter.
	route(s, cashiers, op(post, "/cardholders/{id}/deposits", "deposit", "money", "Deposit cash taken at the counter", notFound), s.deposit)
	route(s, readers, op(get, "/cardholders/{id}/transactions", "cardholder-transactions", "money", "A cardholder's transactions", notFound), s.history)

	// The ledger.
	submit := op(post, "/transfers", "submit-transfers", "ledger", "Submit a batch of ledger transfers")
	submit.MaxBodyBytes = maxBatchBytes
	submit.Description = "Each transfer gets its own result; the status is 200 even if some failed. " +
		"At most 8190 transfers (TigerBeetle's batch) and 4 MiB per request."
	route(s, ledgerWriters, submit, s.submitTransfers)
	route(s, ledgerReaders, op(get, "/transfers/{key}", "get-transfer", "ledger", "Get a transfer by key", notFound), s.getTransfer)
	route(s, ledgerReaders, op(get, "/accounts/{id}", "get-account", "ledger", "Get a ledger account", notFound), s.getAccount)
	route(s, ledgerReaders, op(get, "/accounts/{id}/transfers", "account-transfers", "ledger", "Transfers touching an account", notFound), s.accountTransfers)

	// The cardholder's own app.
	route(s, cardholderSelf, op(get, "/me", "me", "me", "Who I am, my balance and my card"), s.me)
	route(s, cardholderSelf, op(get, "/me/transactions", "my-transactions", "me", "My transactions"), s.meHistory)
	route(s, cardholderSelf, op(post, "/me/card/report-lost", "report-my-card-lost", "me", "Report my card lost (ends all my sessions)", notFound, conflict, locked), s.meReportLost)
	route(s, cardholderSelf, op(post, "/me/card/unlock", "unlock-my-card", "me", "Unlock my lost card", notFound, conflict, locked), s.meUnlock)
	route(s, cardholderSelf, op(put, "/me/pins/{kind}", "change-my-pin", "me", "Change my PIN (ends all my sessions)", noContent, locked), s.meChangePIN)
	route(s, cardholderSelf, op(post, "/me/payments", "pay", "me", "Pay a merchant from my balance", notFound, conflict, limit), s.mePay)

	describeDomainSchemas(s.api.OpenAPI())
	pruneUndeclared422(s.api.OpenAPI())
}
