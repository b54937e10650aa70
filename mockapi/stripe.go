package mockapi

import (
	"maps"
	"math"
	"math/bits"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults of the Stripe-like customers API.
const (
	DefaultCustomers = 1000
	PathCustomers    = "/v1/customers"
	StripeLimit      = 10  // limit when absent, as Stripe
	StripeMaxLimit   = 100 // the largest limit Stripe accepts
)

// Customer is a customer of the Stripe-like API, with the fields of
// Stripe's that connectors most often read, plus Updated (not a Stripe
// field: see the package documentation). Times are Unix seconds.
//
// The JSON of a live customer has every field, strings that are empty
// written as null (as Stripe writes unset fields) and Deleted omitted. A
// deleted customer is served as a tombstone,
// {"id":...,"object":"customer","deleted":true,"updated":T}, which
// decodes to a Customer with only those fields set. Customer's MarshalJSON
// writes exactly the bytes served.
type Customer struct {
	ID               string            `json:"id"`     // "cus_" and 14 letters and digits
	Object           string            `json:"object"` // always "customer"
	Address          CustomerAddress   `json:"address"`
	Balance          int64             `json:"balance"` // in cents; negative is a credit
	Created          int64             `json:"created"`
	Currency         string            `json:"currency"` // "usd", "eur" or "" (null)
	Delinquent       bool              `json:"delinquent"`
	Description      string            `json:"description"`
	Email            string            `json:"email"`
	InvoicePrefix    string            `json:"invoice_prefix"`
	Livemode         bool              `json:"livemode"`
	Metadata         map[string]string `json:"metadata"`
	Name             string            `json:"name"`
	Phone            string            `json:"phone"`
	PreferredLocales []string          `json:"preferred_locales"`
	TaxExempt        string            `json:"tax_exempt"` // "none", "exempt" or "reverse"
	Updated          int64             `json:"updated"`    // last change; not a Stripe field
	Deleted          bool              `json:"deleted,omitempty"`
}

// CustomerAddress is the address of a [Customer]. Empty strings are
// served as null.
type CustomerAddress struct {
	City       string `json:"city"`
	Country    string `json:"country"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	PostalCode string `json:"postal_code"`
	State      string `json:"state"`
}

// CustomerList is the body of GET /v1/customers.
type CustomerList struct {
	Object  string     `json:"object"` // always "list"
	Data    []Customer `json:"data"`
	HasMore bool       `json:"has_more"`
	URL     string     `json:"url"` // always "/v1/customers"
}

// StripeError is the body of the Stripe-like API's error responses.
type StripeError struct {
	Error StripeErrorDetail `json:"error"`
}

// StripeErrorDetail says what went wrong, as Stripe's error object.
type StripeErrorDetail struct {
	Type    string `json:"type"`            // invalid_request_error or api_error
	Code    string `json:"code,omitempty"`  // such as resource_missing or rate_limit
	Message string `json:"message"`         // for a human
	Param   string `json:"param,omitempty"` // the parameter at fault
}

// MarshalJSON writes the customer as the server serves it.
func (c Customer) MarshalJSON() ([]byte, error) {
	return appendCustomer(nil, &c, false), nil
}

// Customers' tail lists.
const (
	tailListed    = iota // live customers and tombstones
	tailCustomers        // live customers
)

// Pool sizes of customers (powers of two).
const (
	nCities       = 256
	nStates       = 64
	nPostCodes    = 512
	nPhones       = 512
	nDescriptions = 256
)

// Stream constants of the customers.
const (
	streamCustomerPools uint64 = 0x8979fb1bd1310ba6
	streamCustomer      uint64 = 0x98dfb5ac2ffd72db
	streamCustomerEdit  uint64 = 0xd01adfb7b8e1afed
	streamCustomerKey   uint64 = 0x6a267e96ba7c9045
	streamCustomerTag   uint64 = 0xf12c7f9924a19947
)

// customerPools are the Faker-made values customers are combined from,
// beside the user pools (names, emails, streets).
type customerPools struct {
	cities, states, postCodes, phones, descriptions []jsonText
}

func customerPoolsFor(seed int64) *customerPools {
	return cachedPools(poolKey{seed: seed, kind: streamCustomerPools}, buildCustomerPools)
}

func buildCustomerPools(seed int64) *customerPools {
	f := fakerFor(seedFor(seed, 0, streamCustomerPools, 0))
	a, ph, c := f.Address(), f.Phone(), f.Company()
	return &customerPools{
		cities:       draw(nCities, a.City),
		states:       draw(nStates, a.StateAbbr),
		postCodes:    draw(nPostCodes, a.PostCode),
		phones:       draw(nPhones, ph.E164Number),
		descriptions: draw(nDescriptions, c.CatchPhrase),
	}
}

// base62 is the alphabet of customer ids, in ASCII order, so that ids of
// one length order as their numbers.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// customerTagBits is what an id holds beside the 64 bits of its index:
// 62^14 > 2^83.
const customerTagBits = 19

// customerCodec turns an index into "cus_" and 14 base-62 digits holding
// mix64(index ^ key) and a 19-bit tag of the seed, like idCodec for UUIDs.
type customerCodec struct{ key, tagKey uint64 }

func newCustomerCodec(seed int64) customerCodec {
	return customerCodec{key: mix64(uint64(seed) ^ streamCustomerKey), tagKey: mix64(uint64(seed) ^ streamCustomerTag)}
}

func (c customerCodec) bits(i int) (hi, lo uint64) {
	v := mix64(uint64(i) ^ c.key)
	return mix64(v^c.tagKey) & (1<<customerTagBits - 1), v
}

func (c customerCodec) id(i int) string {
	hi, lo := c.bits(i)
	var b [18]byte
	return string(appendCustomerID(b[:0], hi, lo))
}

func appendCustomerID(dst []byte, hi, lo uint64) []byte {
	n := len(dst)
	dst = append(dst, "cus_00000000000000"...)
	for k := len(dst) - 1; k >= n+4; k-- {
		var r uint64
		hi, r = hi/62, hi%62
		lo, r = bits.Div64(r, lo, 62)
		dst[k] = base62[r]
	}
	return dst
}

func (c customerCodec) index(s string) (int, bool) {
	if len(s) != 18 || !strings.HasPrefix(s, "cus_") {
		return 0, false
	}
	var hi, lo uint64
	for k := 4; k < len(s); k++ {
		d := strings.IndexByte(base62, s[k])
		if d < 0 {
			return 0, false
		}
		h, l := bits.Mul64(lo, 62)
		var carry uint64
		lo, carry = bits.Add64(l, uint64(d), 0)
		hi = hi*62 + h + carry
	}
	if hi >= 1<<customerTagBits || mix64(lo^c.tagKey)&(1<<customerTagBits-1) != hi {
		return 0, false
	}
	i := unmix64(lo) ^ c.key
	if i > uint64(maxInt) {
		return 0, false
	}
	return int(i), true
}

func (customerCodec) compare(a, b string) int { return strings.Compare(a, b) }

// Stripe is the Stripe-like customers API of a [Server], at GET
// /v1/customers, generated from the server's seed, changing with the
// methods below, stamped with the server's clock. See the package
// documentation for what it serves and how it differs from Stripe.
//
// Its methods are safe for concurrent use, including while requests are
// in flight.
type Stripe struct {
	seed  int64
	lay   layout
	codec customerCodec
	users func() *userPools
	pools func() *customerPools
	store *store[Customer]
}

func newStripe(o *Options, c *clock, users func() *userPools) *Stripe {
	st := &Stripe{seed: o.Seed, codec: newCustomerCodec(o.Seed), users: users}
	st.lay = secondsLayout(o.Customers, o.TiesPerTimestamp, o.Step, c.Now(), st.codec)
	seed := o.Seed
	st.pools = func() *customerPools { return customerPoolsFor(seed) }
	st.store = newStore(&st.lay, c, 2, func(r *rec[Customer]) uint8 {
		if r.dead {
			return 1 << tailListed
		}
		return 1<<tailListed | 1<<tailCustomers
	})
	st.store.stamp = wholeSeconds
	return st
}

// customerProfile is the choice of pool entries that makes a customer.
type customerProfile struct {
	person                                    profile // name, email and street from the user pools
	city, state, postCode, phone, description int     // description -1: none
	balance                                   int64
	currency, tier, taxExempt, locale         int
	delinquent                                bool
	age                                       int64 // created is this many seconds before the base updated
}

var (
	currencies = []string{"usd", "usd", "eur", ""}
	tiers      = []string{"bronze", "silver", "gold", "platinum"}
	taxExempts = []string{"none", "none", "none", "none", "none", "none", "exempt", "reverse"}
	locales    = []string{"", "", "", "en-US", "fr-FR", "de-DE", "es-ES", "ja-JP"}
)

func (st *Stripe) profileOf(i, rev int) customerProfile {
	h := seedFor(st.seed, i, streamCustomer, 0)
	person := st.users().profileOf(int64(uint64(st.seed)^streamCustomer), i)
	if rev > 0 {
		h = seedFor(st.seed, i, streamCustomerEdit, rev)
		person.last = pick(mix64(h^streamCustomerEdit), 0, nLastNames)
	}
	h2 := mix64(h)
	pr := customerProfile{
		person:      person,
		city:        pick(h, 0, nCities),
		state:       pick(h, 8, nStates),
		postCode:    pick(h, 14, nPostCodes),
		phone:       pick(h, 23, nPhones),
		description: pick(h, 32, nDescriptions),
		currency:    pick(h, 40, 4),
		tier:        pick(h, 42, 4),
		taxExempt:   pick(h, 44, 8),
		locale:      pick(h, 47, 8),
		delinquent:  pick(h, 50, 16) == 0,
		age:         int64(h2 % maxAge),
	}
	if pick(h, 54, 2) == 0 {
		pr.description = -1
	}
	switch pick(h, 55, 4) {
	case 0:
		pr.balance = int64(h2>>32%100_000) - 50_000
	case 1:
		pr.balance = int64(h2 >> 40 % 10_000)
	}
	return pr
}

// invoicePrefix returns the invoice prefix of index i: 8 upper-case hex
// digits.
func (st *Stripe) invoicePrefix(i int) string {
	var b [8]byte
	return string(st.appendInvoicePrefix(b[:0], i))
}

func (st *Stripe) appendInvoicePrefix(dst []byte, i int) []byte {
	const upper = "0123456789ABCDEF"
	x := mix64(uint64(i) ^ st.codec.key ^ streamCustomerEdit)
	for k := 0; k < 8; k++ {
		dst = append(dst, upper[x>>60])
		x <<= 4
	}
	return dst
}

// customer materialises the customer of index i and profile pr, without
// timestamps.
func (st *Stripe) customer(i int, pr *customerProfile) Customer {
	up, cp := st.users(), st.pools()
	c := Customer{
		ID:     st.codec.id(i),
		Object: "customer",
		Address: CustomerAddress{
			City:       cp.cities[pr.city].raw,
			Country:    "US",
			Line1:      up.streets[pr.person.street].raw,
			PostalCode: cp.postCodes[pr.postCode].raw,
			State:      cp.states[pr.state].raw,
		},
		Balance:          pr.balance,
		Currency:         currencies[pr.currency],
		Delinquent:       pr.delinquent,
		Email:            up.email(&pr.person),
		InvoicePrefix:    st.invoicePrefix(i),
		Metadata:         map[string]string{"tier": tiers[pr.tier]},
		Name:             up.name(&pr.person),
		Phone:            cp.phones[pr.phone].raw,
		PreferredLocales: []string{},
		TaxExempt:        taxExempts[pr.taxExempt],
	}
	if pr.description >= 0 {
		c.Description = cp.descriptions[pr.description].raw
	}
	if l := locales[pr.locale]; l != "" {
		c.PreferredLocales = []string{l}
	}
	return c
}

// base returns base customer i as generated.
func (st *Stripe) base(i int) Customer {
	pr := st.profileOf(i, 0)
	c := st.customer(i, &pr)
	c.Updated = st.lay.baseTime(i).Unix()
	c.Created = c.Updated - pr.age
	return c
}

// CustomerAt returns base customer i (0 <= i < Options.Customers, oldest
// first) as generated from the seed, ignoring later changes, or the zero
// Customer for any other i.
func (st *Stripe) CustomerAt(i int) Customer {
	if i < 0 || i >= st.lay.n {
		return Customer{}
	}
	return st.base(i)
}

// Customer returns the live customer with this id as it is now.
func (st *Stripe) Customer(id string) (Customer, bool) {
	st.store.mu.RLock()
	defer st.store.mu.RUnlock()
	r, i, ok := st.store.lookup(id)
	switch {
	case !ok || (r != nil && r.dead):
		return Customer{}, false
	case r != nil:
		return r.v, true
	}
	return st.base(i), true
}

// Customers returns a snapshot of every live customer in listing order:
// newest first by (updated, id).
func (st *Stripe) Customers() []Customer {
	return st.snapshot(tailCustomers)
}

// Listing returns what a walk of GET /v1/customers serves, newest first:
// the live customers and the tombstones of the deleted ones.
func (st *Stripe) Listing() []Customer {
	return st.snapshot(tailListed)
}

func (st *Stripe) snapshot(tail int) []Customer {
	refs, _ := st.store.rowsAt(sel{class: anyClass, tail: tail}, 0, math.MaxInt)
	out := make([]Customer, len(refs))
	for k, r := range refs {
		if r.base {
			out[len(out)-1-k] = st.base(r.idx)
		} else {
			out[len(out)-1-k] = *r.v
		}
	}
	return out
}

// Deleted returns the ids of the deleted customers, most recently deleted
// first, as their tombstones are listed.
func (st *Stripe) Deleted() []string {
	ids := st.store.deadIDs()
	slices.Reverse(ids)
	return ids
}

// Len returns the number of live customers.
func (st *Stripe) Len() int { return st.store.live() }

// Update changes the live customer with this id as an account manager
// would: a new email, description, balance and metadata tier,
// deterministically from the seed and the number of updates it had;
// updated becomes Now (Unix seconds), which moves the customer to the top
// of the listing. It returns the customer, or false if no live customer
// has this id.
func (st *Stripe) Update(id string) (Customer, bool) {
	return st.store.edit(id, st.base, func(r *rec[Customer], now time.Time) bool {
		r.rev++
		pr := st.profileOf(r.idx, r.rev)
		up := st.users()
		c := r.v
		for range nLastNames { // the email always changes
			if up.email(&pr.person) != c.Email {
				break
			}
			pr.person.last = (pr.person.last + 1) % nLastNames
		}
		fresh := st.customer(r.idx, &pr)
		c.Email, c.Description, c.Balance, c.Metadata = fresh.Email, fresh.Description, fresh.Balance, fresh.Metadata
		c.Updated = now.Unix()
		r.v = c
		return true
	})
}

// Insert adds a new customer with a new id, created and updated Now,
// at the top of the listing, and returns it.
func (st *Stripe) Insert() Customer {
	return st.store.insert(func(i int, _ string, now time.Time) (Customer, int) {
		pr := st.profileOf(i, 0)
		c := st.customer(i, &pr)
		c.Created, c.Updated = now.Unix(), now.Unix()
		return c, 0
	})
}

// Delete deletes the live customer with this id: its tombstone, updated
// Now, goes to the top of the listing. It reports false if no live
// customer has this id.
func (st *Stripe) Delete(id string) bool {
	_, ok := st.store.edit(id, st.base, func(r *rec[Customer], now time.Time) bool {
		r.v = Customer{ID: id, Object: "customer", Deleted: true, Updated: now.Unix()}
		r.dead = true
		return true
	})
	return ok
}

// appendNullable appends s as a JSON string, or null if it is empty.
func appendNullable(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return appendJSONString(dst, s)
}

// appendCustomer appends c as served; miss applies the MissingFieldRate
// fault (no email and no updated).
func appendCustomer(dst []byte, c *Customer, miss bool) []byte {
	dst = appendJSONString(append(dst, `{"id":`...), c.ID)
	dst = append(dst, `,"object":"customer"`...)
	if c.Deleted {
		dst = append(dst, `,"deleted":true`...)
		return append(appendIntField(dst, "updated", c.Updated), '}')
	}
	a := &c.Address
	dst = appendNullable(append(dst, `,"address":{"city":`...), a.City)
	dst = appendNullable(appendKey(dst, "country"), a.Country)
	dst = appendNullable(appendKey(dst, "line1"), a.Line1)
	dst = appendNullable(appendKey(dst, "line2"), a.Line2)
	dst = appendNullable(appendKey(dst, "postal_code"), a.PostalCode)
	dst = appendNullable(appendKey(dst, "state"), a.State)
	dst = append(dst, '}')
	dst = appendIntField(dst, "balance", c.Balance)
	dst = appendIntField(dst, "created", c.Created)
	dst = appendNullable(appendKey(dst, "currency"), c.Currency)
	dst = appendJSONBool(appendKey(dst, "delinquent"), c.Delinquent)
	dst = appendNullable(appendKey(dst, "description"), c.Description)
	if !miss {
		dst = appendNullable(appendKey(dst, "email"), c.Email)
	}
	dst = appendJSONString(appendKey(dst, "invoice_prefix"), c.InvoicePrefix)
	dst = appendJSONBool(appendKey(dst, "livemode"), c.Livemode)
	dst = append(dst, `,"metadata":{`...)
	keys := make([]string, 0, len(c.Metadata))
	for k := range c.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for n, k := range keys {
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = appendJSONString(append(dst, ':'), c.Metadata[k])
	}
	dst = append(dst, '}')
	dst = appendNullable(appendKey(dst, "name"), c.Name)
	dst = appendNullable(appendKey(dst, "phone"), c.Phone)
	dst = append(dst, `,"preferred_locales":[`...)
	for n, l := range c.PreferredLocales {
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, l)
	}
	dst = append(dst, ']')
	dst = appendJSONString(appendKey(dst, "tax_exempt"), c.TaxExempt)
	if !miss {
		dst = appendIntField(dst, "updated", c.Updated)
	}
	return append(dst, '}')
}

// customerEncoder appends customers as served. A base customer is
// written straight from the pools. It is not safe for concurrent use.
type customerEncoder struct {
	st      *Stripe
	up      *userPools
	cp      *customerPools
	missing float64
}

func (e *customerEncoder) base(dst []byte, i int) []byte {
	st, up, cp := e.st, e.up, e.cp
	pr := st.profileOf(i, 0)
	dst = append(dst, `{"id":"`...)
	idAt := len(dst)
	hi, lo := st.codec.bits(i)
	dst = appendCustomerID(dst, hi, lo)
	miss := missing(dst[idAt:], e.missing)
	dst = append(dst, `","object":"customer","address":{"city":"`...)
	dst = append(dst, cp.cities[pr.city].esc...)
	dst = append(dst, `","country":"US","line1":"`...)
	dst = append(dst, up.streets[pr.person.street].esc...)
	dst = append(dst, `","line2":null,"postal_code":"`...)
	dst = append(dst, cp.postCodes[pr.postCode].esc...)
	dst = append(dst, `","state":"`...)
	dst = append(dst, cp.states[pr.state].esc...)
	dst = append(dst, `"}`...)
	dst = appendIntField(dst, "balance", pr.balance)
	updated := st.lay.baseTime(i).Unix()
	dst = appendIntField(dst, "created", updated-pr.age)
	dst = appendNullable(appendKey(dst, "currency"), currencies[pr.currency])
	dst = appendJSONBool(appendKey(dst, "delinquent"), pr.delinquent)
	if pr.description < 0 {
		dst = append(dst, `,"description":null`...)
	} else {
		dst = append(dst, `,"description":"`...)
		dst = append(dst, cp.descriptions[pr.description].esc...)
		dst = append(dst, '"')
	}
	if !miss {
		p := &pr.person
		dst = append(dst, `,"email":"`...)
		dst = append(dst, up.first[p.first].local...)
		dst = append(dst, '.')
		dst = append(dst, up.last[p.last].local...)
		dst = append(dst, '@')
		dst = append(dst, up.domains[p.domain].esc...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"invoice_prefix":"`...)
	dst = st.appendInvoicePrefix(dst, i)
	dst = append(dst, `","livemode":false,"metadata":{"tier":"`...)
	dst = append(dst, tiers[pr.tier]...)
	dst = append(dst, `"},"name":"`...)
	dst = append(dst, up.first[pr.person.first].esc...)
	dst = append(dst, ' ')
	dst = append(dst, up.last[pr.person.last].esc...)
	dst = append(dst, `","phone":"`...)
	dst = append(dst, cp.phones[pr.phone].esc...)
	if l := locales[pr.locale]; l != "" {
		dst = append(dst, `","preferred_locales":["`...)
		dst = append(dst, l...)
		dst = append(dst, `"],"tax_exempt":"`...)
	} else {
		dst = append(dst, `","preferred_locales":[],"tax_exempt":"`...)
	}
	dst = append(dst, taxExempts[pr.taxExempt]...)
	dst = append(dst, '"')
	if !miss {
		dst = appendIntField(dst, "updated", updated)
	}
	return append(dst, '}')
}

// customers appends refs, newest first (refs are in ascending order).
func (e *customerEncoder) customers(dst []byte, refs []ref[Customer]) []byte {
	dst = append(dst, '[')
	for k := range refs {
		if k > 0 {
			dst = append(dst, ',')
		}
		r := &refs[len(refs)-1-k]
		if r.base {
			dst = e.base(dst, r.idx)
		} else {
			dst = appendCustomer(dst, r.v, !r.v.Deleted && missing(r.v.ID, e.missing))
		}
	}
	return append(dst, ']')
}

// invalidParam is Stripe's answer to a bad parameter.
func invalidParam(param, format string, args ...any) error {
	e := badRequest(format, args...).(*httpError)
	e.param = param
	return e
}

// serveCustomers serves GET /v1/customers.
func (s *Server) serveCustomers(r *http.Request, d *decision, _ http.Header, dst []byte) ([]byte, error) {
	st := s.stripe
	q := query{r.URL.Query()}
	for _, k := range slices.Sorted(maps.Keys(q.Values)) {
		switch k {
		case "", "limit", "starting_after", "ending_before", "updated[gte]", "updated[gt]", "updated[lte]", "updated[lt]":
		default:
			return nil, invalidParam(k, "Received unknown parameter: %s", k)
		}
	}
	limit, err := q.int("limit", StripeLimit, 1)
	if err != nil {
		return nil, invalidParam("limit", "%v", err)
	}
	if limit > StripeMaxLimit {
		return nil, invalidParam("limit", "limit: %d is above the maximum %d", limit, StripeMaxLimit)
	}
	f := sel{class: anyClass, tail: tailListed}
	for _, b := range []struct {
		name string
		add  int64 // to the value, as a bound
		dst  *time.Time
	}{
		{"updated[gte]", 0, &f.since},
		{"updated[gt]", 1, &f.since},
		{"updated[lt]", 0, &f.before},
		{"updated[lte]", 1, &f.before},
	} {
		v := q.Get(b.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < -1<<40 || n > 1<<40 {
			return nil, invalidParam(b.name, "%s: %q is not a Unix time in seconds", b.name, v)
		}
		t := time.Unix(n+b.add, 0).UTC()
		if b.dst == &f.since && !f.since.IsZero() {
			t = maxTime(t, f.since)
		}
		if b.dst == &f.before && !f.before.IsZero() {
			t = minTime(t, f.before)
		}
		*b.dst = t
	}
	after, before := q.Get("starting_after"), q.Get("ending_before")
	if after != "" && before != "" {
		return nil, invalidParam("ending_before", "You may only specify one of these parameters: starting_after, ending_before.")
	}
	var p *position
	param := "starting_after"
	if before != "" {
		param = "ending_before"
	}
	if id := after + before; id != "" {
		pos, ok := st.position(id)
		if !ok {
			e := invalidParam(param, "No such customer: '%s'", id).(*httpError)
			e.code = "resource_missing"
			return nil, e
		}
		p = &pos
	}
	refs, more := st.store.descRows(f, p, before == "", limit, d.RepeatLastPage || d.SelfLinkLastPage)
	e := &customerEncoder{st: st, up: st.users(), cp: st.pools(), missing: d.MissingFieldRate}
	// As encoding/json writes CustomerList.
	dst = e.customers(append(dst, `{"object":"list","data":`...), refs)
	dst = appendJSONBool(append(dst, `,"has_more":`...), more)
	return append(dst, `,"url":"/v1/customers"}`...), nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// position returns the listing position of the customer (or tombstone)
// with this id.
func (st *Stripe) position(id string) (position, bool) {
	st.store.mu.RLock()
	defer st.store.mu.RUnlock()
	r, i, ok := st.store.lookup(id)
	switch {
	case !ok:
		return position{}, false
	case r != nil:
		return position{t: r.t, id: r.id}, true
	}
	return position{t: st.lay.baseTime(i), id: id}, true
}

// descRows returns up to n rows of f in ascending order, to be served in
// descending order: the newest when p is nil; else those just older than
// p when older is set, and those just newer than p otherwise. It reports
// whether more rows lie beyond the page in the direction of paging. With
// repeat, a page past the oldest row serves the oldest n rows again, and
// the oldest page claims more.
func (s *store[T]) descRows(f sel, p *position, older bool, n int, repeat bool) ([]ref[T], bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := s.view(f)
	total := v.total()
	var lo, hi int
	var more bool
	switch {
	case p == nil:
		lo, hi = total-n, total
		more = lo > 0 || (repeat && total > 0)
	case older:
		hi = s.countBeforeLocked(&v, p.t, p.id, false)
		lo = hi - n
		more = lo > 0
		if repeat && total > 0 {
			if hi == 0 {
				hi = min(n, total) // past the oldest row: the oldest page again
			}
			more = true
		}
	default:
		lo = s.countBeforeLocked(&v, p.t, p.id, true)
		hi = lo + n
		more = hi < total
	}
	lo, hi = max(lo, 0), min(hi, total)
	if lo >= hi {
		return nil, more
	}
	refs, _ := s.rowsAtLocked(f, lo, hi-lo)
	return refs, more
}
