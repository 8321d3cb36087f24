package core

import (
	"strings"
	"time"
)

// Promo limits.
const (
	maxPromoCode = 32
	// MaxPromoUses bounds a promo code's uses.
	MaxPromoUses = 1_000_000
)

// Promo is a code an admin made that grants credits once per user.
type Promo struct {
	Code    string `json:"code"`
	Credits int    `json:"credits"`
	// Uses is how many users may redeem it; 0 means any number.
	Uses    int       `json:"uses,omitempty"`
	Used    int       `json:"used"`
	By      string    `json:"by,omitempty"`
	Created time.Time `json:"created"`
}

// Left is how many more users may redeem the code, -1 for no limit.
func (p Promo) Left() int {
	if p.Uses == 0 {
		return -1
	}
	return max(p.Uses-p.Used, 0)
}

// PromoCode normalizes a promo code as typed (case does not matter) and
// checks it: 1 to 32 letters, digits, '-' or '_'. Errors: EINVALID.
func PromoCode(code string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	ok := c != "" && len(c) <= maxPromoCode
	for _, r := range c {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			ok = false
		}
	}
	if !ok {
		return "", Errorf(EINVALID, "A promo code is 1 to %d letters, digits, - or _.", maxPromoCode)
	}
	return c, nil
}

// ErrPromoUnknown, ErrPromoUsedUp and ErrPromoRedeemed are the refusals of
// Redeem, returned as they are so that errors.Is tells them apart.
var (
	ErrPromoUnknown  = &Error{Code: ENOTFOUND, Message: "There is no such promo code."}
	ErrPromoUsedUp   = &Error{Code: EINVALID, Message: "This promo code has been used up."}
	ErrPromoRedeemed = &Error{Code: EINVALID, Message: "You have already redeemed this promo code."}
)
