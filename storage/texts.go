package storage

import "sorabot/core"

// The store's user-facing messages (in the message catalog; the English is
// for logs).
var (
	msgNoJob           = core.NewMsg("storage.no_job", "There is no job \"{{.Job}}\".")
	msgBadUser         = core.NewMsg("storage.bad_user", "Invalid user id \"{{.User}}\".")
	msgBadPrice        = core.NewMsg("storage.bad_price", "Invalid price {{.Price}}.")
	msgTooManyImages   = core.NewMsg("storage.too_many_images", "Too many images: {{.Count}}.")
	msgTooManyActive   = core.NewMsg("storage.too_many_active", "You already have as many videos in progress as allowed ({{.Active}}); wait for one to finish.")
	msgNoCredits       = core.NewMsg("storage.no_credits", "This video costs {{credits .Price}}; you have {{credits .Balance}}.")
	msgBelowZero       = core.NewMsg("storage.below_zero", "The balance of {{.User}} would be {{.Balance}}; it cannot go below 0.")
	msgBadPromo        = core.NewMsg("storage.bad_promo", "Invalid promo code \"{{.Code}}\".")
	msgPromoLimits     = core.NewMsg("storage.promo_limits", "A promo code grants 1 to {{credits .Credits}} to at most {{.Uses}} users.")
	msgPromoExists     = core.NewMsg("storage.promo_exists", "The promo code {{.Code}} exists already.")
	msgBadPurchase     = core.NewMsg("storage.bad_purchase", "Invalid purchase of {{credits .Credits}} for {{.Stars}} Stars.")
	msgAlreadyRefunded = core.NewMsg("storage.already_refunded", "Payment {{.Payment}} was already refunded.")
	msgCreditsSpent    = core.NewMsg("storage.credits_spent", "{{.User}} has {{credits .Left}} left of the {{credits .Bought}} this payment bought; it cannot be refunded.")
	msgNoPayment       = core.NewMsg("storage.no_payment", "There is no payment {{.Payment}}.")
)
