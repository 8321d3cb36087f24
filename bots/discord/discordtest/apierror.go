package discordtest

import (
	"encoding/json"
	"net/http"
)

// apiError is Discord's JSON error body.
type apiError struct {
	status  int
	Message string      `json:"message"`
	Code    int         `json:"code"`
	Errors  fieldErrors `json:"errors,omitempty"`
}

func errBadRequest() *apiError {
	return &apiError{status: http.StatusBadRequest, Message: "400: Bad Request", Code: 0}
}

func errNotFound() *apiError {
	return &apiError{status: http.StatusNotFound, Message: "404: Not Found", Code: 0}
}

func errForm(errs fieldErrors) *apiError {
	return &apiError{status: http.StatusBadRequest, Message: "Invalid Form Body", Code: 50035, Errors: errs}
}

func errCode(status, code int, msg string) *apiError {
	return &apiError{status: status, Code: code, Message: msg}
}

var (
	errTooLarge        = func() *apiError { return errCode(http.StatusRequestEntityTooLarge, 40005, "Request entity too large") }
	errInvalidToken    = func() *apiError { return errCode(http.StatusUnauthorized, 50027, "Invalid Webhook Token") }
	errUnknownWebhook  = func() *apiError { return errCode(http.StatusNotFound, 10015, "Unknown Webhook") }
	errUnknownMessage  = func() *apiError { return errCode(http.StatusNotFound, 10008, "Unknown Message") }
	errUnknownChannel  = func() *apiError { return errCode(http.StatusNotFound, 10003, "Unknown Channel") }
	errUnknownInteract = func() *apiError { return errCode(http.StatusNotFound, 10062, "Unknown interaction") }
	errAlreadyAcked    = func() *apiError {
		return errCode(http.StatusBadRequest, 40060, "Interaction has already been acknowledged.")
	}
	errMissingAccess    = func() *apiError { return errCode(http.StatusForbidden, 50001, "Missing Access") }
	errCannotDM         = func() *apiError { return errCode(http.StatusForbidden, 50007, "Cannot send messages to this user") }
	errEmptyMessage     = func() *apiError { return errCode(http.StatusBadRequest, 50006, "Cannot send an empty message") }
	errUnauthorized     = func() *apiError { return errCode(http.StatusUnauthorized, 0, "401: Unauthorized") }
	errMethodNotAllowed = func() *apiError { return errCode(http.StatusMethodNotAllowed, 0, "405: Method Not Allowed") }
	errNotApplication   = func() *apiError {
		return errCode(http.StatusForbidden, 20012, "You are not authorized to perform this action on this application")
	}
)

// reply is what a route handler answers.
type reply struct {
	status int
	body   any // JSON-encoded; nil with 204
	err    *apiError
}

func ok(v any) reply         { return reply{status: http.StatusOK, body: v} }
func noContent() reply       { return reply{status: http.StatusNoContent} }
func fail(e *apiError) reply { return reply{err: e} }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, e)
}
