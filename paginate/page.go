package paginate

// Page is what one fetch returned: the items, and what the response said
// about what comes next. A Source fills in what its API reports and leaves
// the rest zero; zero always means "the response did not say".
type Page[T any] struct {
	// Items are the records of the page, in collection order.
	Items []T

	// Next is the token or URL of the next page, as the response gave it
	// (body field or Link header). Empty means the response named none.
	Next string

	// HasMore is the response's own statement that more pages follow, as
	// in {"has_more": true}.
	HasMore Flag

	// Total is the size of the whole collection when the response reports
	// it. Zero means not reported: an empty collection ends on its empty
	// page anyway.
	Total int64

	// Self is, for [Token], the page's own identity in the form of
	// [Page.Next]: for a Source whose tokens are next URLs, the URL the
	// page was fetched from. The Paginator counts it as seen, so that a
	// next token that leads back to this page (a page linking to itself,
	// a cycle back to the first page, whose cursor has no token) ends the
	// run with [ErrCursorLoop] before the page is yielded twice. Empty
	// means the page is known by its cursor's token alone.
	Self string

	// Key is, for [Keyset], the position after this page as the Source
	// read it (the key of its last item that has one), for Sources that
	// read keys from the raw response rather than from the decoded items.
	// Empty means the Paginator applies the strategy's key function.
	Key string
}

// Flag is a yes, a no, or nothing said. The zero value is [Unset].
type Flag uint8

const (
	// Unset means the response did not say.
	Unset Flag = iota
	// Yes means the response said yes.
	Yes
	// No means the response said no.
	No
)

// FlagOf returns [Yes] for true and [No] for false, for a response field
// that is always present.
func FlagOf(b bool) Flag {
	if b {
		return Yes
	}
	return No
}

// String returns "unset", "yes" or "no".
func (f Flag) String() string {
	switch f {
	case Yes:
		return "yes"
	case No:
		return "no"
	}
	return "unset"
}
