package core

// The core's user-facing messages. Each is in the message catalog (the
// frontends render it in the user's language); the English here is for
// logs and must equal the catalog's English (a test checks).

// MsgInternal is what a user sees of an error that is not an *Error.
var MsgInternal = NewMsg("core.internal", "Something went wrong on our side. Please try again later.")

// What providers answer, shared by every protocol client.
var (
	MsgProviderPolicy      = NewMsg("core.provider_policy", "The video service refused this prompt or image under its content policy. Please rephrase the prompt or use another image.")
	MsgProviderModel       = NewMsg("core.provider_model", "This model is unavailable right now. Please try another model.")
	MsgProviderBusy        = NewMsg("core.provider_busy", "The video service is busy right now. Please try again later.")
	MsgProviderCreate      = NewMsg("core.provider_create", "The video service could not take this request.")
	MsgProviderFailed      = NewMsg("core.provider_failed", "The video service could not make this video.")
	MsgProviderUnreachable = NewMsg("core.provider_unreachable", "The video service is not answering right now.")
)

// Requests (request.go, catalog.go).
var (
	msgShotsNotStoryboard  = NewMsg("core.shots_not_storyboard", "Shots are only for storyboards.")
	msgPromptRequired      = NewMsg("core.prompt_required", "Please describe the video you want: a prompt is required.")
	msgPromptTooLong       = NewMsg("core.prompt_too_long", "The prompt is {{.Length}} characters long; the limit is {{.Limit}}.")
	msgNoteStoryboardOnly  = NewMsg("core.note_storyboard_only", "{{.Asked}} s is only for storyboards: making {{.Made}} s.")
	msgNoteDuration        = NewMsg("core.note_duration", "{{.Asked}} s is not available for {{.Model}}: making {{.Made}} s.")
	msgBadOrientation      = NewMsg("core.bad_orientation", "Orientation must be portrait or landscape, not \"{{.Value}}\".")
	msgBadQuality          = NewMsg("core.bad_quality", "Quality must be one of {{.Qualities}}, not \"{{.Value}}\".")
	msgNoteOneQuality      = NewMsg("core.note_one_quality", "{{.Model}} has one quality only: ignoring \"{{.Value}}\".")
	msgNoteNoWatermark     = NewMsg("core.note_no_watermark", "{{.Model}} has no watermark option: ignoring it.")
	msgNoteNoPrivate       = NewMsg("core.note_no_private", "{{.Model}} cannot make private videos: ignoring it.")
	msgNoPrice             = NewMsg("core.no_price", "{{.Model}} has no price for {{.Seconds}} s; ask the operator.")
	msgModelNotOffered     = NewMsg("core.model_not_offered", "Model \"{{.Model}}\" is unavailable. Available models: {{.Models}}.")
	msgNotStoryboardModel  = NewMsg("core.not_storyboard_model", "{{.Model}} is not a storyboard model.")
	msgStoryboardNeedShots = NewMsg("core.storyboard_needs_shots", "A storyboard needs shots: one per line, like \"5s A city at dusk\".")
	msgTooManyShots        = NewMsg("core.too_many_shots", "A storyboard has at most {{.Max}} shots; this one has {{.Count}}.")
	msgShotNoScene         = NewMsg("core.shot_no_scene", "Shot {{.Shot}} has no scene: describe what happens in it.")
	msgShotTooLong         = NewMsg("core.shot_too_long", "Shot {{.Shot}} is {{.Length}} characters long; the limit is {{.Limit}}.")
	msgShotNoDuration      = NewMsg("core.shot_no_duration", "Shot {{.Shot}} needs a duration above 0 s.")
	msgShotsOver           = NewMsg("core.shots_over", "The shots add up to more than {{.Most}} s; a storyboard must add up to {{either .Allowed}} s.")
	msgShotsMismatch       = NewMsg("core.shots_mismatch", "The shots add up to {{.Total}} s but you asked for {{.Asked}} s: make them add up to {{either .Allowed}} s.")
	msgShotsTotal          = NewMsg("core.shots_total", "The shots add up to {{.Total}} s; a storyboard must add up to {{either .Allowed}} s.")
	msgNoImages            = NewMsg("core.no_images", "{{.Model}} does not take images; leave the image out or choose an image model.")
	msgNeedsImage          = NewMsg("core.needs_image", "{{.Model}} needs an image to animate: attach one.")
	msgNoteOneImage        = NewMsg("core.note_one_image", "{{.Model}} takes one image: using the first of the {{.Count}} you sent.")
	msgNoteMaxImages       = NewMsg("core.note_max_images", "{{.Model}} takes at most {{.Max}} images: using the first {{.Max}} of the {{.Count}} you sent.")
	msgImageEmpty          = NewMsg("core.image_empty", "Image {{.Image}} is empty.")
	msgImageTooBig         = NewMsg("core.image_too_big", "Image {{.Image}} is {{.Size}} MiB; the limit is {{.Limit}} MiB.")
	msgImageType           = NewMsg("core.image_type", "Image {{.Image}} is not a PNG, JPEG or WebP picture.")
	msgNoStoryboards       = NewMsg("core.no_storyboards", "Storyboards are not available right now.")
	msgNoImageModel        = NewMsg("core.no_image_model", "No available model animates pictures with these options (you sent {{.Count}}).")
	msgNoTextModel         = NewMsg("core.no_text_model", "No available model makes text-to-video with these options.")
)

// Jobs (service.go, dispatch.go, pollloop.go, recover.go, deliver.go).
var (
	msgTooFast          = NewMsg("core.too_fast", "You are sending requests too fast: wait a few seconds and try again.")
	msgNoSuchJob        = NewMsg("core.no_such_job", "You have no job {{.Job}}.")
	msgCancelDelivered  = NewMsg("core.cancel_delivered", "Job {{.Job}} is already delivered.")
	msgCancelFailed     = NewMsg("core.cancel_failed", "Job {{.Job}} has already failed.")
	msgCancelCanceled   = NewMsg("core.cancel_canceled", "Job {{.Job}} is already canceled.")
	msgCancelStarted    = NewMsg("core.cancel_started", "Job {{.Job}} is already being made and can no longer be canceled.")
	msgAdminCredits     = NewMsg("core.admin_credits", "Only admins can change credits.")
	msgAdminStats       = NewMsg("core.admin_stats", "Only admins can see stats.")
	msgModelGone        = NewMsg("core.model_gone", "Model {{.Model}} is unavailable now.")
	msgNotTaken         = NewMsg("core.not_taken", "The video service did not take the job.")
	msgNoVideoLink      = NewMsg("core.no_video_link", "The video service finished without a video link.")
	msgStatusLost       = NewMsg("core.status_lost", "The video service stopped answering about your video.")
	msgTooSlow          = NewMsg("core.too_slow", "The video took too long to make.")
	msgRestartedSending = NewMsg("core.restarted_sending", "The bot restarted while sending your job to the video service.")
	msgProviderGone     = NewMsg("core.provider_gone", "The video service that was making your video is no longer used by this bot.")
	msgNoProvider       = NewMsg("core.no_provider", "No provider \"{{.Name}}\".")
	msgNotDownloaded    = NewMsg("core.not_downloaded", "The video was made but could not be downloaded.")
	msgNotDelivered     = NewMsg("core.not_delivered", "The video was made but could not be delivered to you.")
)

// Payments and promo codes (credits.go, payment.go, promo.go).
var (
	msgPackPriceChanged  = NewMsg("core.pack_price_changed", "The price of this pack is now {{.Stars}} Stars: send /buy for a new invoice.")
	msgPackGone          = NewMsg("core.pack_gone", "This pack is no longer on sale: send /buy to see the current ones.")
	msgPackCurrency      = NewMsg("core.pack_currency", "Packs are paid in Telegram Stars only.")
	msgPackAmount        = NewMsg("core.pack_amount", "This pack costs {{.Stars}} Stars, not {{.Amount}}: send /buy for a new invoice.")
	msgSKUUnknown        = NewMsg("core.sku_unknown", "SKU {{.SKU}} is not sold here.")
	msgAdminRefund       = NewMsg("core.admin_refund", "Only admins can refund payments.")
	msgRefundNeedsID     = NewMsg("core.refund_needs_id", "Give the telegram_payment_charge_id of the payment to refund.")
	msgRefundRunning     = NewMsg("core.refund_running", "A refund of payment {{.Payment}} is under way.")
	msgRefundUnconfirmed = NewMsg("core.refund_unconfirmed", "The refund of payment {{.Payment}} was not confirmed. The {{credits .Credits}} stay taken back; send /refund {{.Payment}} again (it is also retried at the next start).")
	msgRefundRefused     = NewMsg("core.refund_refused", "The refund of payment {{.Payment}} was refused. The {{credits .Credits}} were given back to {{.User}}.")
	msgRefundRefusedWhy  = NewMsg("core.refund_refused_why", "The refund of payment {{.Payment}} was refused: {{.Why}} The {{credits .Credits}} were given back to {{.User}}.")
	msgAdminPromo        = NewMsg("core.admin_promo", "Only admins can make promo codes.")
	msgAdminPromos       = NewMsg("core.admin_promos", "Only admins can see promo codes.")
	msgPromoCredits      = NewMsg("core.promo_credits", "A promo code grants 1 to {{credits .Max}}.")
	msgPromoUses         = NewMsg("core.promo_uses", "A promo code has 1 to {{.Max}} uses (none given: any number).")
	msgPromoShape        = NewMsg("core.promo_shape", "A promo code is 1 to {{.Max}} letters, digits, - or _.")
	msgPaymentInvalid    = NewMsg("core.payment_invalid", "Invalid payment \"{{.Payment}}\".")
	msgPromoUnknown      = NewMsg("core.promo_unknown", "There is no such promo code.")
	msgPromoUsedUp       = NewMsg("core.promo_used_up", "This promo code has been used up.")
	msgPromoRedeemed     = NewMsg("core.promo_redeemed", "You have already redeemed this promo code.")
)
