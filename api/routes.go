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
	get, post, put, del := http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
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
		unauthorized, tooMany             = http.StatusUnauthorized, http.StatusTooManyRequests
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

	// The payment channels, when configured: the cardholder's top-ups and
	// bindings, the public top-up (no session; the lookup is rate limited
	// per client address) and the operators' refunds, counter sales and
	// reconciliations. The gateways' notifications and the payer's result
	// page are outside /api/v1 (pay_pages.go).
	if s.cfg.Payments != nil {
		route(s, cardholderSelf, op(get, "/me/topup-rules", "my-topup-rules", "me", "The school's top-up amounts, limits and fees, and the channels on"), s.meTopUpRules)
		route(s, cardholderSelf, op(get, "/me/bindings", "my-bindings", "me", "My bound Alipay and WeChat accounts and bank card"), s.meBindings)
		route(s, cardholderSelf, op(post, "/me/bindings/{channel}", "bind-my-account", "me", "Bind the Alipay or WeChat account that authorised the app", created, notFound, conflict), s.meBindAccount)
		route(s, cardholderSelf, op(del, "/me/bindings/{channel}", "unbind-my-account", "me", "Unbind my Alipay or WeChat account", noContent, notFound), s.meUnbindAccount)
		route(s, cardholderSelf, op(post, "/me/bank-card", "bind-my-bank-card", "me", "Bind my bank card for loads and bank top-ups", created, notFound), s.meBindBank)
		route(s, cardholderSelf, op(del, "/me/bank-card", "unbind-my-bank-card", "me", "Unbind my bank card", noContent, notFound), s.meUnbindBank)
		route(s, cardholderSelf, op(post, "/me/topups", "top-up-me", "me", "Top up from my bound Alipay or WeChat account", created, conflict, limit), s.meTopUp)
		route(s, cardholderSelf, op(post, "/me/topups/bank/code", "my-bank-topup-code", "me", "Text me the code that confirms a bank top-up", conflict, tooMany), s.meBankCode)
		route(s, cardholderSelf, op(post, "/me/topups/bank", "top-up-me-from-bank", "me", "Top up from my bound bank card with the texted code", created, conflict, limit), s.meBankTopUp)
		route(s, cardholderSelf, op(get, "/me/topups", "my-topups", "me", "My top-up orders"), s.meTopUps)
		route(s, cardholderSelf, op(get, "/me/topups/{no}", "my-topup", "me", "One of my top-up orders, settled with its gateway if pending", notFound), s.meTopUpOne)
		route(s, cardholderSelf, op(get, "/me/auto-topup", "my-auto-topup", "me", "My automatic top-up"), s.meAutoTopUp)
		route(s, cardholderSelf, op(put, "/me/auto-topup", "set-my-auto-topup", "me", "Change my automatic top-up (turning it on is consent to bank debits)", conflict), s.meSetAutoTopUp)
		route(s, cardholderSelf, op(get, "/me/notices", "my-notices", "me", "The SMS notices I asked for"), s.meNotices)
		route(s, cardholderSelf, op(put, "/me/notices", "set-my-notices", "me", "Choose my SMS notices"), s.meSetNotices)
		route(s, cardholderSelf, op(post, "/me/paycode", "my-paycode", "me", "A one-card payment code for a POS to scan (valid one minute, once)", conflict), s.mePayCode)

		withAddr := func(o huma.Operation) huma.Operation {
			o.Middlewares = append(o.Middlewares, withClient)
			return o
		}
		route(s, public, op(get, "/public/schools", "public-schools", "public", "Find a school to top up a card of"), s.publicSchools)
		route(s, public, withAddr(op(post, "/public/lookup", "public-lookup", "public", "Check whose card it is before a top-up (masked)", notFound, tooMany)), s.publicLookup)
		route(s, public, withAddr(op(post, "/public/topups", "public-topup", "public", "Top up a card by school, holder name and number", created, notFound, limit, tooMany)), s.publicTopUp)
		route(s, public, op(get, "/public/topups/{no}", "public-topup-state", "public", "Where a top-up order stands (no cardholder data)", notFound), s.publicTopUpOne)
		route(s, public, op(post, "/public/bindings/{channel}/unbind", "public-unbind", "public", "Unbind the account that authorised, from inside the channel's app", noContent, notFound), s.publicUnbind)

		route(s, readers, op(get, "/topups/{no}", "get-topup", "payments", "Get a top-up order", notFound), s.getTopUp)
		route(s, refunders, op(post, "/topups/{no}/refund", "refund-topup", "payments", "Refund a mistaken top-up off the transition balance", notFound, conflict), s.refundTopUp)
		route(s, cashiers, op(post, "/code-payments", "counter-code-payment", "payments", "Charge a payment code at the counter", notFound, conflict, limit), s.counterSale)
		route(s, readers, op(get, "/code-payments/{no}", "get-code-payment", "payments", "Get a code payment", notFound), s.getCodePayment)
		route(s, refunders, op(post, "/code-payments/{no}/refund", "refund-code-payment", "payments", "Refund an Alipay or WeChat code payment through its channel", notFound, conflict), s.refundCodePayment)
		route(s, reconcilers, op(post, "/reconciliations", "reconcile", "payments", "Reconcile a channel's day against its statement", created), s.reconcile)
		route(s, reconcilerReaders, op(get, "/reconciliations", "list-reconciliations", "payments", "The latest reconciliation reports"), s.listReconciliations)
	}

	describeDomainSchemas(s.api.OpenAPI())
	pruneUndeclared422(s.api.OpenAPI())
}
